"""Fixtures for every test: an app on each configured database, a client and helpers.

The suite runs on SQLite always and, when ``IDP_TEST_DATABASE_URL`` is set, again on PostgreSQL
with Flask-Limiter's counters in the Redis of ``IDP_TEST_REDIS_URL``. In CI (``CI`` set) both
must be configured: a missing database is a failure, not a skip.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy

from idp import create_app
from idp.extensions import db, limiter
from tests.helpers import Outbox, Users

pytest_plugins = ["tests.peers.fixtures"]

PG_URL = os.environ.get("IDP_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_configure(config):
    if os.environ.get("CI") and not (PG_URL and REDIS_URL):
        raise pytest.UsageError("CI must set IDP_TEST_DATABASE_URL and IDP_TEST_REDIS_URL")


def _sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith(
        "postgresql://") else url


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    """The database the test runs on: ``sqlite`` or ``postgresql``."""
    if request.param == "postgresql":
        engine = sqlalchemy.create_engine(_sqlalchemy_url(PG_URL))
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("DROP SCHEMA IF EXISTS idp_test CASCADE"))
            conn.execute(sqlalchemy.text("CREATE SCHEMA idp_test"))
        engine.dispose()
    return request.param


def test_settings(backend: str, tmp_path) -> dict:
    """Return the IDP_* settings of a test app on ``backend``."""
    settings = {
        "IDP_SECRET_KEY": "test-secret-key-0123456789-abcdefghijkl",
        "IDP_ISSUER": "http://127.0.0.1:5000",
        "IDP_DATA_DIR": str(tmp_path),
        "IDP_LOG_LEVEL": "WARNING",
    }
    if backend == "postgresql":
        url = _sqlalchemy_url(PG_URL)
        settings["IDP_DATABASE_URL"] = url + ("&" if "?" in url else "?") + \
            "options=-csearch_path%3Didp_test"
        settings["IDP_REDIS_URL"] = REDIS_URL
    return settings


test_settings.__test__ = False  # a helper, not a test


@pytest.fixture
def settings(backend, tmp_path) -> dict:
    """Settings of the app under test; a test may change them before using ``app``."""
    return test_settings(backend, tmp_path)


@pytest.fixture
def app(settings, backend):
    """A fresh app with empty tables and empty rate-limit counters."""
    app = create_app(settings)
    with app.app_context():
        if backend == "postgresql":
            db.drop_all()
        db.create_all()
        limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


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
