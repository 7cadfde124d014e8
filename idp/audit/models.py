"""Audit trail of security events: who, what, when, from where; never a secret."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.extensions import db
from idp.timeutil import utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        # A profile's newest events (its security page, the staff console), and who did what.
        Index("ix_audit_events_profile_id_id", "profile_id", "id"),
        Index("ix_audit_events_actor_profile_id_id", "actor_profile_id", "id"),
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
    # What the event names (an organisation, service accounts), to find it by them (idp.audit.refs).
    refs: Mapped[list[AuditRef]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql"
    )


def details_of(stored: str | None) -> dict[str, Any]:
    """An event's stored details as a dict: empty when missing, unreadable or not an object."""
    try:
        found = json.loads(stored or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


class AuditRef(db.Model):
    """One organisation or service account an audit event names: ``org:<id>`` or
    ``account:<connector>:<account>``. Found by ``ref`` newest first through (ref, event_id)."""

    __tablename__ = "audit_event_refs"
    __table_args__ = (Index("ix_audit_event_refs_ref_event_id", "ref", "event_id"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id", ondelete="CASCADE"), primary_key=True)
    ref: Mapped[str] = mapped_column(String(200), primary_key=True)
