"""The machine endpoints' fast path (idp.oauth.machine) answers exactly as the full Flask path does.

Each request is sent twice: through the app (the fast path in front) and straight to Flask's own
dispatch behind it. Valid requests must get the same answer from both; any other request must be
left to Flask, so its refusal is the protocol's.
"""

from __future__ import annotations

import base64
import time

import pytest
from flask import request_started
from werkzeug.test import Client

from idp import create_app
from idp.extensions import db
from idp.oauth.keys import rotate
from idp.oauth.models import Client as ClientRow
from tests.oauth.helpers import bearer, register_client, signed_in_tokens

SKIPPED_HEADERS = {"Content-Length", "X-Request-ID", "Date"}
VOLATILE_MEMBERS = {"access_token", "refresh_token", "jti", "iat", "exp"}


def full_path(app) -> Client:
    """A client of Flask's own dispatch, behind the fast path."""
    return Client(app.extensions["idp_machine"].wsgi_app)


def answer(response) -> tuple:
    headers = sorted((k, v) for k, v in response.headers.items() if k not in SKIPPED_HEADERS)
    body = response.get_json(silent=True)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in VOLATILE_MEMBERS}
    return response.status_code, headers, body


def both(app, method: str, path: str, **options) -> tuple[tuple, tuple]:
    fast = getattr(app.test_client(), method)(path, **options)
    full = getattr(full_path(app), method)(path, **options)
    return answer(fast), answer(full)


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.fixture
def machine(app):
    """A confidential client with client_credentials and its own scopes."""
    return register_client(
        app,
        grant_types=["client_credentials", "authorization_code", "refresh_token"],
        scope="openid pbx.read pbx.write",
    )


def test_the_documents_are_the_views_own(app):
    for path in ("/.well-known/openid-configuration", "/jwks.json"):
        fast, full = both(app, "get", path)
        assert fast == full and fast[0] == 200
        fast, full = both(app, "get", path, headers={"Origin": "https://spa.example"})
        assert fast == full and ("Access-Control-Allow-Origin", "*") in fast[1]


