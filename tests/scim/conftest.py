"""Fixtures of the SCIM tests: the organisations of tests.orgs (``world``), a SCIM token of
organisation A made by its owner, and a directory that speaks SCIM to the app (test client) or to
a live server (``requests``, and scim2-client over it for scim2-tester)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from flask import Flask
from scim2_client.client import BaseSyncSCIMClient
from scim2_client.engines.inprocess import _prepare_request, _stays_under_base_url

from idp.extensions import db
from idp.orgs.services import Actor
from idp.profiles.models import Profile
from idp.scim.tokens import create_token
from tests.orgs import test_services as core

world = core.world  # the fixture

SCIM = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
INVITE_LINK = re.compile(r"https?://[^/\s]+/invite/([A-Za-z0-9_-]+)")


def make_token(app: Flask, world: core.World, which: str = "a", label: str = "Entra") -> str:
    """A SCIM token of organisation ``which``, made by its owner; return its secret."""
    owner = "owner" if which == "a" else "b_owner"
    with app.app_context():
        _row, secret = create_token(
            Actor.person(db.session.get(Profile, world.ids[owner])), world.org(which), label
        )
        return secret


@pytest.fixture
def token(app, world) -> str:
    return make_token(app, world)


def user(user_name: str, **fields: Any) -> dict[str, Any]:
    """A SCIM User as Entra ID sends it."""
    return {"schemas": [USER_SCHEMA], "userName": user_name, "active": True, **fields}


def replace_active(value: Any, op: str = "Replace") -> dict[str, Any]:
    """Entra ID's unassignment: ``{"op": "Replace", "path": "active", "value": false}``."""
    return {"schemas": [PATCH_SCHEMA], "Operations": [{"op": op, "path": "active", "value": value}]}


@dataclass
class Directory:
    """A directory (Entra ID, Okta) calling one organisation's SCIM endpoint through the test client."""

    http: Any
    base: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": SCIM, "Accept": SCIM}

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any):
        data = json.dumps(body) if body is not None else None
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.open(self.base + path, method=method, data=data, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any):
        return self.call("GET", path, **kwargs)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.call("POST", "/Users", body)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return answer.get_json()

    def find(self, filter_text: str) -> list[dict[str, Any]]:
        answer = self.get("/Users", query_string={"filter": filter_text})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_json()["Resources"]


@pytest.fixture
def directory(app, world, token) -> Directory:
    return Directory(app.test_client(), f"/scim/v2/{world.org_a}", token)


class LiveSCIMClient(BaseSyncSCIMClient):
    """scim2-client over ``requests`` to a live server (its httpx engine needs a missing module)."""

    def __init__(self, base_url: str, token: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = base_url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def _stays_under_base_url(self, endpoint: str) -> bool:
        return _stays_under_base_url(self.base_url, endpoint)

    def _parse_json(self, response: Any) -> Any:
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        prepared = _prepare_request(self.base_url, None, method, url, **kwargs)
        return self.http.request(
            method, prepared.url.geturl(), headers=dict(prepared.headers), data=prepared.body, timeout=30
        )
