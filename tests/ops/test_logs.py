"""Logs in production: JSON or text lines, one line per request with its id, that id in the
response and in the audit events, and never a secret, a code or a token in any line."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade

from idp import create_app
from idp.api.audit import event_data
from idp.audit.models import AuditEvent
from idp.audit.services import record
from idp.extensions import db
from idp.logs import TEXT_FORMAT, JsonLines, RedactSecrets, gunicorn_logconfig, log_format
from idp.orgs.audit_log import COLUMNS, Entry, _row
from idp.requestlog import AddRequestId, request_log_enabled
from tests.conftest import _drop_schema, _recreate_schema, postgres_url, settings_for
from tests.helpers.pages import csrf_token
from tests.helpers.records import PASSWORD
from tests.oauth.helpers import AuthorizationRequest, authorize, exchange, register_client

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0013_request_ids.py"
UNSAFE_IDS = ["", "has space", "a" * 65, "ünicode", "a;b", "<script>", "id\r\nX-Evil: 1"]
SAFE_IDS = ["a", "abc-DEF_1.2", "Z" * 64, "6f1c2a9e-3b7d-4c1a-9a2e-0d5f7b8c9e10"]


class BufferedClient(FlaskClient):
    """A test client whose responses are closed at once, as a WSGI server closes them: the
    request line is written when the response is closed."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


class Lines:
    """What the root logger's one handler wrote while the app served the test."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(logging.Formatter(TEXT_FORMAT))

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict]:
        """Every line, parsed as JSON (fails on a line that is not one JSON object)."""
        return [json.loads(line) for line in self.text.splitlines()]

    def requests(self) -> list[dict]:
        return [line for line in self.records() if line["logger"] == "idp.request"]

    def request_lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if " idp.request: " in line]


@pytest.fixture(params=["json", "text"])
def log_format_name(request) -> str:
    return request.param


@pytest.fixture
def settings(settings, log_format_name):
    settings.setdefault("IDP_LOG_FORMAT", log_format_name)
    settings.setdefault("IDP_REQUEST_LOG", True)
    return settings


@pytest.fixture
def lines():
    """Make our handler the root logger's only one (as gunicorn leaves it to the app) while the
    app is built and serves; pytest's own handlers come back afterwards, untouched."""
    lines, root = Lines(), logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers[:] = [lines.handler]
    root.setLevel(logging.INFO)
    yield lines
    root.handlers[:] = saved
    root.setLevel(level)


@pytest.fixture
def app(lines, app):
    app.test_client_class = BufferedClient
    return app


# --- JSON lines -----------------------------------------------------------------------------------


@pytest.mark.parametrize("log_format_name", ["json"])
def test_json_lines_parse_and_carry_the_request_fields(app, client, lines):
    response = client.get("/signin", headers={"User-Agent": "Mozilla/5.0 " + "x" * 500})
    assert response.status_code == 200
    [line] = lines.requests()
    assert line["level"] == "INFO" and line["message"] == "GET /signin 200"
    assert datetime.fromisoformat(line["time"]).utcoffset() == timedelta(0)
    assert {k: line[k] for k in ("method", "path", "endpoint", "status", "remote_addr")} == {
        "method": "GET",
        "path": "/signin",
        "endpoint": "auth.signin",
        "status": 200,
        "remote_addr": "127.0.0.1",
    }
    assert line["user_agent"].startswith("Mozilla/5.0 x") and len(line["user_agent"]) == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize("log_format_name", ["json"])
@pytest.mark.idp_settings(IDP_TRUSTED_PROXIES=1)
def test_the_line_names_the_client_behind_the_proxy(app, client, lines):
    client.get("/signin", headers={"X-Forwarded-For": "203.0.113.9"})
    [line] = lines.requests()
    assert line["remote_addr"] == "203.0.113.9"


@pytest.mark.parametrize("log_format_name", ["json"])
def test_every_record_in_a_request_carries_its_id_and_others_do_not(app, client, users, lines):
    profile = users.create()
    _sign_in(client, profile.email, request_id="signin-1")
    with app.app_context():
        record("test.outside_a_request", profile.id)
    audit = [line for line in lines.records() if line["logger"] == "idp.audit"]
    inside = [line for line in audit if "signin.succeeded" in line["message"]]
    outside = [line for line in audit if "test.outside_a_request" in line["message"]]
    assert inside and all(line["request_id"] == "signin-1" for line in inside)
    assert outside and all("request_id" not in line for line in outside)


def test_url_fields_of_json_lines_are_redacted_too(lines):
    lines.handler.setFormatter(JsonLines())
    lines.handler.addFilter(RedactSecrets())
    logging.getLogger("idp.test").warning(
        "went to %s",
        "/logout?id_token_hint=eyJ.secret.hint",
        extra={"url": "https://id.example/cb?code=secret-code&state=s", "path": "/email/confirm/" + "t" * 40},
    )
    [line] = lines.records()
    assert line["message"] == "went to /logout?id_token_hint=[redacted]"
    assert line["url"] == "https://id.example/cb?code=[redacted]&state=s"
    assert line["path"] == "/email/confirm/[redacted]"


