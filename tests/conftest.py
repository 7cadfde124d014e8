"""Fixtures for every test: an app on each configured database, a client and helpers.

The suite runs on SQLite always and, when ``IDP_TEST_DATABASE_URL`` is set, again on PostgreSQL
with Flask-Limiter's counters in the Redis of ``IDP_TEST_REDIS_URL``. In CI (``CI`` set) both
must be configured: a missing database is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy

from idp import create_app
from idp.connectors.cabinet import finish_backend_reads
from idp.extensions import db, limiter
from tests.helpers.records import Outbox, Users
from tests.helpers.templates import share_compiled_templates

pytest_plugins = ["tests.peers.fixtures", "tests.peers.registrar"]

PG_URL = os.environ.get("IDP_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
# One schema, connection name and Redis key prefix per test process, so concurrent runs and the
# workers of one run (pytest -n, each its own process) never share tables or rate-limit counters.
PG_SCHEMA = f"idp_test_{os.getpid()}"
PG_APPLICATION = f"idp-test-{os.getpid()}"


@sqlalchemy.event.listens_for(sqlalchemy.Engine, "connect")
def _no_sqlite_fsync(dbapi_connection, _record) -> None:
    """Test databases need not survive a power cut: SQLite commits without waiting for the disk
    (PostgreSQL's sessions likewise set synchronous_commit off, in ``postgres_url``)."""
    if type(dbapi_connection).__module__ == "sqlite3":
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def pytest_configure(config):
    if os.environ.get("CI") and not (PG_URL and REDIS_URL):
        raise pytest.UsageError("CI must set IDP_TEST_DATABASE_URL and IDP_TEST_REDIS_URL")
    if PG_URL:
        _trigrams_in_public()


def _trigrams_in_public() -> None:
    """pg_trgm (migration 0012) in the ``public`` schema, which no test drops: a migration that
    installs it itself puts it in its test's schema, and dropping that schema would take with it
    every trigram index of the other test processes."""
    engine = sqlalchemy.create_engine(_sqlalchemy_url(PG_URL))
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    except sqlalchemy.exc.IntegrityError:
        pass  # another test process created it at the same moment
    finally:
        engine.dispose()


def pytest_collection_modifyitems(config, items):
    """A test of Business ID beside a SIP registrar (``tests/registrar``, the registrar journey) runs
    with both on the same kind of database: SQLite and SQLite, PostgreSQL and PostgreSQL."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        both = "registrar" in params and "backend" in params
        mismatched = both and params["registrar"] != params["backend"]
        (dropped if mismatched else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _sqlalchemy_url(url: str) -> str:
    return (
        url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    )


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    """The database the test runs on: ``sqlite`` or ``postgresql``."""
    if request.param == "postgresql":
        _recreate_schema(PG_SCHEMA)
        yield request.param
        _drop_schema(PG_SCHEMA)
    else:
        yield request.param


def _recreate_schema(name: str) -> None:
    engine = sqlalchemy.create_engine(_sqlalchemy_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {name}"))
    engine.dispose()


def _drop_schema(name: str) -> None:
    engine = sqlalchemy.create_engine(_sqlalchemy_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    engine.dispose()


def postgres_url(schema: str) -> str:
    """The test database URL with ``schema`` first on the search path."""
    url = _sqlalchemy_url(PG_URL)
    return (
        url
        + ("&" if "?" in url else "?")
        + f"options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff&application_name={PG_APPLICATION}"
    )


def settings_for(backend: str, tmp_path) -> dict:
    """Return the IDP_* settings of a test app on ``backend``."""
    settings = {
        "IDP_SECRET_KEY": "test-secret-key-0123456789-abcdefghijkl",
        "IDP_ISSUER": "http://127.0.0.1:5000",
        "IDP_DATA_DIR": str(tmp_path),
        "IDP_LOG_LEVEL": "WARNING",
        "IDP_POW_MAX_NUMBER": 5000,  # proofs of work solved in a few milliseconds
        # Argon2id at a test's cost (a hash in well under a millisecond instead of 30 ms); the
        # tests of the OWASP parameters themselves ask for the defaults.
        "IDP_PASSWORD_HASH_MEMORY_KIB": 64,
        "IDP_PASSWORD_HASH_ITERATIONS": 1,
    }
    if backend == "postgresql":
        settings["IDP_DATABASE_URL"] = postgres_url(PG_SCHEMA)
        settings["IDP_REDIS_URL"] = REDIS_URL
        # limiter.reset() between tests then clears only this process's counters.
        settings["RATELIMIT_STORAGE_OPTIONS"] = {"key_prefix": PG_APPLICATION}
    return settings


@pytest.fixture
def settings(request, backend, tmp_path) -> dict:
    """Settings of the app under test; a test may change them before using ``app``.

    Pages, SMS and e-mails are in English unless a request asks for another language, and
    ``@pytest.mark.idp_settings(...)`` sets further IDP_* values.
    """
    values = settings_for(backend, tmp_path)
    values["IDP_DEFAULT_LOCALE"] = "en"
    marker = request.node.get_closest_marker("idp_settings")
    if marker:
        values.update(marker.kwargs)
    return values


@pytest.fixture
def app(settings, backend):
    """A fresh app with empty tables and empty rate-limit counters."""
    app = create_app(settings)
    share_compiled_templates(app)
    with app.app_context():
        empty_tables(backend)
        limiter.reset()
    yield app
    finish_backend_reads(app)  # a read that outlived its page may still open a connection
    with app.app_context():
        db.session.remove()
        dispose(db.engine)
    for engine in app.extensions.get("idp_registrar_engines", {}).values():
        dispose(engine)


# Building the schema costs a test more than most tests take (0.2 s on SQLite, 0.5 s on PostgreSQL),
# so it is built once per test process: SQLite's database file is copied from a template made with
# the same tables, and PostgreSQL's schema (one per process) is emptied row by row, its sequences
# restarted, which takes a hundredth of the time. Tables a later test's models add are created then.
_SQLITE_TEMPLATES: dict[frozenset[str], Path] = {}
_POSTGRES_TABLES: set[str] = set()


def empty_tables(backend: str) -> None:
    """Give the current app every table of the models, with no rows (in its app context)."""
    tables = frozenset(db.metadata.tables)
    if backend == "postgresql":
        if not tables <= _POSTGRES_TABLES:
            db.drop_all()
            db.create_all()
            _POSTGRES_TABLES.update(tables)
            return
        _delete_every_row()
        return
    path = Path(db.engine.url.database or "")
    template = _SQLITE_TEMPLATES.get(tables)
    if template is not None and not path.exists():
        db.engine.dispose()
        shutil.copyfile(template, path)
        return
    db.create_all()
    if template is None and path.exists():
        db.engine.dispose()
        copy = Path(tempfile.mkdtemp(prefix="idp-schema-")) / "template.sqlite3"
        shutil.copyfile(path, copy)
        _SQLITE_TEMPLATES[tables] = copy


def _delete_every_row() -> None:
    tables = reversed(db.metadata.sorted_tables)
    statements = [f'DELETE FROM "{table.name}"' for table in tables]  # noqa: S608 - the models' names
    with db.engine.begin() as conn:
        sequences = conn.exec_driver_sql(
            "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()"
        ).scalars()
        statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
        conn.exec_driver_sql("; ".join(statements))


def dispose(engine: sqlalchemy.Engine, wait: float = 30) -> None:
    """Close the engine's connections once every one is back in its pool.

    ``engine.dispose()`` closes only the connections in the pool: one still checked out (a request
    thread or a backend read still running) would go back to the discarded pool later and be
    garbage-collected unclosed, failing some later test with a ResourceWarning. So wait for it,
    and fail here, naming the threads, if it does not come back.
    """
    checked_out = getattr(engine.pool, "checkedout", lambda: 0)
    deadline = time.monotonic() + wait
    while checked_out() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = checked_out()
    engine.dispose()
    if left:
        threads = ", ".join(sorted(t.name for t in threading.enumerate()))
        pytest.fail(
            f"{left} database connection(s) still in use {wait:.0f} s after the test; threads: {threads}"
        )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def outbox(app) -> Outbox:
    """Read SMS codes and e-mail links the app has sent."""
    return Outbox(app)


@pytest.fixture
def users(app) -> Users:
    """Create profiles directly through the profile service."""
    return Users(app)
