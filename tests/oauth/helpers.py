"""Helpers of the OpenID provider tests: clients, PKCE, and the code flow through the real pages."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from idp.oauth.clients import create_client
from tests.helpers.pages import csrf_token, sign_in
from tests.helpers.records import PASSWORD

REDIRECT_URI = "https://rp.example/callback"


@dataclass
class RegisteredClient:
    client_id: str
    secret: str | None
    redirect_uri: str = REDIRECT_URI

    @property
    def basic_auth(self) -> dict:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def register_client(app: Flask, *, redirect_uris: list[str] | None = None, **options) -> RegisteredClient:
    """Register a client (confidential, first-party unless told otherwise)."""
    options.setdefault("first_party", True)
    options.setdefault("post_logout_redirect_uris", ["https://rp.example/signed-out"])
    options.setdefault("scope", "openid profile email phone offline_access services")
    uris = redirect_uris or [REDIRECT_URI]
    with app.app_context():
        registered = create_client(options.pop("name", "Virtual PBX"), uris, **options)
        return RegisteredClient(registered.client.client_id, registered.secret, uris[0])


def pkce_pair() -> tuple[str, str]:
    """Return (verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


@dataclass
class AuthorizationRequest:
    client: RegisteredClient
    scope: str = "openid profile email phone"
    state: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    verifier: str = ""
    challenge: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.verifier:
            self.verifier, self.challenge = pkce_pair()

    @property
    def url(self) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.client.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            **self.extra,
        }
        return "/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize(http: FlaskClient, request: AuthorizationRequest) -> dict[str, str]:
    """Run /authorize for a signed-in browser (consenting if asked); return the redirect's query."""
    response = http.get(request.url)
    if response.status_code == 200 and 'name="decision"' in response.get_data(as_text=True):
        token = csrf_token(http, request.url)
        response = http.post(request.url, data={"csrf_token": token, "decision": "allow"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert location.startswith(request.client.redirect_uri), location
    return query_of(location)


def exchange(http: FlaskClient, request: AuthorizationRequest, code: str, **overrides):
    """POST the code to the token endpoint; return the response."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": request.client.redirect_uri,
        "code_verifier": request.verifier,
    }
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    headers = request.client.basic_auth if request.client.secret else {}
    if not request.client.secret:
        data["client_id"] = request.client.client_id
    return http.post("/token", data=data, headers=headers)


def signed_in_tokens(
    http: FlaskClient,
    users,
    app: Flask,
    client: RegisteredClient | None = None,
    scope: str = "openid profile email phone",
    phone: str = "+380501112233",
):
    """Create a profile, sign it in, run the code flow; return (profile, request, token JSON)."""
    profile = users.create(phone=phone)
    sign_in(http, phone, PASSWORD)
    client = client or register_client(app)
    request = AuthorizationRequest(client, scope=scope)
    query = authorize(http, request)
    response = exchange(http, request, query["code"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return profile, request, response.get_json()


# --- the machine endpoints --------------------------------------------------------------------


def bearer(access_token: str) -> dict:
    return {"Authorization": "Bearer " + access_token}


def userinfo(http: FlaskClient, access_token: str):
    """GET /userinfo with ``access_token``; return the response."""
    return http.get("/userinfo", headers=bearer(access_token))


def refresh(http: FlaskClient, client: RegisteredClient, refresh_token: str, **extra):
    """Use ``refresh_token`` at the token endpoint as ``client``; return the response."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    if client.secret:
        return http.post("/token", data=data, headers=client.basic_auth)
    return http.post("/token", data={**data, "client_id": client.client_id})


def introspect(http: FlaskClient, client: RegisteredClient, token: str, **extra) -> dict:
    """Ask the introspection endpoint about ``token`` as ``client``; return the JSON answer."""
    response = http.post("/introspect", data={"token": token, **extra}, headers=client.basic_auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def revoke(http: FlaskClient, client: RegisteredClient, token: str, **extra):
    """Revoke ``token`` as ``client``; return the response."""
    return http.post("/revoke", data={"token": token, **extra}, headers=client.basic_auth)


def table_count(app: Flask, model) -> int:
    """How many rows the table of ``model`` holds."""
    from idp.extensions import db

    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))
