"""The business profile: one person, one phone, one password, optional second factors."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.timeutil import utcnow


def new_subject() -> str:
    """Return an opaque, stable identifier for a profile (the OIDC ``sub``)."""
    return secrets.token_urlsafe(18)


class Profile(db.Model):
    __tablename__ = "profiles"
    __table_args__ = (
        # An address is unique only once somebody has proved they own it, so registering with
        # an address already in use reveals nothing about other profiles.
        Index(
            "uq_profiles_verified_email",
            "email",
            unique=True,
            sqlite_where=text("email_verified_at IS NOT NULL"),
            postgresql_where=text("email_verified_at IS NOT NULL"),
        ),
        # The staff console finds a profile by its address in any case (idp.orgs.search).
        Index("ix_profiles_email_lower", func.lower(text("email"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(32), unique=True, default=new_subject)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    email_verified_at: Mapped[datetime | None]
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    locale: Mapped[str] = mapped_column(String(5), default="uk")
    offer_version: Mapped[str] = mapped_column(String(32))
    offer_accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    sms_2fa_enabled: Mapped[bool] = mapped_column(default=False)
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    # Set by the operator's security staff: the profile cannot sign in until it is enabled again.
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def two_factor_enabled(self) -> bool:
        return self.sms_2fa_enabled or self.totp_enabled


class RecoveryCode(db.Model):
    """A one-time code that stands in for the second factor; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmailLink(db.Model):
    """A single-use e-mail link: the signed token carries this row's id."""

    __tablename__ = "email_links"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
