"""The registrar's database: one engine per app, and the rows of ``schema.subscriber``.

SQLite (the embedded default) is switched to WAL so that Kamailio reads while Business ID writes
(Kamailio's db_sqlite has no busy timeout and would see "database is locked" otherwise).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy
from flask import current_app
from sqlalchemy import Engine, event

from idp.registrar.schema import CALL_SETTINGS, metadata, subscriber

Row = dict[str, Any]
#: The columns Business ID writes; ``id``, ``password`` and ``ha1b`` keep their defaults.
COLUMNS = ("username", "domain", "ha1", "ha1_sha256", "service", "account", *CALL_SETTINGS)


def enabled() -> bool:
    """Whether a registrar is configured (``IDP_REGISTRAR_DATABASE_URL``)."""
    return bool(current_app.config["IDP_REGISTRAR_DATABASE_URL"])


def engine() -> Engine:
    """The registrar database's engine of this app, made on first use; its tables are created
    when missing (on PostgreSQL the operator may create them beforehand with
    ``deploy/kamailio/registrar-postgres.sql``)."""
    engines = current_app.extensions.setdefault("idp_registrar_engines", {})
    url = current_app.config["IDP_REGISTRAR_DATABASE_URL"]
    if url not in engines:
        made = sqlalchemy.create_engine(_driver_url(url), pool_pre_ping=True)
        if made.dialect.name == "sqlite":
            event.listen(made, "connect", _sqlite_for_a_reader_beside)
        metadata.create_all(made)
        engines[url] = made
    return engines[url]


def _driver_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_for_a_reader_beside(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA busy_timeout=5000")


def _of(service: str, account: str):
    return (subscriber.c.service == service) & (subscriber.c.account == account)


def row_of(service: str, account: str) -> Row | None:
    """The registrar's row of an account, or None."""
    with engine().connect() as conn:
        found = conn.execute(sqlalchemy.select(subscriber).where(_of(service, account))).first()
    return dict(found._mapping) if found else None


def rows(service: str | None = None) -> list[Row]:
    """Every row of the registrar, or those of one service."""
    query = sqlalchemy.select(subscriber).order_by(subscriber.c.service, subscriber.c.account)
    if service is not None:
        query = query.where(subscriber.c.service == service)
    with engine().connect() as conn:
        return [dict(found._mapping) for found in conn.execute(query)]


def put(row: Row) -> None:
    """Store the row of ``row["service"]``/``row["account"]``, replacing what was there; a row of
    another account with the same login is removed (a number moved to another service)."""
    values = {name: row[name] for name in COLUMNS}
    key = _of(row["service"], row["account"])
    with engine().begin() as conn:
        conn.execute(
            sqlalchemy.delete(subscriber).where(
                subscriber.c.username == row["username"], subscriber.c.domain == row["domain"], ~key
            )
        )
        if conn.execute(sqlalchemy.update(subscriber).where(key).values(values)).rowcount == 0:
            conn.execute(sqlalchemy.insert(subscriber).values(values))


def remove(service: str, account: str) -> None:
    """Remove an account's row: its login is refused from the next REGISTER on."""
    with engine().begin() as conn:
        conn.execute(sqlalchemy.delete(subscriber).where(_of(service, account)))
