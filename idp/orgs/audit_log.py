"""The audit log as the operator's staff read it: filtered, newest first, paged, exported as CSV.

Filters: the profile an event is about, an organisation (events that name it, or one of its
accounts), a service account, the actor, the event's name (exact, or a prefix such as ``access.``)
and a time range. Pages go back by the id of the last row shown (a keyset: no page moves when new
events arrive). The CSV has one row per event; a cell that a spreadsheet would read as a formula
is quoted (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import aliased

from idp.audit.labels import event_label
from idp.audit.models import AuditEvent, details_of
from idp.audit.refs import account_ref, naming, org_ref
from idp.connectors import registry
from idp.extensions import db
from idp.orgs.models import Organisation
from idp.orgs.services import accounts_of
from idp.profiles.models import Profile

PAGE_SIZE = 50
BATCH = 500  # rows read at a time for the CSV
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Subject = aliased(Profile, name="subject")
Doer = aliased(Profile, name="doer")


@dataclass
class Filters:
    """What the log is narrowed to; None (or empty) means any."""

    profile_id: int | None = None
    actor_id: int | None = None
    org: Organisation | None = None
    accounts: list[str] = field(default_factory=list)  # one account, as it may be stored
    event: str = ""
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive


@dataclass
class Entry:
    """One event with the two people it names."""

    event: AuditEvent
    subject: Profile | None
    actor: Profile | None

    @property
    def details(self) -> dict[str, Any]:
        return details_of(self.event.details)


def _org_condition(org: Organisation) -> ColumnElement[bool]:
    """Events that name the organisation or one of its accounts."""
    accounts = [(row.connector, row.account) for row in accounts_of(org)]
    return naming([org_ref(org.id), *(account_ref(c, a) for c, a in accounts)])


def _account_condition(accounts: list[str]) -> ColumnElement[bool]:
    """Events that name one of ``accounts`` (as it may be stored) in any installed connector."""
    return naming([account_ref(c, a) for c in registry.installed() for a in accounts])


def _event_condition(event: str) -> ColumnElement[bool]:
    if event.endswith(("*", ".")):
        prefix = event.rstrip("*").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return AuditEvent.event.like(f"{prefix}%", escape="\\")
    return AuditEvent.event == event


def conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``filters``."""
    found: list[ColumnElement[bool]] = []
    if filters.profile_id is not None:
        found.append(AuditEvent.profile_id == filters.profile_id)
    if filters.actor_id is not None:
        found.append(AuditEvent.actor_profile_id == filters.actor_id)
    if filters.org is not None:
        found.append(_org_condition(filters.org))
    if filters.accounts:
        found.append(_account_condition(filters.accounts))
    if filters.event:
        found.append(_event_condition(filters.event))
    if filters.since is not None:
        found.append(AuditEvent.created_at >= filters.since)
    if filters.until is not None:
        found.append(AuditEvent.created_at < filters.until)
    return found


def _query(filters: Filters, before: int | None) -> Select[AuditEvent, Profile, Profile]:
    query = (
        db.select(AuditEvent, Subject, Doer)
        .outerjoin(Subject, Subject.id == AuditEvent.profile_id)
        .outerjoin(Doer, Doer.id == AuditEvent.actor_profile_id)
        .where(*conditions(filters))
    )
    if before is not None:
        query = query.where(AuditEvent.id < before)
    return query.order_by(AuditEvent.id.desc())


def page(
    filters: Filters, before: int | None = None, size: int = PAGE_SIZE
) -> tuple[list[Entry], int | None]:
    """The newest ``size`` events older than id ``before``, and the ``before`` of the next page
    (None when there is no older event)."""
    rows = db.session.execute(_query(filters, before).limit(size + 1)).all()
    entries = [Entry(event, subject, doer) for event, subject, doer in rows[:size]]
    more = len(rows) > size
    return entries, (entries[-1].event.id if more and entries else None)


def entries(filters: Filters) -> Iterator[Entry]:
    """Every event the filters keep, newest first, read in batches."""
    before: int | None = None
    while True:
        batch, before = page(filters, before, BATCH)
        yield from batch
        if before is None:
            return


# --- CSV ---------------------------------------------------------------------------------------

COLUMNS = (
    "id",
    "time_utc",
    "event",
    "label",
    "profile_id",
    "profile_phone",
    "profile_name",
    "actor_id",
    "actor_phone",
    "actor_name",
    "ip",
    "request_id",
    "reason",
    "ticket",
    "details",
)


def safe_cell(value: Any) -> str:
    """A cell as text that no spreadsheet runs as a formula: a leading = + - @ (or tab, CR) gets a
    quote before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _row(entry: Entry) -> list[Any]:
    event, subject, actor, details = entry.event, entry.subject, entry.actor, entry.details
    reason = details.get("reason") if event.event != "service.unlinked" else details.get("why")
    return [
        event.id,
        event.created_at.replace(microsecond=0).isoformat() + "Z",
        event.event,
        event_label(event.event),
        event.profile_id,
        subject.phone if subject else None,
        subject.full_name if subject else None,
        event.actor_profile_id,
        actor.phone if actor else None,
        actor.full_name if actor else None,
        event.ip,
        event.request_id,
        reason,
        details.get("ticket"),
        json.dumps(details, ensure_ascii=False, sort_keys=True),
    ]


def csv_lines(filters: Filters) -> Iterator[str]:
    """The filtered log as CSV text (UTF-8 with a byte order mark), a header and a line per event."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield "\ufeff" + flush()  # a byte order mark: spreadsheets then read the file as UTF-8
    for entry in entries(filters):
        writer.writerow([safe_cell(value) for value in _row(entry)])
        yield flush()
