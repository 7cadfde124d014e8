"""The connector's tables: IP-telephony accounts, their call forwarding, their e-mail links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.connectors.sdk import (
    db,
    utcnow,
)

INACTIVE, ACTIVE, DISCONNECTED = "inactive", "active", "disconnected"
STATUSES = (INACTIVE, ACTIVE, DISCONNECTED)


class IptelAccount(db.Model):
    """An IP-telephony account; its password (portal and SIP alike) is sealed to the number."""

    __tablename__ = "iptel_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # E.164, the portal's user name
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2), default="uk")
    password_sealed: Mapped[str] = mapped_column(String(400))
    # inactive: only the e-mailed initial password is set; active after its first change.
    status: Mapped[str] = mapped_column(String(16), default=INACTIVE)
    forwarding_allowed: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IptelForwarding(db.Model):
    """One call forwarding condition of an account: where calls go and whether it is on."""

    __tablename__ = "iptel_forwardings"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("iptel_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    condition: Mapped[str] = mapped_column(String(16), primary_key=True)
    number: Mapped[str | None] = mapped_column(String(16))  # E.164; kept when switched off
    enabled: Mapped[bool] = mapped_column(default=False)
    delay_seconds: Mapped[int | None]  # "no answer" only
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IptelLink(db.Model):
    """A single-use e-mail link: a password reset, or the confirmation of a new address."""

    __tablename__ = "iptel_links"
    __table_args__ = (Index("ix_iptel_links_account_id_created_at", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("iptel_accounts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(8))  # "reset", "replaced" or "email"
    email: Mapped[str] = mapped_column(String(254))  # where it was sent (the new address)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
