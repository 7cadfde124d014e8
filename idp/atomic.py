"""Statements that decide and write in one step, so simultaneous requests cannot both pass a limit.

Every limit of the product (tries, single use, throttles, budgets) is enforced by one of these or
by a conditional ``UPDATE … WHERE`` whose row count says who won, on SQLite and PostgreSQL alike:

- ``insert_if_absent``: an upsert that does nothing when the row exists (the first failure of a
  throttle, a lock row), telling whether this statement created it; ``insert_absent`` does it for
  several rows in one statement.
- ``serialize_on``: hold a per-key write lock until the transaction ends, for a limit that has to
  count rows before it adds one (a daily budget kept as rows).
- ``commit_counts``: commit what such statements counted without making the session read again
  the objects it has loaded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db


def insert_if_absent(model: type[db.Model], **values: Any) -> bool:
    """Insert a row unless one with the same primary key exists; return whether it was inserted."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    table = model.__table__
    keys = list(table.primary_key.columns)
    statement = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[key.name for key in keys])
        .returning(*keys)
    )  # the row count of such an INSERT is not reported everywhere
    return db.session.execute(statement).first() is not None


def insert_absent(model: Any, rows: list[dict[str, Any]]) -> set[Any]:
    """Insert those of ``rows`` whose single-column primary key is not stored yet, in one statement;
    return the keys it inserted. Pass the rows in a fixed order (sorted by key): simultaneous
    statements then take the rows' locks in the same order and never wait for each other in a ring."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    (key,) = model.__table__.primary_key.columns
    # Rows as parameters, not in the statement: SQLAlchemy caches its compiled form and sends the
    # rows as one multi-row INSERT ("insertmanyvalues").
    statement = dialect.insert(model.__table__).on_conflict_do_nothing(index_elements=[key.name])
    return set(db.session.connection().execute(statement.returning(key), rows).scalars())


class SerialLock(db.Model):
    """One row per key that transactions lock in turn (see ``serialize_on``)."""

    __tablename__ = "serial_locks"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)


def serialize_on(key: str) -> None:
    """Make transactions that pass the same ``key`` run one after the other from here on.

    The UPDATE takes the row's lock on PostgreSQL and the database's write lock on SQLite; either is
    held until the caller commits or rolls back, so what it counts next cannot change under it.
    """
    insert_if_absent(SerialLock, key=key)
    db.session.execute(db.update(SerialLock).where(SerialLock.key == key).values(key=key))


def commit_counts() -> None:
    """Commit what statements alone wrote (counters, marks), keeping the session's loaded objects
    as they are: none of them changed, so reading them all again after the commit is waste."""
    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep
