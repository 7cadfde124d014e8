"""A provisioning client of the API and its calls, through Flask's test client or over HTTP."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from idp.api.auth import SCOPES
from idp.oauth.clients import create_client

ALL_SCOPES = " ".join(SCOPES)


@dataclass
class Machine:
    """A client_credentials client with its access token, calling /api/v1."""

    http: FlaskClient
    client_id: str
    secret: str
    token: str

    def call(self, method: str, path: str, json=None, lang: str = "en", **headers):
        headers = {"Authorization": f"Bearer {self.token}", "Accept-Language": lang, **headers}
        return self.http.open("/api/v1" + path, method=method, json=json, headers=headers)

    def get(self, path: str, **headers):
        return self.call("GET", path, **headers)

    def post(self, path: str, json=None, **headers):
        return self.call("POST", path, json=json if json is not None else {}, **headers)

    def patch(self, path: str, json, **headers):
        return self.call("PATCH", path, json=json, **headers)


def token_for(http: FlaskClient, client_id: str, secret: str, scope: str) -> str:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = http.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": scope},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


def machine(app: Flask, scope: str = ALL_SCOPES, org_id: int | None = None, name: str = "CRM") -> Machine:
    """Register a provisioning client (bound to ``org_id`` when given) and take a token."""
    with app.app_context():
        registered = create_client(name, [], grant_types=["client_credentials"], scope=scope, org_id=org_id)
        client_id, secret = registered.client.client_id, registered.secret
    http = app.test_client()
    return Machine(http, client_id, secret, token_for(http, client_id, secret, scope))
