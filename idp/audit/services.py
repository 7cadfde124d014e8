"""Record security events. Callers pass facts, never secrets; the caller's commit stores them."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import g, has_request_context, request

from idp.audit.models import AuditEvent, AuditRef
from idp.audit.refs import refs_of
from idp.extensions import db
from idp.requestlog import current_request_id

log = logging.getLogger("idp.audit")


def record(
    event: str, profile_id: int | None = None, actor_id: int | None = None, **details: Any
) -> AuditEvent:
    """Add an audit event for ``profile_id`` to the current transaction, with the refs of the
    organisation and accounts its details name (idp.audit.refs)."""
    ip = user_agent = None
    request_id = current_request_id()
    if has_request_context():
        ip = request.remote_addr
        user_agent = (request.user_agent.string or "")[:300]
        client = g.get("audit_client")  # a machine client acting through the provisioning API
        if client:
            details.setdefault("client", client)
    entry = AuditEvent(
        event=event,
        profile_id=profile_id,
        actor_profile_id=actor_id,
        ip=ip,
        user_agent=user_agent,
        details=json.dumps(details, default=str),
        request_id=request_id,
        refs=[AuditRef(ref=ref) for ref in refs_of(details)],
    )
    db.session.add(entry)
    log.info("audit %s profile=%s ip=%s %s", event, profile_id, ip, entry.details)
    return entry


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
