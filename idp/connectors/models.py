"""Links between business profiles and the accounts they hold in a connector's service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.timeutil import utcnow

# A profile's role on a service account, lowest first: a viewer sees the cards and details, a user
# also changes the cabinet's settings, the owner does everything (disconnecting, the SIP password,
# giving and taking access).
VIEWER = "viewer"
USER = "user"
OWNER = "owner"
ACCOUNT_ROLES = (VIEWER, USER, OWNER)


def role_allows(held: str, needed: str) -> bool:
    """Tell whether the role ``held`` on an account may do what needs ``needed``."""
    return held in ACCOUNT_ROLES and ACCOUNT_ROLES.index(held) >= ACCOUNT_ROLES.index(needed)


class ServiceLink(db.Model):
    """A profile's access to one service account; each account has at most one owner."""

    __tablename__ = "service_links"
    __table_args__ = (
        UniqueConstraint("connector", "account", "profile_id", name="uq_service_links_account_profile"),
        Index(
            "uq_service_links_owner",
            "connector",
            "account",
            unique=True,
            sqlite_where=text("role = 'owner'"),
            postgresql_where=text("role = 'owner'"),
        ),
        # The staff console finds an account by its id or its label, of any connector.
        Index("ix_service_links_account", "account"),
        Index("ix_service_links_label", "label"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    connector: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default=OWNER)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
