"""Generations: one number per kind of thing a process keeps in memory, shared by every instance.

Clients and signing keys are read on every machine request, so each process keeps them in memory.
A change to one of them (a row added, changed or deleted, through the ORM or a bulk statement)
adds one to its kind's generation in the same transaction; every process compares the generation
its copies were made at with the stored one at most every ``CHECK_SECONDS`` and drops them when
they differ. A client deleted or a key rotated through one instance is thus seen by all the others
within a fraction of a second, and by the process that made the change at once.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import String, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from idp.extensions import db

CHECK_SECONDS = 0.25  # how stale another process's change may be seen here (the goal: under 1 s)
KINDS = ("clients", "signing_keys")


class CacheGeneration(db.Model):
    """How many times the rows of one kind have changed (``KINDS``)."""

    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Generations:
    """What this process knows of the stored generations: read at most every CHECK_SECONDS."""

    def __init__(self, engine) -> None:
        self.engine = engine
        # Lone reads (a generation, a client, a token's grant) need no transaction: in autocommit
        # each is one round trip to PostgreSQL instead of three (BEGIN, the query, ROLLBACK).
        self.reads = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.known: dict[str, int] = {}
        self.read_at = 0.0
        self.lock = threading.Lock()

    def current(self, kind: str) -> int:
        """The generation of ``kind`` as last read (read again when the last reading is old)."""
        if time.monotonic() - self.read_at >= CHECK_SECONDS:
            self.refresh()
        return self.known.get(kind, 0)

    def refresh(self) -> None:
        with self.lock:
            if time.monotonic() - self.read_at < CHECK_SECONDS:
                return  # another thread has just read them
            with self.reads.connect() as connection:
                rows = connection.execute(select(CacheGeneration.name, CacheGeneration.value)).all()
            self.known = {name: value for name, value in rows}
            self.read_at = time.monotonic()

    def changed_here(self) -> None:
        """This process committed a change: read again before the next use."""
        self.read_at = 0.0


def generations(app) -> Generations:
    """The app's view of the stored generations."""
    return app.extensions["idp_generations"]


def current(app, kind: str) -> int:
    """The generation of ``kind`` that a cached copy must have been made at to be used."""
    return generations(app).current(kind)


# --- bumping a generation with the change that makes it --------------------------------------

_WATCHED: dict[type, str] = {}


def watch(model: type, kind: str) -> None:
    """Add one to ``kind``'s generation whenever a row of ``model`` changes."""
    _WATCHED[model] = kind


def _bump(session: Session, kinds: set[str]) -> None:
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    table = CacheGeneration.__table__
    for kind in sorted(kinds):  # one order everywhere: two transactions never wait on each other
        statement = dialect.insert(table).values(name=kind, value=1)
        connection.execute(
            statement.on_conflict_do_update(index_elements=["name"], set_={"value": table.c.value + 1})
        )
    session.info.setdefault("idp_generations_bumped", set()).update(kinds)


@event.listens_for(Session, "before_flush")
def _rows_changed(session: Session, _context, _instances) -> None:
    kinds = {
        _WATCHED[type(row)]
        for rows in (session.new, session.dirty, session.deleted)
        for row in rows
        if type(row) in _WATCHED and (row not in session.dirty or session.is_modified(row))
    }
    if kinds:
        _bump(session, kinds)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state) -> None:
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    kind = _WATCHED.get(state.bind_mapper.class_)
    if kind is not None:
        _bump(state.session, {kind})


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop("idp_generations_bumped", None):
        from flask import current_app, has_app_context

        if has_app_context() and "idp_generations" in current_app.extensions:
            generations(current_app).changed_here()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop("idp_generations_bumped", None)


def init_app(app) -> None:
    """Give ``app`` its view of the stored generations."""
    with app.app_context():
        engine: Any = db.engine
    app.extensions["idp_generations"] = Generations(engine)