# --- request ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize("incoming", SAFE_IDS)
def test_a_safe_incoming_request_id_is_echoed_and_logged(app, client, lines, incoming, log_format_name):
    response = client.get("/signin", headers={"X-Request-ID": incoming})
    assert response.headers.getlist("X-Request-ID") == [incoming]
    [line] = _request_lines(lines, log_format_name)
    assert (line["request_id"] == incoming) if log_format_name == "json" else (f" id={incoming} " in line)


@pytest.mark.parametrize("incoming", UNSAFE_IDS)
def test_an_unsafe_incoming_request_id_is_replaced(app, client, lines, incoming):
    response = client.get("/signin", environ_overrides={"HTTP_X_REQUEST_ID": incoming})
    [echoed] = response.headers.getlist("X-Request-ID")
    assert echoed != incoming and len(echoed) == 16 and int(echoed, 16) >= 0
    assert echoed in lines.text
    if incoming:
        assert incoming not in lines.text


def test_each_request_gets_its_own_new_id(app, client):
    ids = {client.get("/signin").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_an_audit_event_recorded_during_a_request_stores_the_request_id(app, client, users, log_format_name):
    profile = users.create()
    _sign_in(client, profile.email, request_id="haproxy-0A1B2C")
    response = _sign_in(app.test_client(), profile.email, password="wrong-password-1")
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
        by_event = {event.event: event for event in events}
        assert by_event["signin.succeeded"].request_id == "haproxy-0A1B2C"
        assert by_event["signin.failed"].request_id == response.headers["X-Request-ID"]
        assert event_data(by_event["signin.succeeded"])["request_id"] == "haproxy-0A1B2C"
        entry = Entry(by_event["signin.succeeded"], None, None)
        assert dict(zip(COLUMNS, _row(entry), strict=True))["request_id"] == "haproxy-0A1B2C"
        outside = record("test.outside_a_request", profile.id)
        db.session.commit()
        assert db.session.get(AuditEvent, outside).request_id is None


# --- text lines and the switches ----------------------------------------------------------------


@pytest.mark.parametrize("log_format_name", ["text"])
def test_text_mode_writes_one_compact_human_line(app, client, lines):
    client.get("/signin", headers={"X-Request-ID": "rid-7", "User-Agent": "curl/8.5"})
    [line] = lines.request_lines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO idp\.request: GET /signin 200 \d+\.\dms "
        r'endpoint=auth\.signin ip=127\.0\.0\.1 id=rid-7 ua="curl/8\.5"',
        line,
    ), line


@pytest.mark.parametrize("log_format_name", ["text"])
def test_a_text_line_cannot_be_split_by_the_path(app, client, lines):
    client.get("/signin%0A2026-01-01 INFO idp.audit: forged")
    [line] = lines.request_lines()
    assert "/signin?2026-01-01 INFO idp.audit: forged 404" in line
    assert not [text for text in lines.text.splitlines() if text.startswith("2026-01-01")]


@pytest.mark.idp_settings(IDP_REQUEST_LOG="auto")
def test_development_logs_no_request_lines_but_still_gives_request_ids(app, client, lines):
    response = client.get("/signin")
    assert response.headers["X-Request-ID"]
    assert "idp.request" not in lines.text


def test_auto_means_json_and_request_lines_in_production_only():
    assert log_format({"IDP_ENV": "production", "IDP_LOG_FORMAT": "auto"}) == "json"
    assert log_format({"IDP_ENV": "development", "IDP_LOG_FORMAT": "auto"}) == "text"
    assert log_format({"IDP_ENV": "production", "IDP_LOG_FORMAT": "text"}) == "text"
    assert request_log_enabled({"IDP_ENV": "production", "IDP_REQUEST_LOG": "auto"}) is True
    assert request_log_enabled({"IDP_ENV": "development", "IDP_REQUEST_LOG": "auto"}) is False
    assert request_log_enabled({"IDP_ENV": "production", "IDP_REQUEST_LOG": False}) is False


def test_the_app_tags_and_formats_the_handlers_it_is_given(app, lines, log_format_name):
    handler = lines.handler
    assert any(isinstance(f, RedactSecrets) for f in handler.filters)
    assert any(isinstance(f, AddRequestId) for f in handler.filters)
    assert isinstance(handler.formatter, JsonLines) is (log_format_name == "json")


# --- gunicorn -------------------------------------------------------------------------------------


@pytest.fixture
def gunicorn_logging():
    """Give gunicorn's loggers and the root logger back their handlers after the test."""
    names = ("", "gunicorn.error", "gunicorn.access")
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level) for name in names}
    yield
    for name, (handlers, level) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).setLevel(level)


def test_gunicorn_keeps_its_defaults_in_text_format():
    assert gunicorn_logconfig({"IDP_ENV": "development"}) == {}
    assert gunicorn_logconfig({"IDP_ENV": "production", "IDP_LOG_FORMAT": "text"}) == {}