def test_a_document_asked_again_with_its_etag_is_not_sent_again(app, client):
    first = client.get("/jwks.json")
    etag = first.headers["ETag"]
    again = client.get("/jwks.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert full_path(app).get("/jwks.json", headers={"If-None-Match": etag}).status_code == 304
    with app.app_context():
        rotate(app.config["IDP_SIGNING_ALG"])
    rotated = client.get("/jwks.json", headers={"If-None-Match": etag})
    assert rotated.status_code == 200 and rotated.headers["ETag"] != etag
    assert rotated.get_json() == full_path(app).get("/jwks.json").get_json()


@pytest.mark.parametrize("scope", [None, "pbx.read", "pbx.write pbx.read", "pbx.read pbx.read"])
def test_a_client_s_own_token_is_the_full_path_s(app, machine, scope):
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    fast, full = both(app, "post", "/token", data=data, headers=machine.basic_auth)
    assert fast == full and fast[0] == 200
    posted = {**data, "client_id": machine.client_id, "client_secret": machine.secret}
    fast, full = both(app, "post", "/token", data=posted)
    assert fast == full and fast[0] == 200
    token = app.test_client().post("/token", data=data, headers=machine.basic_auth).get_json()["access_token"]
    introspected = (
        app.test_client().post("/introspect", data={"token": token}, headers=machine.basic_auth).get_json()
    )
    assert introspected["active"] and introspected["client_id"] == machine.client_id


@pytest.mark.parametrize(
    ("data", "credentials", "status"),
    [
        ({"grant_type": "client_credentials"}, "wrong", 401),
        ({"grant_type": "client_credentials"}, "unknown", 401),
        ({"grant_type": "client_credentials", "scope": "openid"}, "right", 400),
        ({"grant_type": "client_credentials", "scope": "pbx.admin"}, "right", 400),
        ({"grant_type": "password", "username": "a", "password": "b"}, "right", 400),
        ({}, "right", 400),
        # Unusual but accepted by the full path: the fast path leaves them to it.
        ({"grant_type": "client_credentials", "extra": "1"}, "right", 200),
        ({"grant_type": "client_credentials", "client_id": "x"}, "right", 200),
    ],
)
def test_a_token_request_not_plainly_valid_gets_the_full_path_s_answer(
    app, machine, data, credentials, status
):
    headers = {
        "right": machine.basic_auth,
        "wrong": basic(machine.client_id, "not-the-secret"),
        "unknown": basic("no-such-client", "secret"),
    }[credentials]
    fast, full = both(app, "post", "/token", data=data, headers=headers)
    assert fast == full and fast[0] == status


def test_a_client_without_the_grant_or_a_secret_is_refused_as_before(app):
    code_only = register_client(app, grant_types=["authorization_code"])
    fast, full = both(
        app, "post", "/token", data={"grant_type": "client_credentials"}, headers=code_only.basic_auth
    )
    assert fast == full and fast[2]["error"] == "unauthorized_client"
    public = register_client(app, public=True, grant_types=["authorization_code"])
    posted = {"grant_type": "client_credentials", "client_id": public.client_id}
    fast, full = both(app, "post", "/token", data=posted)
    assert fast == full and fast[0] in (400, 401)


def test_userinfo_and_introspection_are_the_full_path_s(app, client, users, machine):
    _profile, request, tokens = signed_in_tokens(client, users, app)
    fast, full = both(app, "get", "/userinfo", headers=bearer(tokens["access_token"]))
    assert fast == full and fast[0] == 200 and fast[2]["email"]
    for token in (tokens["access_token"], tokens["refresh_token"], "not-a-token"):
        for hint in (None, "access_token", "refresh_token"):
            data = {"token": token, **({"token_type_hint": hint} if hint else {})}
            fast, full = both(app, "post", "/introspect", data=data, headers=request.client.basic_auth)
            assert fast == full and fast[0] == 200
    # Another client may not learn of this client's tokens; a bad secret is refused as before.
    data = {"token": tokens["access_token"]}
    fast, full = both(app, "post", "/introspect", data=data, headers=machine.basic_auth)
    assert fast == full and fast[2] == {"active": False}
    fast, full = both(app, "post", "/introspect", data=data, headers=basic(machine.client_id, "wrong"))
    assert fast == full and fast[0] == 401
    app.test_client().post(
        "/revoke", data={"token": tokens["refresh_token"]}, headers=request.client.basic_auth
    )
    fast, full = both(app, "get", "/userinfo", headers=bearer(tokens["access_token"]))
    assert fast == full and fast[0] == 401


@pytest.mark.parametrize("scope", [None, "openid email"])
def test_a_refresh_is_the_full_path_s_and_a_replay_ends_the_family(app, client, users, scope):
    _profile, request, tokens = signed_in_tokens(
        client, users, app, scope="openid profile email offline_access"
    )
    extra = {"scope": scope} if scope else {}
    headers = request.client.basic_auth

    def refresh(http, value):
        return http.post(
            "/token", data={"grant_type": "refresh_token", "refresh_token": value, **extra}, headers=headers
        )

    fast = refresh(app.test_client(), tokens["refresh_token"])
    full = refresh(full_path(app), fast.get_json()["refresh_token"])
    assert answer(fast) == answer(full) and fast.status_code == 200
    assert fast.get_json()["scope"] == (scope or "openid profile email offline_access")
    assert (
        app.test_client().get("/userinfo", headers=bearer(full.get_json()["access_token"])).status_code == 200
    )
    # The first token again: a replay. Its family ends, the newest token with it.
    replayed, replayed_full = refresh(app.test_client(), tokens["refresh_token"]), None
    assert replayed.status_code == 400 and replayed.get_json()["error"] == "invalid_grant"
    newest = refresh(app.test_client(), full.get_json()["refresh_token"])
    replayed_full = refresh(full_path(app), full.get_json()["refresh_token"])
    assert answer(newest) == answer(replayed_full) and newest.get_json()["error"] == "invalid_grant"


def test_a_refresh_beyond_the_grant_s_scope_is_refused_as_before(app, client, users):
    _profile, request, tokens = signed_in_tokens(client, users, app, scope="openid email offline_access")
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": "openid phone"}
    fast, full = both(app, "post", "/token", data=data, headers=request.client.basic_auth)
    assert fast == full and fast[2]["error"] == "invalid_scope"


def test_a_changed_client_is_served_from_memory_no_more(app, machine):
    data = {"grant_type": "client_credentials", "scope": "pbx.read"}
    assert app.test_client().post("/token", data=data, headers=machine.basic_auth).status_code == 200
    with app.app_context():
        row = db.session.scalar(db.select(ClientRow).where(ClientRow.client_id == machine.client_id))
        row.scope = "openid pbx.write"
        db.session.commit()
    narrowed = app.test_client().post("/token", data=data, headers=machine.basic_auth)
    assert narrowed.status_code == 400 and narrowed.get_json()["error"] == "invalid_scope"
    with app.app_context():
        db.session.execute(db.delete(ClientRow).where(ClientRow.client_id == machine.client_id))
        db.session.commit()
    assert (
        app.test_client()
        .post("/token", data={"grant_type": "client_credentials"}, headers=machine.basic_auth)
        .status_code
        == 401
    )


def _within_a_second(check) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < 1.0, "another instance still acts on what changed"
    return time.monotonic() - started


def test_another_instance_sees_a_deletion_and_a_rotation_within_a_second(app, settings, machine):
    other = create_app(settings)  # a second instance on the same database
    try:
        data = {"grant_type": "client_credentials"}
        assert other.test_client().post("/token", data=data, headers=machine.basic_auth).status_code == 200
        keys_before = other.test_client().get("/jwks.json").get_json()
        with app.app_context():
            rotate(app.config["IDP_SIGNING_ALG"])
            db.session.execute(db.delete(ClientRow).where(ClientRow.client_id == machine.client_id))
            db.session.commit()
        _within_a_second(
            lambda: (
                other.test_client().post("/token", data=data, headers=machine.basic_auth).status_code == 401
            )
        )
        _within_a_second(lambda: other.test_client().get("/jwks.json").get_json() != keys_before)
        assert (
            other.test_client().get("/jwks.json").get_json() == app.test_client().get("/jwks.json").get_json()
        )
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


class MovedClock:
    """``time`` as the client cache reads it, with a clock the test moves."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now


def test_a_client_deleted_behind_the_orm_s_back_is_refused_once_its_snapshot_is_old(
    app, machine, monkeypatch
):
    from idp.oauth import client_cache

    clock = MovedClock()
    monkeypatch.setattr(client_cache, "time", clock)
    data = {"grant_type": "client_credentials"}
    assert app.test_client().post("/token", data=data, headers=machine.basic_auth).status_code == 200
    with app.app_context(), db.engine.begin() as connection:  # as the database's own cascade would
        connection.execute(db.delete(ClientRow).where(ClientRow.client_id == machine.client_id))
    clock.now += client_cache.MAX_AGE_SECONDS - 0.5
    assert app.test_client().post("/token", data=data, headers=machine.basic_auth).status_code == 200
    clock.now += 1
    assert app.test_client().post("/token", data=data, headers=machine.basic_auth).status_code == 401


def test_a_refresh_the_fast_path_cannot_finish_is_left_whole_to_the_full_path(
    app, client, users, monkeypatch
):
    _profile, request, tokens = signed_in_tokens(client, users, app, scope="openid offline_access")
    machine = app.extensions["idp_machine"]
    keys = machine.routes[("GET", "/jwks.json")]
    monkeypatch.setattr(keys, "current", lambda: None)  # the page headers cannot be learnt now
    monkeypatch.setattr(machine, "_token_headers", None)

    def refresh(value):
        data = {"grant_type": "refresh_token", "refresh_token": value}
        return app.test_client().post("/token", data=data, headers=request.client.basic_auth)

    first = refresh(tokens["refresh_token"])
    assert first.status_code == 200 and machine._token_headers is None  # nothing half-known is kept
    monkeypatch.undo()
    second = refresh(first.get_json()["refresh_token"])  # the family stands: nothing was spent twice
    assert second.status_code == 200
    assert "Content-Security-Policy" in second.headers and second.headers["Cache-Control"] == "no-store"


def test_the_fast_path_answers_whichever_request_first_read_a_client(app, client, users):
    """The cache of clients keeps the app itself even when it is first made through ``current_app``
    (by a userinfo, whose token names its client): introspection still takes the fast path."""
    _profile, request, tokens = signed_in_tokens(client, users, app)
    app.extensions.pop("idp_client_cache", None)
    http = app.test_client()
    assert http.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 200
    dispatched: list[str] = []
    with request_started.connected_to(lambda sender, **extra: dispatched.append("flask"), app):
        for _ in range(3):
            answered = http.post(
                "/introspect", data={"token": tokens["access_token"]}, headers=request.client.basic_auth
            )
            assert answered.status_code == 200 and answered.get_json()["active"] is True
    assert dispatched == []  # none went on to Flask's dispatch
