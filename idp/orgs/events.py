"""What the organisation page shows of the audit log: the organisation's recent security events,
and when each of its people last signed in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_

from idp.audit.labels import event_label
from idp.audit.models import AuditEvent
from idp.extensions import db
from idp.orgs.models import Organisation
from idp.orgs.services import account_label
from idp.profiles.models import Profile
from idp.sessions.models import WebSession

SCAN = 300  # newest candidate rows read before the exact check in Python


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
    """The newest events that name ``org`` (when ``whole_org``) or concern one of ``accounts``."""
    wanted = set(accounts)
    conditions = [account_condition(connector, account) for connector, account in accounts]
    if whole_org:
        conditions.append(org_condition(org.id))
    if not conditions:
        return []
    rows = db.session.scalars(
        db.select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.id.desc()).limit(SCAN)
    )
    found: list[tuple[AuditEvent, dict[str, Any]]] = []
    for row in rows:
        details = _details(row)
        if _concerns(details, org.id if whole_org else None, wanted):
            found.append((row, details))
        if len(found) == limit:
            break
    return _rows(found)


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


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def org_condition(org_id: int) -> ColumnElement[bool]:
    """Rows whose details name the organisation (``"org": <id>``)."""
    return or_(
        AuditEvent.details.like(f'%"org": {org_id},%'),
        AuditEvent.details.like(f'%"org": {org_id}}}'),
    )


def account_condition(connector: str, account: str) -> ColumnElement[bool]:
    """Rows whose details name the account (by its two fields, or in an ``accounts`` list)."""
    pair = and_(
        AuditEvent.details.like(f'%"connector": {_escape_like(json.dumps(connector))}%', escape="\\"),
        AuditEvent.details.like(f'%"account": {_escape_like(json.dumps(account))}%', escape="\\"),
    )
    listed = AuditEvent.details.like(f"%{_escape_like(json.dumps(f'{connector}:{account}'))}%", escape="\\")
    return or_(pair, listed)


def _details(row: AuditEvent) -> dict[str, Any]:
    try:
        details = json.loads(row.details or "{}")
    except ValueError:
        return {}
    return details if isinstance(details, dict) else {}


def _concerns(details: dict[str, Any], org_id: int | None, accounts: set[tuple[str, str]]) -> bool:
    """The exact check behind the LIKE filter: the organisation's id, or one of the accounts."""
    if org_id is not None and details.get("org") == org_id:
        return True
    if (details.get("connector"), details.get("account")) in accounts:
        return True
    listed = details.get("accounts")
    return isinstance(listed, list) and any(f"{c}:{a}" in listed for c, a in accounts)


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
