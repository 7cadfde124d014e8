"""The demo relying party: `idp demo` registers the virtual PBX portal, and the portal refuses
every logout token that OpenID Connect Back-Channel Logout 1.0 says it must refuse."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from examples.pbx_portal.app import create_app as create_portal
from examples.pbx_portal.app import settings_from_environment
from idp.demo import (
    DEMO_CLIENT_ID,
    DemoUnavailable,
    demo_client_file,
    ensure_demo_client,
)
from idp.extensions import db
from idp.oauth.clients import find_client, rotate_secret
from idp.oauth.models import Client
from idp.oauth.tokens import BACKCHANNEL_EVENT, LOGOUT_TOKEN_TYPE, sign
from tests.helpers.pages import sign_in
from tests.oauth.helpers import AuthorizationRequest, RegisteredClient, authorize, exchange

PORTAL = "http://127.0.0.1:5001"


def _ensure(app):
    with app.app_context():
        demo = ensure_demo_client()
        return demo.created, demo.written, demo.path


def _file(path: Path) -> dict:
    return json.loads(path.read_text())


def _client_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Client))


# --- registration by `idp demo` ----------------------------------------------------------------


def test_demo_client_is_registered_once_with_its_file_written_0600(app, tmp_path):
    created, written, path = _ensure(app)
    assert created and written
    assert path == tmp_path / "pbx-portal-client.json"  # beside the database (IDP_DATA_DIR)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = _file(path)
    assert set(data) == {"client_id", "client_secret", "issuer"}
    assert data["client_id"] == DEMO_CLIENT_ID and data["issuer"] == "http://127.0.0.1:5000"
    with app.app_context():
        client = find_client(DEMO_CLIENT_ID)
        assert client.name == "Virtual PBX portal"
        assert not client.public and not client.first_party  # so the consent page shows
        assert client.redirect_uris == [PORTAL + "/callback"]
        assert client.post_logout_redirect_uris == [PORTAL + "/"]
        assert client.backchannel_logout_uri == PORTAL + "/backchannel-logout"
        assert client.grant_types == ["authorization_code", "refresh_token"]
        assert client.scope == "openid profile email phone offline_access services"
        assert client.check_client_secret(data["client_secret"])

    before = path.read_text()
    assert _ensure(app)[:2] == (False, False)  # nothing to do the second time
    assert path.read_text() == before and _client_count(app) == 1


def test_a_missing_or_stale_file_gets_a_new_secret(app):
    _, _, path = _ensure(app)
    first = _file(path)["client_secret"]
    path.unlink()
    assert _ensure(app) == (False, True, path)
    second = _file(path)["client_secret"]
    assert second != first and stat.S_IMODE(path.stat().st_mode) == 0o600
    with app.app_context():
        client = find_client(DEMO_CLIENT_ID)
        assert client.check_client_secret(second) and not client.check_client_secret(first)
        rotate_secret(client)  # e.g. `idp clients rotate-secret pbx-portal`: the file is stale
    assert _ensure(app)[:2] == (False, True)
    with app.app_context():
        assert find_client(DEMO_CLIENT_ID).check_client_secret(_file(path)["client_secret"])
    assert _client_count(app) == 1


@pytest.mark.idp_settings(IDP_DEMO_RP_URL="http://127.0.0.1:6101")
def test_the_registration_follows_the_portal_address(app):
    _ensure(app)
    settings_url = "http://127.0.0.1:6202"
    app.config["IDP_DEMO_RP_URL"] = settings_url
    assert _ensure(app)[:2] == (False, False)  # same secret, new addresses
    with app.app_context():
        client = find_client(DEMO_CLIENT_ID)
        assert client.redirect_uris == [settings_url + "/callback"]
        assert client.backchannel_logout_uri == settings_url + "/backchannel-logout"


def test_the_secret_in_the_file_works_at_the_token_endpoint(app, client, users):
    _, _, path = _ensure(app)
    data = _file(path)
    users.create(phone="+380501112233")
    sign_in(client, "+380501112233")
    registered = RegisteredClient(data["client_id"], data["client_secret"], PORTAL + "/callback")
    request = AuthorizationRequest(registered, scope="openid profile email phone")
    query = authorize(client, request)  # not first-party: consents on the way
    response = exchange(client, request, query["code"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["id_token"]

    wrong = AuthorizationRequest(RegisteredClient(data["client_id"], "not-the-secret", PORTAL + "/callback"))
    query = authorize(client, wrong)
    assert exchange(client, wrong, query["code"]).status_code == 401


def test_idp_demo_says_how_to_open_the_portal(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Virtual PBX portal" in result.output and DEMO_CLIENT_ID in result.output
    assert "python -m examples.pbx_portal" in result.output and PORTAL in result.output
    with app.app_context():
        path = demo_client_file()
    assert f"PBX_CLIENT_FILE={path}" in result.output  # not the default instance/ folder
    settings = settings_from_environment({"PBX_CLIENT_FILE": str(path)})
    assert settings["client_id"] == DEMO_CLIENT_ID and settings["base_url"] == PORTAL
    assert settings["issuer"] == "http://127.0.0.1:5000"


def test_outside_development_the_portal_is_not_registered(app):
    app.config["IDP_ENV"] = "production"
    with app.app_context(), pytest.raises(DemoUnavailable):
        ensure_demo_client()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo profile ready" in result.output and "development only: skipped" in result.output
    assert _client_count(app) == 0
    with app.app_context():
        assert not demo_client_file().exists()


# --- the portal's back-channel logout endpoint ---------------------------------------------------


@pytest.fixture
def portal(live_server, app):
    """The portal's app (tested through Flask's client), talking to the live provider."""
    return create_portal(live_server, PORTAL, "pbx-portal", "secret-not-used-here")


def _signed_in(portal_app, sid: str = "sid-1", sub: str = "subject-1", issuer: str = "") -> str:
    """Put a signed-in session into the portal's store; return its cookie value."""
    state = portal_app.extensions["pbx_portal"]
    user = {
        "iss": issuer or state.issuer,
        "sub": sub,
        "sid": sid,
        "name": "Olena Koval",
        "id_token_claims": {"sub": sub, "sid": sid},
        "userinfo": {"sub": sub},
        "id_token": "x.y.z",
    }
    return state.store.save(None, {"user": user}, 0, False)


