"""The audit log, filtered and paged, newest first (``/api/v1/audit-events``). A client bound to
an organisation reads the events that name its organisation or its accounts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from idp.api import schemas
from idp.api.auth import Caller
from idp.api.operations import operation
from idp.api.paging import page_of
from idp.audit.models import AuditEvent, details_of
from idp.audit.refs import naming
from idp.extensions import db
from idp.orgs.events import org_refs
from idp.orgs.models import OrgAccount

TAG = "Audit"


def event_data(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": row.created_at,
        "event": row.event,
        "profile_id": row.profile_id,
        "actor_profile_id": row.actor_profile_id,
        "ip": row.ip,
        "request_id": row.request_id,
        "details": details_of(row.details),
    }


def _utc(moment: datetime) -> datetime:
    """The stored form of a moment: naive UTC (a moment without an offset is taken as UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _of_org(org_id: int) -> Any:
    accounts = db.session.execute(
        db.select(OrgAccount.connector, OrgAccount.account).where(OrgAccount.org_id == org_id)
    ).all()
    return naming(org_refs(org_id, accounts))


@operation(
    "GET",
    "/audit-events",
    scope="audit:read",
    tag=TAG,
    summary="Read the audit log",
    query=schemas.AuditQuery,
    response=schemas.AuditPage,
)
def list_audit_events(caller: Caller, query: schemas.AuditQuery):
    """Newest first; filter by event, profile, organisation and time (UTC)."""
    statement = db.select(AuditEvent)
    if query.event:
        statement = statement.where(AuditEvent.event == query.event)
    if query.profile_id:
        statement = statement.where(AuditEvent.profile_id == query.profile_id)
    for org_id in (query.organisation_id, caller.org_id):
        if org_id is not None:
            statement = statement.where(_of_org(org_id))
    if query.since:
        statement = statement.where(AuditEvent.created_at >= _utc(query.since))
    if query.until:
        statement = statement.where(AuditEvent.created_at < _utc(query.until))
    return page_of(statement, AuditEvent.id, query, event_data, newest_first=True)
