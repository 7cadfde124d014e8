"""An organisation's SCIM tokens, and the people its directory (Entra ID, Okta) provisioned.

A ``ScimUser`` is the directory's record of a person: SCIM keeps it whole (``resource_json``,
without its id and meta) and this table adds what the organisation side needs: the invitation
sent to the person, the profile they registered and accepted it with, and whether the directory
wants them active. The membership of the organisation itself stays in ``org_memberships``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.timeutil import utcnow


class ScimToken(db.Model):
    """A bearer token an organisation's directory uses on ``/scim/v2/<org id>`` (its hash only)."""

    __tablename__ = "scim_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ScimUser(db.Model):
    """A person as the organisation's directory describes them, and who they became here."""

    __tablename__ = "scim_users"
    __table_args__ = (
        UniqueConstraint("org_id", "user_name_key", name="uq_scim_users_org_user_name"),
        Index("ix_scim_users_org_external_id", "org_id", "external_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a UUID: the SCIM id
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    user_name: Mapped[str] = mapped_column(String(254))
    user_name_key: Mapped[str] = mapped_column(String(254))  # userName folded: it is not case-exact
    external_id: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(default=True)
    resource_json: Mapped[str] = mapped_column(Text)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("org_invitations.id", ondelete="SET NULL"))
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScimGroupWant(db.Model):
    """A role the directory put a person in (a SCIM Group) before they accepted their invitation:
    given to them on accepting it."""

    __tablename__ = "scim_group_wants"
    __table_args__ = (
        UniqueConstraint("scim_user_id", "connector", "account", "role", name="uq_scim_group_wants"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    scim_user_id: Mapped[str] = mapped_column(ForeignKey("scim_users.id", ondelete="CASCADE"), index=True)
    connector: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
