"""An organisation, its members, the service accounts it holds, invitations and operator staff."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.profiles.models import Profile
from idp.timeutil import utcnow
from idp.trigram import trigram_index

ACTIVE = "active"
SUSPENDED = "suspended"

# People in an organisation.
ORG_OWNER = "owner"
ORG_ADMIN = "admin"
ORG_MEMBER = "member"
ORG_ROLES = (ORG_MEMBER, ORG_ADMIN, ORG_OWNER)  # lowest first


class Organisation(db.Model):
    """A business customer: a legal entity or a sole proprietor, by country and registration number."""

    __tablename__ = "organisations"
    __table_args__ = (
        UniqueConstraint("country", "number", name="uq_organisations_country_number"),
        # The staff console's search by part of the name (ILIKE '%…%').
        trigram_index("ix_organisations_name_trgm", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2: UA, RU
    number_kind: Mapped[str] = mapped_column(String(8))  # edrpou, rntrc, inn, ogrn, ogrnip
    number: Mapped[str] = mapped_column(String(15))  # digits only
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


class Membership(db.Model):
    """A person in an organisation, with their role there (owner, admin or member)."""

    __tablename__ = "org_memberships"
    __table_args__ = (UniqueConstraint("org_id", "profile_id", name="uq_org_memberships_org_profile"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=ORG_MEMBER)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    profile: Mapped[Profile] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class OrgAccount(db.Model):
    """A service account that belongs to an organisation (the operator's provisioning says which)."""

    __tablename__ = "org_accounts"
    __table_args__ = (
        UniqueConstraint("connector", "account", name="uq_org_accounts_account"),
        Index("ix_org_accounts_account", "account"),  # the staff console's search, of any connector
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    connector: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Invitation(db.Model):
    """An invitation of a colleague, by SMS or e-mail, to one or more accounts with a role.

    Only the hash of the link's secret is kept; a resend makes a new secret (the old link dies).
    It is used once: ``accepted_at`` is set by a conditional update.
    """

    __tablename__ = "org_invitations"
    __table_args__ = (
        Index(
            "ix_org_invitations_pending",
            "org_id",
            sqlite_where=text("accepted_at IS NULL AND withdrawn_at IS NULL"),
            postgresql_where=text("accepted_at IS NULL AND withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    inviter_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(8))  # sms or email
    address: Mapped[str] = mapped_column(String(254))  # E.164 number or lower-cased e-mail address
    role: Mapped[str] = mapped_column(String(16))  # the role on every account: owner, user, viewer
    accounts_json: Mapped[str] = mapped_column(Text)  # [["multifon", "+79260250730"], ...]
    locale: Mapped[str] = mapped_column(String(5))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    sends: Mapped[int] = mapped_column(default=1)
    accepted_at: Mapped[datetime | None]
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    inviter: Mapped[Profile | None] = relationship(foreign_keys=[inviter_id])

    @property
    def accounts(self) -> list[tuple[str, str]]:
        """(connector, account) of every account the invitation gives access to."""
        return [(connector, account) for connector, account in json.loads(self.accounts_json)]

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and self.withdrawn_at is None and self.expires_at > utcnow()

    @property
    def state(self) -> str:
        """pending, accepted, withdrawn or expired."""
        if self.accepted_at is not None:
            return "accepted"
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "pending" if self.expires_at > utcnow() else "expired"


# The operator's staff.
SUPPORT = "support"
MANAGER = "manager"
SECURITY = "security"
STAFF_ROLES = (SUPPORT, MANAGER, SECURITY)


class StaffMember(db.Model):
    """An operator employee's profile with a staff role (``idp staff grant``)."""

    __tablename__ = "staff_members"

    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    profile: Mapped[Profile] = relationship(lazy="joined")
