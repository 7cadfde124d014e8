"""What an audit event names, as rows of ``audit_event_refs``: the organisation (``org:<id>``) and
the service accounts (``account:<connector>:<account>``) of its details. The organisation page, the
staff console's log and the provisioning API find an organisation's or an account's events by
these refs through one B-tree, newest first, instead of searching the details' text.

The details name an organisation as ``org`` (its id) and accounts as ``connector`` with
``account``, or as an ``accounts`` list of ``"connector:account"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.dialects import postgresql, sqlite

from idp.audit.models import AuditEvent, AuditRef, details_of
from idp.extensions import db

MAX_REF = 200  # the column's length; a longer account is not something a connector makes
MERGED_AT_MOST = 400  # refs merged branch by branch (SQLite allows 500 terms in a compound SELECT)
BACKFILL_BATCH = 5000  # events read at a time
INSERTED_AT_ONCE = 1000  # refs per INSERT (SQLite allows 32,766 parameters, PostgreSQL 65,535)


def org_ref(org_id: int) -> str:
    return f"org:{org_id}"


def account_ref(connector: str, account: str) -> str:
    return f"account:{connector}:{account}"


def refs_of(details: dict[str, Any]) -> list[str]:
    """The refs of an event's details, each once."""
    found: list[str] = []
    org = details.get("org")
    if isinstance(org, int) and not isinstance(org, bool):
        found.append(org_ref(org))
    connector, account = details.get("connector"), details.get("account")
    if isinstance(connector, str) and isinstance(account, str):
        found.append(account_ref(connector, account))
    listed = details.get("accounts")
    if isinstance(listed, list):
        for entry in listed:
            if isinstance(entry, str) and ":" in entry:
                found.append(account_ref(*entry.split(":", 1)))
    return [ref for ref in dict.fromkeys(found) if len(ref) <= MAX_REF]


def naming(refs: Iterable[str]) -> ColumnElement[bool]:
    """Events that name any of ``refs`` (a semi-join on the refs' index)."""
    return AuditEvent.id.in_(db.select(AuditRef.event_id).where(AuditRef.ref.in_(list(refs))))


def newest_naming(refs: Iterable[str], limit: int, before: int | None = None) -> list[int]:
    """The ids of the newest ``limit`` events that name any of ``refs`` (older than ``before``):
    each ref's newest ids read backwards from its index, then merged, so that an organisation with
    a million events costs what one with ten does."""
    refs = list(dict.fromkeys(refs))
    if len(refs) > MERGED_AT_MOST:  # an organisation of hundreds of accounts: one semi-join instead
        query = db.select(AuditEvent.id).where(naming(refs))
        if before is not None:
            query = query.where(AuditEvent.id < before)
        return list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))
    branches = []
    for ref in refs:
        branch = db.select(AuditRef.event_id).where(AuditRef.ref == ref)
        if before is not None:
            branch = branch.where(AuditRef.event_id < before)
        branches.append(branch.order_by(AuditRef.event_id.desc()).limit(limit).subquery().select())
    if not branches:
        return []
    merged = db.union(*branches).subquery()
    newest = db.select(merged.c.event_id).order_by(merged.c.event_id.desc()).limit(limit)
    return list(db.session.scalars(newest))


def backfill(after_id: int = 0) -> int:
    """Give the refs of their details to events that lack them (events an instance of the release
    before migration 0015 recorded while the new one was rolled out); run it again at will.
    Returns the refs added."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    added, last = 0, after_id
    while True:
        rows = db.session.execute(
            db.select(AuditEvent.id, AuditEvent.details)
            .where(
                AuditEvent.id > last,
                ~db.select(AuditRef.event_id).where(AuditRef.event_id == AuditEvent.id).exists(),
            )
            .order_by(AuditEvent.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return added
        last = rows[-1].id
        named = [(row.id, refs_of(details_of(row.details))) for row in rows]
        values = [{"event_id": event_id, "ref": ref} for event_id, refs in named for ref in refs]
        for start in range(0, len(values), INSERTED_AT_ONCE):  # two parameters a ref, within any limit
            statement = dialect.insert(AuditRef).values(values[start : start + INSERTED_AT_ONCE])
            returned = statement.on_conflict_do_nothing().returning(AuditRef.event_id)
            added += len(db.session.execute(returned).all())
        db.session.commit()