class Ago(int):
    """A time this many seconds before the token is made (negative: after)."""


def _logout_token(app, live_server, header: dict | None = None, **changes) -> str:
    now = int(time.time())
    claims = {
        "iss": live_server,
        "aud": "pbx-portal",
        "iat": now,
        "exp": now + 120,
        "jti": f"jti-{time.monotonic_ns()}",
        "sub": "subject-1",
        "sid": "sid-1",
        "events": {BACKCHANNEL_EVENT: {}},
    }
    claims.update({k: now - v if isinstance(v, Ago) else v for k, v in changes.items()})
    claims = {k: v for k, v in claims.items() if v is not None}
    with app.app_context():
        if header is None:
            return sign(claims, LOGOUT_TOKEN_TYPE)
        key = ECKey.generate_key("P-256")  # a key the provider never published
        return jwt.encode(header, claims, key, algorithms=["ES256"])


def _post(portal_app, token: str):
    return portal_app.test_client().post("/backchannel-logout", data={"logout_token": token})


def test_a_valid_logout_token_ends_the_sessions_of_its_sid(live_server, app, portal):
    ended = _signed_in(portal, sid="sid-1")
    other = _signed_in(portal, sid="sid-2")
    store = portal.extensions["pbx_portal"].store
    token = _logout_token(app, live_server)
    response = _post(portal, token)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [u["sid"] for u in store.signed_in()] == ["sid-2"]
    http = portal.test_client()
    http.set_cookie("pbx_portal_session", ended)
    page = http.get("/").get_data(as_text=True)
    assert "data-signed-out" in page and 'data-notice="ended_elsewhere"' in page
    http.set_cookie("pbx_portal_session", other)
    assert "data-signed-in" in http.get("/").get_data(as_text=True)
    assert _post(portal, token).status_code == 400  # the same token again is a replay


def test_a_logout_token_with_sub_only_ends_every_session_of_the_person(live_server, app, portal):
    _signed_in(portal, sid="sid-1", sub="subject-1")
    _signed_in(portal, sid="sid-9", sub="subject-1")
    _signed_in(portal, sid="sid-3", sub="subject-2")
    assert _post(portal, _logout_token(app, live_server, sid=None)).status_code == 200
    assert [u["sub"] for u in portal.extensions["pbx_portal"].store.signed_in()] == ["subject-2"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "another-client"}, "'aud'"),
        ({"iss": "http://127.0.0.1:1"}, "'iss'"),
        ({"events": None}, "events"),
        ({"events": {"http://schemas.openid.net/event/other": {}}}, "events"),
        ({"nonce": "n-0S6_WzA2Mj"}, "nonce"),
        ({"sid": None, "sub": None}, "neither sid nor sub"),
        ({"iat": Ago(3600), "exp": Ago(-60)}, "too old"),
        ({"iat": Ago(-3600)}, "in the future"),
        ({"exp": Ago(300)}, "expired"),
        ({"jti": None}, "'jti'"),
    ],
    ids=[
        "aud",
        "iss",
        "no-events",
        "other-event",
        "nonce",
        "no-sid-nor-sub",
        "old-iat",
        "future-iat",
        "expired",
        "no-jti",
    ],
)
def test_invalid_logout_tokens_are_refused_with_400(live_server, app, portal, changes, reason):
    _signed_in(portal)
    response = _post(portal, _logout_token(app, live_server, **changes))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert reason in response.get_json()["error_description"]
    assert portal.extensions["pbx_portal"].store.signed_in("sid-1")  # nothing ended


def test_logout_tokens_of_the_wrong_type_or_key_are_refused(live_server, app, portal):
    _signed_in(portal)
    with app.app_context():
        now = int(time.time())
        claims = {
            "iss": live_server,
            "aud": "pbx-portal",
            "iat": now,
            "exp": now + 120,
            "jti": "j1",
            "sid": "sid-1",
            "events": {BACKCHANNEL_EVENT: {}},
        }
        id_token_typed = sign(claims, "JWT")  # right key, but not typed as a logout token
    forged = _logout_token(app, live_server, header={"alg": "ES256", "typ": LOGOUT_TOKEN_TYPE})
    unsigned = forged.rsplit(".", 1)[0] + "."
    for token in (id_token_typed, forged, unsigned, "", "not-a-jwt"):
        assert _post(portal, token).status_code == 400, token
    assert portal.extensions["pbx_portal"].store.signed_in("sid-1")


def test_the_portal_says_to_run_idp_demo_when_it_has_no_credentials(tmp_path):
    with pytest.raises(SystemExit, match="run `idp demo` first"):
        settings_from_environment({"PBX_CLIENT_FILE": str(tmp_path / "missing.json")})
