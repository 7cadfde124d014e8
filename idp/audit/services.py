"""Record security events. Callers pass facts, never secrets; the caller's commit keeps them."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import g, has_request_context, request

from idp.audit.models import AuditEvent, AuditRef
from idp.audit.refs import refs_of
from idp.extensions import db
from idp.requestlog import current_request_id
from idp.timeutil import utcnow

log = logging.getLogger("idp.audit")


def record(event: str, profile_id: int | None = None, actor_id: int | None = None, **details: Any) -> int:
    """Store an audit event for ``profile_id`` in the current transaction, with the refs of the
    organisation and accounts its details name (idp.audit.refs); return its id.

    The row is written at once through the session's connection (one INSERT, no object for the ORM
    to flush): it is kept or lost with the caller's commit or rollback like everything else."""
    ip = user_agent = None
    if has_request_context():
        ip = request.remote_addr
        user_agent = (request.user_agent.string or "")[:300]
        client = g.get("audit_client")  # a machine client acting through the provisioning API
        if client:
            details.setdefault("client", client)
    stored = json.dumps(details, default=str)
    connection = db.session.connection()
    event_id: int = connection.execute(
        _INSERT_EVENT,
        {
            "created_at": utcnow(),
            "event": event,
            "profile_id": profile_id,
            "actor_profile_id": actor_id,
            "ip": ip,
            "user_agent": user_agent,
            "details": stored,
            "request_id": current_request_id(),
        },
    ).scalar_one()
    refs = refs_of(details)
    if refs:
        connection.execute(AuditRef.__table__.insert(), [{"event_id": event_id, "ref": ref} for ref in refs])
    log.info("audit %s profile=%s ip=%s %s", event, profile_id, ip, stored)
    return event_id


_INSERT_EVENT = AuditEvent.__table__.insert().returning(AuditEvent.__table__.c.id)


def recent_events(profile_id: int, limit: int = 20) -> list[AuditEvent]:
    """Return the newest events about a profile."""
    return list(
        db.session.scalars(
            db.select(AuditEvent)
            .where(AuditEvent.profile_id == profile_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
