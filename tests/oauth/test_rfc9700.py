"""RFC 9700 (OAuth 2.0 Security Best Current Practice), point by point, as refusals.

Each test shows a request the provider must refuse and what it must not do instead: redirect to an
unverified address, issue a code or a token, or leave tokens standing after a leak was detected.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from idp.oauth.models import AuthorizationCode, Grant, RefreshToken
from tests.helpers.pages import sign_in
from tests.oauth.helpers import (
    REDIRECT_URI,
    AuthorizationRequest,
    authorize,
    exchange,
    introspect,
    query_of,
    refresh,
    register_client,
    signed_in_tokens,
    table_count,
    userinfo,
)

ISSUER = "http://127.0.0.1:5000"
ERROR_PAGE = "This sign-in request cannot be accepted"


@pytest.fixture
def signed_in(client, users):
    """A browser signed in as a profile (so only the request itself can stop a code)."""
    profile = users.create(phone="+380501112233")
    sign_in(client, profile.phone)
    return profile


def _error_redirect(response, request: AuthorizationRequest) -> dict[str, str]:
    """Assert ``response`` sends an OAuth error back to the client; return its query."""
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    location = response.headers["Location"]
    assert location.startswith(request.client.redirect_uri + "?"), location
    query = query_of(location)
    assert "code" not in query
    assert query["iss"] == ISSUER
    assert query["state"] == request.state
    return query


def _assert_error_page(app, response) -> None:
    """An error shown to the person: 400, no redirect anywhere, nothing issued."""
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert ERROR_PAGE in response.get_data(as_text=True)
    assert table_count(app, AuthorizationCode) == 0


# --- the redirect URI: exact match, else an error page (§2.1, §4.1) ---------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://rp.example/other",  # another path
        "https://rp.example/callback?next=/admin",  # an extra query parameter
        "https://rp.example/callback/",  # a trailing slash
        "https://RP.example/callback",  # the host in another case
        "https://rp.example:443/callback",  # the default port spelled out
        "http://rp.example/callback",  # http instead of https
        "https://rp.example/callback#x",  # a fragment
        "https://attacker.example/callback",  # never registered
        "https://rp.example.attacker.example/callback",  # registered host as a prefix
    ],
)
def test_a_redirect_uri_that_is_not_exactly_registered_gets_an_error_page(
    app, client, signed_in, redirect_uri
):
    registered = register_client(app)
    request = AuthorizationRequest(registered, extra={"redirect_uri": redirect_uri})
    _assert_error_page(app, client.get(request.url))


def test_a_missing_redirect_uri_gets_an_error_page(app, client, signed_in):
    request = AuthorizationRequest(register_client(app), extra={"redirect_uri": None})
    assert "redirect_uri" not in request.url
    _assert_error_page(app, client.get(request.url))


def test_a_wrong_redirect_uri_is_refused_even_with_another_error_in_the_request(app, client, signed_in):
    """An unverified redirect URI is never used, not even to report a different error."""
    request = AuthorizationRequest(
        register_client(app), extra={"redirect_uri": "https://attacker.example/cb", "response_type": "token"}
    )
    response = client.get(request.url)
    assert response.status_code == 400 and "Location" not in response.headers


def test_an_unknown_client_gets_an_error_page(app, client, signed_in):
    register_client(app)
    request = AuthorizationRequest(register_client(app), extra={"client_id": "no-such-client"})
    _assert_error_page(app, client.get(request.url))
    _assert_error_page(
        app, client.get(AuthorizationRequest(register_client(app), extra={"client_id": None}).url)
    )


def test_the_exact_registered_redirect_uri_works(app, client, signed_in):
    """The counterpart of the refusals above: the same request with the exact URI gets a code."""
    request = AuthorizationRequest(register_client(app))
    assert authorize(client, request)["code"]
    assert table_count(app, AuthorizationCode) == 1


def test_an_error_page_shown_before_sign_in_redirects_nowhere_either(app, client):
    request = AuthorizationRequest(
        register_client(app), extra={"redirect_uri": "https://attacker.example/cb"}
    )
    response = client.get(request.url)
    assert response.status_code == 400 and "Location" not in response.headers


# --- authorization codes: single use, short-lived, bound to the client (§4.2, §4.5) ---------------


def test_a_reused_code_is_refused_and_revokes_what_its_first_use_issued(app, client, users):
    users.create(phone="+380501112233")
    sign_in(client, "+380501112233")
    request = AuthorizationRequest(register_client(app), scope="openid profile offline_access")
    code = authorize(client, request)["code"]
    first = exchange(client, request, code)
    assert first.status_code == 200
    tokens = first.get_json()
    assert userinfo(client, tokens["access_token"]).status_code == 200

    second = exchange(client, request, code)
    assert second.status_code == 400
    assert second.get_json()["error"] == "invalid_grant"
    assert "access_token" not in second.get_json()

    assert userinfo(client, tokens["access_token"]).status_code == 401
    answer = refresh(client, request.client, tokens["refresh_token"])
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_grant"
    assert introspect(client, request.client, tokens["access_token"]) == {"active": False}
    assert introspect(client, request.client, tokens["refresh_token"]) == {"active": False}
    with app.app_context():
        from idp.extensions import db

        grant = db.session.scalar(db.select(Grant))
        assert grant.revoked_at is not None and grant.revoked_reason == "code_reuse"


def test_a_code_expires_after_its_lifetime(app, client, users, settings, time_machine):
    assert settings.get("IDP_AUTH_CODE_SECONDS", 60) == 60
    users.create(phone="+380501112233")
    sign_in(client, "+380501112233")
    registered = register_client(app)
    late = AuthorizationRequest(registered)
    late_code = authorize(client, late)["code"]
    in_time = AuthorizationRequest(registered)
    in_time_code = authorize(client, in_time)["code"]

    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=50))
    assert exchange(client, in_time, in_time_code).status_code == 200
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=12))
    response = exchange(client, late, late_code)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


@pytest.mark.idp_settings(IDP_AUTH_CODE_SECONDS=5)
def test_the_code_lifetime_is_the_setting(app, client, users, time_machine):
    users.create(phone="+380501112233")
    sign_in(client, "+380501112233")
    request = AuthorizationRequest(register_client(app))
    code = authorize(client, request)["code"]
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=6))
    assert exchange(client, request, code).get_json()["error"] == "invalid_grant"


def test_a_code_issued_to_one_client_is_refused_to_another(app, client, signed_in):
    first = register_client(app, name="First")
    second = register_client(app, name="Second")
    request = AuthorizationRequest(first)
    code = authorize(client, request)["code"]
    stolen = AuthorizationRequest(second, verifier=request.verifier, challenge=request.challenge)
    response = exchange(client, stolen, code)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
    assert table_count(app, Grant) == 0


def test_a_public_clients_code_is_refused_to_a_confidential_one(app, client, signed_in):
    public = register_client(app, public=True, name="App")
    other = register_client(app, name="Other")
    request = AuthorizationRequest(public)
    code = authorize(client, request)["code"]
    response = exchange(client, AuthorizationRequest(other, verifier=request.verifier), code)
    assert response.get_json()["error"] == "invalid_grant"
    assert table_count(app, Grant) == 0


# --- PKCE: S256, required of every client (§2.1.1, §4.8) ------------------------------------------


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
@pytest.mark.parametrize(
    "pkce",
    [
        {"code_challenge": None, "code_challenge_method": None},  # no PKCE at all
        {"code_challenge": None},  # a method without a challenge
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},  # a challenge without a method (would mean plain)
        {"code_challenge_method": "S512"},
        {"code_challenge": "short"},  # not a valid S256 challenge
    ],
    ids=["none", "no-challenge", "plain", "no-method", "unknown-method", "malformed"],
)
def test_an_authorization_request_without_s256_pkce_is_refused(app, client, signed_in, pkce, public):
    request = AuthorizationRequest(register_client(app, public=public), extra=pkce)
    query = _error_redirect(client.get(request.url), request)
    assert query["error"] == "invalid_request"
    assert table_count(app, AuthorizationCode) == 0


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_a_wrong_code_verifier_is_refused_without_burning_the_code(app, client, signed_in, public):
    request = AuthorizationRequest(register_client(app, public=public))
    code = authorize(client, request)["code"]
    response = exchange(client, request, code, code_verifier="x" * 43)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"
    assert table_count(app, Grant) == 0
    # Whoever tried without the verifier cannot take the code from the client that has it.
    assert "access_token" in exchange(client, request, code).get_json()
    assert exchange(client, request, code).get_json()["error"] == "invalid_grant"  # once


def test_a_wrong_redirect_uri_at_the_token_endpoint_does_not_burn_the_code(app, client, signed_in):
    request = AuthorizationRequest(register_client(app))
    code = authorize(client, request)["code"]
    wrong = exchange(client, request, code, redirect_uri="https://rp.example/other")
    assert wrong.get_json()["error"] == "invalid_grant"
    assert "access_token" in exchange(client, request, code).get_json()


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_a_missing_code_verifier_is_refused(app, client, signed_in, public):
    request = AuthorizationRequest(register_client(app, public=public))
    code = authorize(client, request)["code"]
    response = exchange(client, request, code, code_verifier=None)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert "access_token" not in response.get_json()
    assert table_count(app, Grant) == 0


def test_the_verifier_of_another_request_is_refused(app, client, signed_in):
    registered = register_client(app)
    first, second = AuthorizationRequest(registered), AuthorizationRequest(registered)
    code = authorize(client, first)["code"]
    authorize(client, second)
    response = exchange(client, first, code, code_verifier=second.verifier)
    assert response.get_json()["error"] == "invalid_grant"


def test_a_plain_verifier_equal_to_the_challenge_is_refused(app, client, signed_in):
    """The S256 challenge itself is no verifier (a downgrade to plain)."""
    request = AuthorizationRequest(register_client(app))
    code = authorize(client, request)["code"]
    response = exchange(client, request, code, code_verifier=request.challenge)
    assert response.get_json()["error"] == "invalid_grant"


# --- refresh tokens: rotation with reuse detection (§4.14) ----------------------------------------


def test_a_replayed_refresh_token_kills_its_whole_family(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app, scope="openid offline_access")
    rotated = refresh(client, request.client, tokens["refresh_token"])
    assert rotated.status_code == 200
    new = rotated.get_json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert userinfo(client, new["access_token"]).status_code == 200

    replay = refresh(client, request.client, tokens["refresh_token"])
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"

    # The legitimate holder's tokens die too: the attacker may be the one who rotated first.
    answer = refresh(client, request.client, new["refresh_token"])
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_grant"
    assert userinfo(client, new["access_token"]).status_code == 401
    assert userinfo(client, tokens["access_token"]).status_code == 401
    assert introspect(client, request.client, new["access_token"]) == {"active": False}
    with app.app_context():
        from idp.extensions import db

        assert db.session.scalar(db.select(Grant.revoked_reason)) == "refresh_reuse"


def test_a_refresh_token_is_bound_to_its_client(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app, scope="openid offline_access")
    other = register_client(app, name="Other")
    response = refresh(client, other, tokens["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert refresh(client, request.client, tokens["refresh_token"]).status_code == 200


def test_an_unknown_refresh_token_is_refused(app, client):
    registered = register_client(app)
    response = refresh(client, registered, "not-a-token")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


# --- client authentication at the token endpoint (§2.5) -------------------------------------------


def _basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _code_for(app, client, public: bool = False):
    request = AuthorizationRequest(register_client(app, public=public))
    return request, authorize(client, request)["code"]


def _assert_invalid_client(response, status: int = 401) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invalid_client"
    assert "access_token" not in response.get_json()
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_an_unknown_client_is_refused_at_the_token_endpoint(app, client, signed_in):
    request, code = _code_for(app, client)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": request.verifier,
    }
    _assert_invalid_client(client.post("/token", data=data, headers=_basic("nobody", "secret")))
    # The code was not touched: the real client can still use it.
    assert exchange(client, request, code).status_code == 200


def test_a_wrong_client_secret_is_refused(app, client, signed_in):
    request, code = _code_for(app, client)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": request.verifier,
    }
    _assert_invalid_client(
        client.post("/token", data=data, headers=_basic(request.client.client_id, "wrong"))
    )
    posted = client.post(
        "/token", data={**data, "client_id": request.client.client_id, "client_secret": "wrong"}
    )
    assert posted.status_code in (400, 401) and posted.get_json()["error"] == "invalid_client"
    assert table_count(app, Grant) == 0


def test_a_confidential_client_must_authenticate(app, client, signed_in):
    request, code = _code_for(app, client)
    response = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": request.verifier,
            "client_id": request.client.client_id,
        },
    )
    _assert_invalid_client(response)
    assert table_count(app, Grant) == 0


def test_a_public_client_cannot_use_a_client_secret(app, client, signed_in):
    request, code = _code_for(app, client, public=True)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": request.verifier,
    }
    _assert_invalid_client(
        client.post("/token", data=data, headers=_basic(request.client.client_id, "anything"))
    )
    posted = client.post(
        "/token", data={**data, "client_id": request.client.client_id, "client_secret": "anything"}
    )
    assert posted.status_code in (400, 401) and posted.get_json()["error"] == "invalid_client"
    assert table_count(app, Grant) == 0


def test_a_public_client_without_a_secret_gets_tokens(app, client, signed_in):
    """The counterpart: the public client's proper request (client_id and PKCE only) works."""
    request, code = _code_for(app, client, public=True)
    response = exchange(client, request, code)
    assert response.status_code == 200 and response.get_json()["access_token"]


