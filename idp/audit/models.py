"""Audit trail of security events: who, what, when, from where; never a secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.timeutil import utcnow
from idp.trigram import trigram_index


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        # A profile's newest events (its security page, the staff console), and who did what.
        Index("ix_audit_events_profile_id_id", "profile_id", "id"),
        Index("ix_audit_events_actor_profile_id_id", "actor_profile_id", "id"),
        # The events that name an organisation or an account: LIKE on the details (idp.orgs.events).
        trigram_index("ix_audit_events_details_trgm", "details"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    actor_profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text, default="{}")
    # The id of the request that recorded it (idp.requestlog), to find its lines in the logs.
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
