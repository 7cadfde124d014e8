"""/healthz and /readyz: what a load balancer asks, answered fast and without a session."""

from __future__ import annotations

import socket

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event

from idp import create_app
from idp.extensions import db
from idp.oauth.keys import ensure_keys


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def statements_during(app, call) -> list[str]:
    """Run ``call`` and return the SQL statements the app's engine ran meanwhile."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def with_keys(app) -> None:
    with app.app_context():
        ensure_keys(app.config["IDP_SIGNING_ALG"])


def test_healthz_answers_without_database_session_or_cache(app, client):
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "a-session-token-the-database-would-be-asked-about")
    answers = []
    statements = statements_during(app, lambda: answers.append(client.get("/healthz")))
    response = answers[0]
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert statements == []


def test_readyz_is_ready_when_everything_answers(app, client):
    with_keys(app)
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    redis = "ok" if app.config["IDP_REDIS_URL"] else "not configured"
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": redis, "signing_key": "ok"},
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_readyz_pings_the_configured_redis(app, client):
    with_keys(app)
    app.config["IDP_REDIS_URL"] = "redis://127.0.0.1:6379/0"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["redis"] == "ok"


def test_readyz_is_unavailable_when_redis_is_unreachable(app, client):
    with_keys(app)
    app.config["IDP_REDIS_URL"] = f"redis://:secret-password@127.0.0.1:{closed_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "redis": "unreachable", "signing_key": "ok"}
    assert "secret-password" not in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_readyz_is_unavailable_without_a_signing_key(app, client):
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] == "ok"
    assert checks["signing_key"] == "no current ES256 key (run: idp keys ensure)"


@pytest.fixture
def unreachable_database(settings, backend, tmp_path):
    """An app whose database cannot be reached: a closed port, or a SQLite file it cannot open."""
    if backend == "postgresql":
        url = f"postgresql+psycopg://postgres:db-password@127.0.0.1:{closed_port()}/test"
    else:
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'idp.sqlite3'}"
    app = create_app({**settings, "IDP_DATABASE_URL": url})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_readyz_is_unavailable_when_the_database_is_unreachable(unreachable_database):
    response = unreachable_database.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "unreachable"
    assert body["checks"]["signing_key"] == "could not be read"
    text = response.get_data(as_text=True)
    assert "db-password" not in text and "Traceback" not in text and "no-such-folder" not in text


def test_healthz_still_answers_when_the_database_is_unreachable(unreachable_database):
    response = unreachable_database.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_probes_answer_plain_http_in_production(settings):
    """A load balancer probes each instance over plain HTTP: no redirect to HTTPS, unlike a page."""
    production = {
        **settings,
        "IDP_ENV": "production",
        "IDP_ISSUER": "https://id.example",
        "IDP_SECRETS_KEY": Fernet.generate_key().decode(),
        "IDP_PASSWORD_HASH_MEMORY_KIB": 19456,
        "IDP_PASSWORD_HASH_ITERATIONS": 2,
        # Never connected to by /healthz; production only asks that they are named.
        "IDP_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none",
        "IDP_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0",
        "IDP_SMS_TRANSPORT": "smpp",
        "IDP_SMPP_SYSTEM_ID": "test",
        "IDP_MAIL_TRANSPORT": "smtp",
    }
    client = create_app(production).test_client()
    assert client.get("/healthz", base_url="http://10.0.0.5:8000").status_code == 200
    page = client.get("/signin", base_url="http://10.0.0.5:8000")
    assert page.status_code == 302 and page.headers["Location"].startswith("https://")