def test_gunicorn_writes_json_lines_and_no_access_log_in_json_format(gunicorn_logging, capsys):
    from gunicorn.config import Config

    from idp.logs import RedactingGunicornLogger

    config = Config()
    config.set("logconfig_dict", gunicorn_logconfig({"IDP_ENV": "production"}))
    config.set("accesslog", "-")
    logger = RedactingGunicornLogger(config)
    logger.info("Booting worker with pid: %s", 4242)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/logout?id_token_hint=eyJ.x.y",
        "PATH_INFO": "/logout",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    logger.access(_GunicornResponse(), _GunicornRequest(), environ, timedelta(milliseconds=3))
    out, err = capsys.readouterr()
    [line] = [json.loads(text) for text in err.splitlines()]
    assert line["logger"] == "gunicorn.error" and line["message"] == "Booting worker with pid: 4242"
    assert "logout" not in out + err


class _GunicornResponse:
    status = "200 OK"
    response_length = 0
    headers = ()
    sent = 0


class _GunicornRequest:
    headers = ()
    method, path, query, uri, version = "GET", "/logout", "id_token_hint=eyJ.x.y", "/logout", (1, 1)


# --- never a secret -------------------------------------------------------------------------------


def test_no_line_holds_a_secret_a_code_or_a_token(app, client, users, lines, log_format_name):
    profile = users.create(phone="+380501112233")
    _sign_in(client, profile.phone)
    relying = register_client(app)
    flow = AuthorizationRequest(relying, scope="openid profile offline_access")
    code = authorize(client, flow)["code"]
    tokens = exchange(client, flow, code).get_json()
    machine = register_client(app, grant_types=["client_credentials"], redirect_uris=None, scope="pbx.read")
    secrets = [PASSWORD, code, flow.verifier, relying.secret, machine.secret]
    secrets += [tokens["id_token"], tokens["access_token"], tokens["refresh_token"]]
    before = len(_request_lines(lines, log_format_name))

    logout = client.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    token = client.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": machine.client_id,
            "client_secret": machine.secret,
        },
    )
    secrets.append(token.get_json()["access_token"])
    link = "/email/confirm/" + "Ab1-" * 12
    secrets.append(link.rsplit("/", 1)[1])
    client.get(link)
    _sign_in(client, profile.phone)

    assert logout.status_code in (200, 302) and token.status_code == 200
    paths = [_path(line, log_format_name) for line in _request_lines(lines, log_format_name)[before:]]
    assert paths[:3] == ["/logout", "/token", "/email/confirm/[redacted]"]
    assert "/signin" in paths[3:]
    leaked = [secret for secret in secrets if secret in lines.text]
    assert leaked == []


def _request_lines(lines: Lines, log_format_name: str) -> list:
    return lines.requests() if log_format_name == "json" else lines.request_lines()


def _path(line, log_format_name: str) -> str:
    return line["path"] if log_format_name == "json" else line.split(" idp.request: ")[1].split(" ")[1]


def _sign_in(client, identifier: str, password: str = PASSWORD, request_id: str | None = None):
    token = csrf_token(client, "/signin")
    headers = {"X-Request-ID": request_id} if request_id else {}
    data = {"csrf_token": token, "identifier": identifier, "password": password}
    return client.post("/signin", data=data, headers=headers)


# --- the migration --------------------------------------------------------------------------------


def _down_revision() -> str:
    spec = importlib.util.spec_from_file_location("request_ids_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.revision == "0013"
    return module.down_revision


def _audit_columns() -> tuple[set[str], set[str]]:
    inspector = sqlalchemy.inspect(db.engine)
    columns = {column["name"] for column in inspector.get_columns("audit_events")}
    indexes = {index["name"] for index in inspector.get_indexes("audit_events")}
    return columns, indexes


def test_the_migration_adds_and_removes_the_request_id(backend, tmp_path):
    settings = settings_for(backend, tmp_path)
    if backend == "postgresql":
        schema = f"idp_request_ids_{os.getpid()}"
        _recreate_schema(schema)
        settings["IDP_DATABASE_URL"] = postgres_url(schema)
    app = create_app(settings)
    with app.app_context():
        upgrade(revision="0013")
        columns, indexes = _audit_columns()
        assert "request_id" in columns and "ix_audit_events_request_id" in indexes
        downgrade(revision=_down_revision())
        columns, indexes = _audit_columns()
        assert "request_id" not in columns and "ix_audit_events_request_id" not in indexes
        assert {"event", "profile_id", "details"} <= columns
        db.engine.dispose()
    if backend == "postgresql":
        _drop_schema(schema)


@pytest.mark.parametrize("log_format_name", ["json"])
def test_a_whole_answer_is_passed_on_as_a_list_and_still_logged(app, lines):
    """The machine endpoints answer with a list: the server may send it in one write, so the
    middleware must neither wrap it in an iterator nor leave it out of the log."""
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/jwks.json",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "HTTP_X_REQUEST_ID": "whole-1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    body = app.wsgi_app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    assert isinstance(body, list) and json.loads(b"".join(body))["keys"]
    [line] = lines.requests()
    assert line["path"] == "/jwks.json" and line["status"] == 200 and line["request_id"] == "whole-1"
