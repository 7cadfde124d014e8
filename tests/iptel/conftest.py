"""Fixtures of the IP-telephony portal: connected accounts and a profile in the cabinet of one."""

from __future__ import annotations

import re

import pytest

from idp.connectors.contract import VerifiedAccount
from idp.connectors.links import link
from idp.extensions import db
from idp.profiles.models import Profile
from tests.helpers.pages import CabinetClient, sign_in

NUMBER = "+380442270001"
LABEL = "+380 44 227 0001"
EMAIL = "office@example.com"
PASSWORD = "SipPortal7Pass"  # the password of the active account
BASE = "/services/iptel"


def initial_password(outbox, email: str = EMAIL) -> str:
    """The initial password from the newest connection letter to ``email``."""
    html = outbox.last(email, "iptel_initial_password").html
    return re.search(r'letter-spacing:1px">([^<]+)</strong>', html).group(1)


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
def cabinet(app, client, users, active) -> CabinetClient:
    """A profile with the active account linked, signed in, in its cabinet."""
    profile = users.create()
    link_account(app, profile)
    assert sign_in(client, profile.phone).location == "/"
    assert client.get(f"{BASE}/").headers["Location"] == f"{BASE}/cabinet"
    return CabinetClient(client, profile, NUMBER, BASE)


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
