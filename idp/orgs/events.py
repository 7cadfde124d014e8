"""What the organisation page shows of the audit log: the organisation's recent security events,
and when each of its people last signed in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func

from idp.audit.labels import event_label
from idp.audit.models import AuditEvent, details_of
from idp.audit.refs import account_ref, newest_naming, org_ref
from idp.extensions import db
from idp.orgs.models import Organisation
from idp.orgs.services import account_label
from idp.profiles.models import Profile
from idp.sessions.models import WebSession


def org_event_label(event: str) -> str:
    """The localised name of an organisation's event (the one list of ``idp.audit.labels``)."""
    return event_label(event)


@dataclass
class EventRow:
    """One event as the page lists it."""

    label: str
    created_at: datetime
    actor: str | None  # who did it
    subject: str | None  # whom it concerns
    account: str | None  # the account's label
    reason: str | None


def org_events(
    org: Organisation, accounts: list[tuple[str, str]], whole_org: bool = True, limit: int = 20
) -> list[EventRow]:
    """The newest events that name ``org`` (when ``whole_org``) or one of ``accounts``."""
    ids = newest_naming(org_refs(org.id if whole_org else None, accounts), limit)
    if not ids:
        return []
    query = db.select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id.desc())
    rows = db.session.scalars(query)
    return _rows([(row, details_of(row.details)) for row in rows])


def org_refs(org_id: int | None, accounts: Iterable[tuple[str, str]]) -> list[str]:
    """The refs of an organisation (unless None) and of its accounts (idp.audit.refs)."""
    found = [account_ref(connector, account) for connector, account in accounts]
    return [org_ref(org_id), *found] if org_id is not None else found


def last_sign_ins(profile_ids: list[int]) -> dict[int, datetime]:
    """When each profile last signed in (its newest session's sign-in), by profile id."""
    if not profile_ids:
        return {}
    query = (
        db.select(WebSession.profile_id, func.max(WebSession.authenticated_at))
        .where(WebSession.profile_id.in_(profile_ids), WebSession.authenticated_at.is_not(None))
        .group_by(WebSession.profile_id)
    )
    return {profile_id: when for profile_id, when in db.session.execute(query) if when is not None}


def _account(details: dict[str, Any]) -> str | None:
    connector, account = details.get("connector"), details.get("account")
    if isinstance(connector, str) and isinstance(account, str):
        return account_label(connector, account)
    return None


def _rows(found: list[tuple[AuditEvent, dict[str, Any]]]) -> list[EventRow]:
    ids = {pid for row, _ in found for pid in (row.actor_profile_id, row.profile_id) if pid is not None}
    names = (
        {p.id: p.full_name for p in db.session.scalars(db.select(Profile).where(Profile.id.in_(ids)))}
        if ids
        else {}
    )
    return [
        EventRow(
            label=org_event_label(row.event),
            created_at=row.created_at,
            actor=names.get(row.actor_profile_id) if row.actor_profile_id else None,
            subject=names.get(row.profile_id)
            if row.profile_id and row.profile_id != row.actor_profile_id
            else None,
            account=_account(details),
            reason=details.get("reason") if row.event != "service.unlinked" else details.get("why"),
        )
        for row, details in found
    ]
