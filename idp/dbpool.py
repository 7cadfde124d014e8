"""How the app's database connections are kept: SQLite in write-ahead-log mode, PostgreSQL's
connections checked only after they sat idle.

A ping before every use (``pool_pre_ping``) costs a round trip per request. Instead, as a
connection is taken from the pool, its socket is looked at (a server that ended it, by a restart or
``pg_terminate_backend``, has said so on it), and one that sat in the pool for ``IDLE_SECONDS`` is
pinged; either way a dead one is replaced (the pool tries a new connection). One that breaks in use
fails its request with a 503 (``idp.errors``), and SQLAlchemy then replaces every connection of the
pool made before it.
"""

from __future__ import annotations

import select
import time

from sqlalchemy import Engine, event, exc

IDLE_SECONDS = 10.0
UNICODE_LOWER = "unicode_lower"  # a SQL function of SQLite's connections: Python's str.lower


def tune(engine: Engine) -> None:
    """Set ``engine`` up for its database."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine, "checkout", _ping_if_idle)
        event.listen(engine, "checkin", _note_use)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Readers never wait for a writer, and a commit appends to the log instead of waiting twice
    for the disk: a crash of the process loses nothing, a power cut may lose the last moments
    (PostgreSQL is the production database)."""
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    # SQLite's own lower() folds ASCII only; searches of Cyrillic names use Python's (idp.orgs.people).
    dbapi_connection.create_function(UNICODE_LOWER, 1, _unicode_lower, deterministic=True)


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _note_use(_dbapi_connection, record) -> None:
    if record is not None:
        record.info["idp_returned_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    if _server_has_spoken(dbapi_connection):
        # Nothing was asked, yet the server sent something: a server ending the connection (a
        # restart, pg_terminate_backend) says so and closes it. Seen without a round trip.
        raise exc.DisconnectionError()
    returned = record.info.get("idp_returned_at")
    if returned is None or time.monotonic() - returned < IDLE_SECONDS:
        return  # new, or used a moment ago
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as error:  # the server restarted or the network dropped it meanwhile
        raise exc.DisconnectionError() from error


def _server_has_spoken(dbapi_connection) -> bool:
    """Whether an idle connection's socket has something to read (or is closed)."""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError, AttributeError):
        return True  # no socket any more
    return bool(readable)
