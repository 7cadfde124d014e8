"""Fixtures of the IP-telephony portal: connected accounts and a profile in the cabinet of one."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from idp.connectors.contract import VerifiedAccount
from idp.connectors.links import link
from idp.extensions import db
from idp.profiles.models import Profile
from tests.helpers import Page, sign_in, submit

NUMBER = "+380442270001"
LABEL = "+380 44 227 0001"
EMAIL = "office@example.com"
PASSWORD = "SipPortal7Pass"  # the password of the active account
BASE = "/services/iptel"


@dataclass
class Cabinet:
    """A browser signed in to the cabinet of ``number``."""

    client: FlaskClient
    profile: Profile
    number: str

    def get(self, path: str = "/cabinet") -> Page:
        response = self.client.get(BASE + path)
        return Page(response.status_code, response.headers.get("Location"),
                    response.get_data(as_text=True))

    def post(self, path: str, data: dict | None = None, account: str | None = None,
             follow: bool = True, page: str | None = None) -> Page:
        """Submit to ``path`` for ``account`` (default: the active one) with the CSRF token of
        ``page`` (default: ``path``)."""
        fields = {"service_account": account or self.number, **(data or {})}
        return submit(self.client, BASE + path, fields, follow=follow,
                      page=BASE + (page or path))


def initial_password(outbox, email: str = EMAIL) -> str:
    """The initial password from the newest connection letter to ``email``."""
    text = outbox.last(email, "iptel_initial_password").text
    return re.search(r": (\S+)\n", text).group(1)


@pytest.fixture
def connected(app, outbox):
    """A freshly connected (inactive) account; returns its initial password."""
    from connectors.iptel.accounts import connect

    with app.app_context():
        connect(NUMBER, EMAIL, "en")
    return initial_password(outbox)


@pytest.fixture
def active(app):
    """An active account with PASSWORD."""
    from connectors.iptel.accounts import create_active

    with app.app_context():
        create_active(NUMBER, EMAIL, PASSWORD, "en")
    return NUMBER


def link_account(app, profile: Profile, number: str = NUMBER) -> None:
    from connectors.iptel.accounts import label

    with app.app_context():
        link(db.session.get(Profile, profile.id), "iptel", VerifiedAccount(number, label(number)))


@pytest.fixture
def cabinet(app, client, users, active) -> Cabinet:
    """A profile with the active account linked, signed in, in its cabinet."""
    profile = users.create()
    link_account(app, profile)
    assert sign_in(client, profile.phone).location == "/"
    assert client.get(f"{BASE}/").headers["Location"] == f"{BASE}/cabinet"
    return Cabinet(client, profile, NUMBER)


@pytest.fixture
def account(app):
    """Read the account straight from the database."""
    from connectors.iptel.accounts import find

    def read(number: str = NUMBER):
        with app.app_context():
            row = find(number)
            db.session.expunge(row)
            return row

    return read
