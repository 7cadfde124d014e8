"""pyoidc (the ``oic`` package) as the relying party, against the provider served on loopback.

pyoidc does what a relying party written elsewhere does: it reads the discovery document and the
JWKS, builds the authorization request (with PKCE S256), exchanges the code with client_secret_basic,
verifies the ID token (ES256 signature against the JWKS, iss, aud, exp, nonce), calls userinfo,
refreshes, revokes (RFC 7009) and builds the RP-initiated logout request. The person's part (the
provider's sign-in pages) is played by a ``requests`` browser.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from jwkest import BadSignature
from oic import rndstr
from oic.extension.message import TokenRevocationRequest
from oic.oauth2.message import ErrorResponse
from oic.oic import Client
from oic.oic.message import (
    AccessTokenResponse,
    AuthorizationResponse,
    EndSessionRequest,
    EndSessionResponse,
    IdToken,
    OpenIDSchema,
    ProviderConfigurationResponse,
    RegistrationResponse,
)
from oic.utils.authn.client import CLIENT_AUTHN_METHOD
from oic.utils.settings import OicClientSettings

from tests.helpers.records import PASSWORD
from tests.oauth.helpers import register_client
from tests.oauth.interop.browser import Browser, query_of

REDIRECT_URI = "http://127.0.0.1/pyoidc/callback"  # loopback; the browser stops before following it
SIGNED_OUT_URI = "http://127.0.0.1/pyoidc/signed-out"
PHONE = "+380501112233"


def relying_party(issuer: str, client_id: str, secret: str) -> Client:
    """A pyoidc client that discovered the provider and knows its (out-of-band) registration."""
    rp = Client(client_authn_method=CLIENT_AUTHN_METHOD, settings=OicClientSettings(timeout=10))
    # provider_config reads /.well-known/openid-configuration and checks that its issuer is the one
    # asked for; the JWKS is fetched into rp.keyjar when a signature has to be verified.
    provider = rp.provider_config(issuer)
    assert isinstance(provider, ProviderConfigurationResponse)
    rp.store_registration_info(
        RegistrationResponse(
            client_id=client_id,
            client_secret=secret,
            redirect_uris=[REDIRECT_URI],
            post_logout_redirect_uris=[SIGNED_OUT_URI],
            token_endpoint_auth_method="client_secret_basic",
            id_token_signed_response_alg="ES256",
        )
    )
    rp.redirect_uris = [REDIRECT_URI]
    return rp


@dataclass
class SignedIn:
    rp: Client
    state: str
    nonce: str
    tokens: AccessTokenResponse
    authorization: AuthorizationResponse


def sign_in(
    rp: Client, browser: Browser, identifier: str, scope: str = "openid profile email phone offline_access"
) -> SignedIn:
    """The authorization code flow with PKCE S256, then the code exchanged by pyoidc."""
    state, nonce = rndstr(24), rndstr(24)
    pkce, verifier = rp.add_code_challenge()  # S256 is pyoidc's default transformation
    assert pkce["code_challenge_method"] == "S256"
    # authorization_request_info also remembers the nonce of this state: do_access_token_request
    # compares it with the nonce in the ID token.
    url, _, _, _ = rp.authorization_request_info(
        request_args={
            "response_type": "code",
            "scope": scope.split(),
            "state": state,
            "nonce": nonce,
            "redirect_uri": REDIRECT_URI,
            **pkce,
        }
    )
    assert rp.state2nonce[state] == nonce
    callback = browser.visit(url, until=REDIRECT_URI, identifier=identifier)

    authorization = rp.parse_response(AuthorizationResponse, info=callback, sformat="urlencoded")
    assert isinstance(authorization, AuthorizationResponse), authorization
    assert authorization["state"] == state
    # RFC 9207: the provider names itself in the redirect (it says so in its metadata). pyoidc
    # 1.7 predates that RFC and passes `iss` through untouched, so the RP checks it, as a
    # pyoidc RP guarding against mix-up attacks does, before it sends the code anywhere.
    assert rp.provider_info["authorization_response_iss_parameter_supported"] is True
    assert authorization["iss"] == rp.provider_info["issuer"]

    tokens = rp.do_access_token_request(
        state=state,
        request_args={"code": authorization["code"], "code_verifier": verifier},
        authn_method="client_secret_basic",
    )
    assert isinstance(tokens, AccessTokenResponse), tokens.to_dict()
    return SignedIn(rp, state, nonce, tokens, authorization)


def userinfo(rp: Client, access_token: str):
    return rp.do_user_info_request(method="GET", token=access_token)


def test_pyoidc_signs_in_with_the_code_flow_and_pkce(issuer, app, users, browser):
    profile = users.create(phone=PHONE)
    client = register_client(
        app, redirect_uris=[REDIRECT_URI], first_party=False, post_logout_redirect_uris=[SIGNED_OUT_URI]
    )
    rp = relying_party(issuer, client.client_id, client.secret)
    assert rp.provider_info["issuer"] == issuer
    assert rp.token_endpoint == issuer + "/token"
    assert "S256" in rp.provider_info["code_challenge_methods_supported"]

    # A third-party client: the browser passes the consent page too.
    signed = sign_in(rp, browser, PHONE)
    assert browser.answered == ["signin", "consent"]
    tokens = signed.tokens
    assert tokens["token_type"] == "Bearer"
    assert tokens["refresh_token"]

    # pyoidc verified the ID token while parsing the token response: the signature against the
    # provider's JWKS (ES256), iss = the discovered issuer, aud contains the client id, not expired,
    # and the nonce of this state.
    id_token = tokens["id_token"]
    assert isinstance(id_token, IdToken)
    assert id_token.jws_header["alg"] == "ES256"
    assert id_token.jws_header["kid"] in {key.kid for key in rp.keyjar.get_signing_key("EC", issuer)}
    assert id_token["iss"] == issuer
    assert id_token["aud"] == [client.client_id]
    assert id_token["sub"] == profile.subject
    assert id_token["nonce"] == signed.nonce
    rp.verify_id_token(id_token, {"nonce": signed.nonce, "response_type": ["code"]})

    # The same check refuses an ID token whose signature does not match its content.
    header, payload, signature = id_token.jwt.split(".")
    forged = ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])
    with pytest.raises(BadSignature):
        IdToken().from_jwt(forged, keyjar=rp.keyjar)

    info = userinfo(rp, tokens["access_token"])
    assert isinstance(info, OpenIDSchema), info.to_dict()
    assert info["sub"] == profile.subject
    assert info["email"] == profile.email and info["email_verified"] is True
    assert info["phone_number"] == PHONE and info["phone_number_verified"] is True
    assert info["given_name"] == "Olena" and info["family_name"] == "Koval"


def test_pyoidc_refresh_rotates_the_refresh_token(issuer, app, users, browser):
    profile = users.create(phone=PHONE)
    client = register_client(app, redirect_uris=[REDIRECT_URI], post_logout_redirect_uris=[SIGNED_OUT_URI])
    rp = relying_party(issuer, client.client_id, client.secret)
    signed = sign_in(rp, browser, PHONE)
    first = signed.tokens["refresh_token"]

    refreshed = rp.do_access_token_refresh(state=signed.state, authn_method="client_secret_basic")
    assert isinstance(refreshed, AccessTokenResponse), refreshed.to_dict()
    assert refreshed["refresh_token"] != first
    assert refreshed["access_token"] != signed.tokens["access_token"]
    # OpenID Connect Core §12.2: a refresh response "might not contain an id_token"; this one
    # does not, and the access token still speaks for the same person.
    assert "id_token" not in refreshed or refreshed["id_token"]["sub"] == profile.subject
    assert userinfo(rp, refreshed["access_token"])["sub"] == profile.subject

    # The rotated-out refresh token is refused. Its reuse means someone holds a copy, so the
    # whole grant ends: the new refresh token and the access token stop working too.
    replay = rp.do_access_token_refresh(token=_token(first), authn_method="client_secret_basic")
    assert isinstance(replay, ErrorResponse) and replay["error"] == "invalid_grant", replay.to_dict()
    again = rp.do_access_token_refresh(
        token=_token(refreshed["refresh_token"]), authn_method="client_secret_basic"
    )
    assert isinstance(again, ErrorResponse) and again["error"] == "invalid_grant", again.to_dict()
    assert _refused(rp, refreshed["access_token"])


def test_pyoidc_revocation_ends_the_grant(issuer, app, users, browser):
    users.create(phone=PHONE)
    client = register_client(app, redirect_uris=[REDIRECT_URI], post_logout_redirect_uris=[SIGNED_OUT_URI])
    rp = relying_party(issuer, client.client_id, client.secret)
    signed = sign_in(rp, browser, PHONE)
    access_token = signed.tokens["access_token"]
    assert userinfo(rp, access_token)["sub"]

    # RFC 7009: POST token + token_type_hint to the revocation endpoint, the client authenticated
    # with client_secret_basic, all built by pyoidc (request_info with its authn methods).
    url, body, http_args, _ = rp.request_info(
        TokenRevocationRequest,
        method="POST",
        request_args={"token": signed.tokens["refresh_token"], "token_type_hint": "refresh_token"},
        authn_method="client_secret_basic",
    )
    assert url == rp.provider_info["revocation_endpoint"]
    assert http_args["headers"]["Authorization"].startswith("Basic ")
    response = rp.http_request(url, "POST", data=body, **http_args)
    assert response.status_code == 200, response.text

    # The access token of the revoked grant is refused at userinfo, and the refresh token too.
    assert _refused(rp, access_token)
    refresh = rp.do_access_token_refresh(state=signed.state, authn_method="client_secret_basic")
    assert isinstance(refresh, ErrorResponse) and refresh["error"] == "invalid_grant", refresh.to_dict()

    # Revoking it again is not an error (RFC 7009 §2.2); a wrong client secret is.
    assert rp.http_request(url, "POST", data=body, **http_args).status_code == 200
    rp.client_secret = "not-the-secret"
    url, body, http_args, _ = rp.request_info(
        TokenRevocationRequest,
        method="POST",
        request_args={"token": access_token},
        authn_method="client_secret_basic",
    )
    assert rp.http_request(url, "POST", data=body, **http_args).status_code == 401


def test_pyoidc_rp_initiated_logout(issuer, app, users, browser):
    users.create(phone=PHONE)
    client = register_client(app, redirect_uris=[REDIRECT_URI], post_logout_redirect_uris=[SIGNED_OUT_URI])
    rp = relying_party(issuer, client.client_id, client.secret)
    # Without offline_access the grant is online: it lasts as long as the browser session.
    signed = sign_in(rp, browser, PHONE, scope="openid profile email")
    assert browser.signed_in(issuer)

    # pyoidc builds the logout request with the ID token of this state as id_token_hint.
    logout_state = rndstr(16)
    url, _, _, request = rp.request_info(
        EndSessionRequest,
        method="GET",
        state=signed.state,
        request_args={"post_logout_redirect_uri": SIGNED_OUT_URI, "state": logout_state},
    )
    assert url.startswith(rp.provider_info["end_session_endpoint"] + "?")
    assert request["id_token_hint"] == signed.tokens["id_token"].jwt

    # A valid id_token_hint: the provider signs the browser out at once and sends it back.
    response = browser.get(url)
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    assert location.split("?")[0] == SIGNED_OUT_URI
    back = rp.parse_response(EndSessionResponse, info=location, sformat="urlencoded")
    assert back["state"] == logout_state == query_of(location)["state"]

    assert not browser.signed_in(issuer)
    # The tokens of the session's (online) grant end with it.
    assert _refused(rp, signed.tokens["access_token"])
    refresh = rp.do_access_token_refresh(state=signed.state, authn_method="client_secret_basic")
    assert isinstance(refresh, ErrorResponse) and refresh["error"] == "invalid_grant", refresh.to_dict()

    # The next authorization request of this browser goes through the sign-in page again.
    url, _, _, _ = rp.authorization_request_info(
        request_args={
            "response_type": "code",
            "scope": ["openid"],
            "state": rndstr(16),
            "nonce": rndstr(16),
            "redirect_uri": REDIRECT_URI,
            **rp.add_code_challenge()[0],
        }
    )
    seen = len(browser.visited)
    assert browser.visit(url, until=REDIRECT_URI, identifier=PHONE, password=PASSWORD)
    assert any("/signin?" in visited for visited in browser.visited[seen:])


def _token(refresh_token: str):
    """A pyoidc token object for a refresh token the RP kept (an old one, on purpose)."""
    from oic.oauth2.grant import Token

    return Token(AccessTokenResponse(access_token="unused", token_type="Bearer", refresh_token=refresh_token))


def _refused(rp: Client, access_token: str) -> bool:
    """Whether userinfo refuses ``access_token`` (401 with WWW-Authenticate: invalid_token)."""
    response = rp.http_request(
        rp.userinfo_endpoint, "GET", headers={"Authorization": "Bearer " + access_token}
    )
    return response.status_code == 401 and "invalid_token" in response.headers.get("WWW-Authenticate", "")