def test_client_secret_post_is_accepted(app, client, signed_in):
    request, code = _code_for(app, client)
    response = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": request.verifier,
            "client_id": request.client.client_id,
            "client_secret": request.client.secret,
        },
    )
    assert response.status_code == 200


def test_the_redirect_uri_at_the_token_endpoint_must_match(app, client, signed_in):
    register = register_client(app, redirect_uris=[REDIRECT_URI, "https://rp.example/other"])
    request = AuthorizationRequest(register)
    code = authorize(client, request)["code"]
    response = exchange(client, request, code, redirect_uri="https://rp.example/other")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert table_count(app, Grant) == 0


# --- responses: state and iss (RFC 9207), only the code flow --------------------------------------


def test_state_and_iss_come_back_with_the_code(app, client, signed_in):
    request = AuthorizationRequest(register_client(app), state="opaque-value-42")
    query = authorize(client, request)
    assert query["state"] == "opaque-value-42"
    assert query["iss"] == ISSUER
    assert set(query) == {"code", "state", "iss"}


def test_state_and_iss_come_back_with_an_error(app, client, signed_in):
    request = AuthorizationRequest(
        register_client(app),
        state="opaque-value-43",
        extra={"code_challenge": None, "code_challenge_method": None},
    )
    query = _error_redirect(client.get(request.url), request)
    assert query["state"] == "opaque-value-43"


