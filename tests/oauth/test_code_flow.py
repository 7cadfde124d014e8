"""The authorization code flow end to end through the real pages, with the tokens it yields."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import event

from idp.extensions import db
from tests.oauth.helpers import (
    AuthorizationRequest,
    authorize,
    exchange,
    register_client,
    signed_in_tokens,
)

ISSUER = "http://127.0.0.1:5000"


def _verify(client, token: str) -> jwt.Token:
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    return jwt.decode(token, keys, algorithms=["ES256", "RS256"])


def test_discovery_names_every_endpoint(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["issuer"] == ISSUER
    assert metadata["authorization_endpoint"] == ISSUER + "/authorize"
    assert metadata["token_endpoint"] == ISSUER + "/token"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]
    assert "implicit" not in metadata["grant_types_supported"]
    assert "password" not in metadata["grant_types_supported"]
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_code_flow_issues_id_access_and_refresh_tokens(app, client, users):
    profile, request, tokens = signed_in_tokens(
        client, users, app, scope="openid profile email phone offline_access"
    )
    assert tokens["token_type"] == "Bearer"
    id_token = _verify(client, tokens["id_token"])
    assert id_token.claims["iss"] == ISSUER
    assert id_token.claims["aud"] == request.client.client_id
    assert id_token.claims["sub"] == profile.subject
    assert id_token.claims["nonce"] == request.nonce
    assert id_token.claims["amr"] == ["pwd"]
    assert id_token.claims["acr"] == "urn:business-id:acr:password"
    assert id_token.claims["sid"]
    assert "auth_time" in id_token.claims
    assert profile.phone not in tokens["id_token"]

    access = _verify(client, tokens["access_token"])
    assert access.header["typ"] == "at+jwt"
    assert access.claims["client_id"] == request.client.client_id
    assert access.claims["sub"] == profile.subject

    info = client.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert info.status_code == 200
    claims = info.get_json()
    assert claims["sub"] == profile.subject
    assert claims["phone_number"] == profile.phone and claims["phone_number_verified"] is True
    assert claims["email_verified"] is True
    assert claims["family_name"] == "Koval"
    assert tokens["refresh_token"]


def test_authorization_response_names_the_issuer(app, client, users):
    users.create(phone="+380501112233")
    from tests.helpers.pages import sign_in

    sign_in(client, "+380501112233")
    request = AuthorizationRequest(register_client(app))
    query = authorize(client, request)
    assert query["iss"] == ISSUER
    assert query["state"] == request.state
    assert exchange(client, request, query["code"]).status_code == 200


def test_browser_apps_may_call_the_token_endpoint_from_their_origin(app, client):
    register_client(app, public=True, redirect_uris=["https://spa.example/callback"])
    allowed = client.options(
        "/token", headers={"Origin": "https://spa.example", "Access-Control-Request-Method": "POST"}
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://spa.example"
    stranger = client.options(
        "/token", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in stranger.headers
    keys = client.get("/jwks.json", headers={"Origin": "https://evil.example"})
    assert keys.headers["Access-Control-Allow-Origin"] == "*"


def test_a_code_flow_reads_the_profile_with_the_session_and_with_the_code(app, client, users):
    """The signed-in profile comes with the browser session's row, and the code's profile with
    the code: neither page reads the profiles' table on its own (a round trip each on PostgreSQL)."""
    registered = register_client(app)
    signed_in_tokens(client, users, app, client=registered)  # keys made, client and session warm
    with app.app_context():
        engine = db.engine
    profile_reads: list[str] = []

    def seen(_connection, _cursor, statement, *_rest) -> None:
        if statement.lstrip().startswith("SELECT profiles."):
            profile_reads.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        request = AuthorizationRequest(registered, scope="openid profile")
        tokens = exchange(client, request, authorize(client, request)["code"]).get_json()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert profile_reads == []
    assert _verify(client, tokens["id_token"]).claims["sub"] and "access_token" in tokens