def test_the_implicit_flow_is_refused(app, client, signed_in):
    for response_type in ("token", "id_token", "id_token token", "code token", "code id_token"):
        request = AuthorizationRequest(register_client(app), extra={"response_type": response_type})
        query = _error_redirect(client.get(request.url), request)
        assert query["error"] == "unsupported_response_type", response_type
        assert "access_token" not in query and "id_token" not in query
    assert table_count(app, AuthorizationCode) == 0


def test_the_password_grant_is_refused(app, client, users):
    profile = users.create()
    registered = register_client(app)
    response = client.post(
        "/token",
        data={
            "grant_type": "password",
            "username": profile.phone,
            "password": "Corr3ctHorseBattery",
            "scope": "openid",
        },
        headers=registered.basic_auth,
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"
    assert "access_token" not in response.get_json()


def test_a_client_may_use_only_its_registered_grants(app, client, users):
    """A client registered without refresh_token gets no refresh token."""
    profile = users.create()
    sign_in(client, profile.phone)
    registered = register_client(app, grant_types=["authorization_code"])
    request = AuthorizationRequest(registered, scope="openid offline_access")
    tokens = exchange(client, request, authorize(client, request)["code"]).get_json()
    assert "refresh_token" not in tokens
    assert table_count(app, RefreshToken) == 0
    response = client.post("/token", data={"grant_type": "client_credentials"}, headers=registered.basic_auth)
    assert response.get_json()["error"] == "unauthorized_client"


def test_the_token_endpoint_takes_no_get(app, client):
    registered = register_client(app)
    response = client.get(
        "/token?" + urlencode({"grant_type": "client_credentials"}), headers=registered.basic_auth
    )
    assert response.status_code == 405


def test_a_missing_redirect_uri_at_the_token_endpoint_is_refused(app, client, signed_in):
    request = AuthorizationRequest(register_client(app))
    code = authorize(client, request)["code"]
    response = exchange(client, request, code, redirect_uri=None)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert table_count(app, Grant) == 0


def test_a_nonce_is_accepted_once_per_client(app, client, signed_in):
    registered = register_client(app)
    first = AuthorizationRequest(registered, nonce="n-0S6_WzA2Mj")
    assert authorize(client, first)["code"]
    replay = AuthorizationRequest(registered, nonce="n-0S6_WzA2Mj")
    query = _error_redirect(client.get(replay.url), replay)
    assert query["error"] == "invalid_request"
    assert table_count(app, AuthorizationCode) == 1
