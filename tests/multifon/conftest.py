"""Fixtures of the MultiFon cabinet: provisioned accounts and a profile signed in to one of them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from connectors.multifon.store import provision, seed_calls
from idp.connectors.contract import VerifiedAccount
from idp.connectors.links import link
from idp.extensions import db
from idp.profiles.models import Profile
from tests.helpers import Page, sign_in, submit

NUMBER = "+79260250730"
LABEL = "+7 (926) 025-07-30"
SIP_PASSWORD = "SipPassw0rd"
SECOND = "+79260250731"
SECOND_LABEL = "+7 (926) 025-07-31"
SECOND_PASSWORD = "Sec0ndSipPass"
BASE = "/services/multifon"


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


def link_account(app, profile: Profile, number: str, label: str) -> None:
    with app.app_context():
        link(db.session.get(Profile, profile.id), "multifon", VerifiedAccount(number, label))


@pytest.fixture
def accounts(app):
    """Two provisioned accounts: one with a negative balance and statistics, one plain."""
    with app.app_context():
        provision(NUMBER, SIP_PASSWORD, balance="-748822.93", routing="SIP", trunk_lines=2)
        seed_calls(NUMBER)
        provision(SECOND, SECOND_PASSWORD, balance="1500", tariff_option="Business 500",
                  caller_id="+74951234567", routing="GSM", trunk_lines=5)
    return NUMBER, SECOND


@pytest.fixture
def cabinet(app, client, users, accounts) -> Cabinet:
    """A profile with the first account linked, signed in, in its cabinet."""
    profile = users.create()
    link_account(app, profile, NUMBER, LABEL)
    assert sign_in(client, profile.phone).location == "/"
    assert client.get(f"{BASE}/").headers["Location"] == f"{BASE}/cabinet"
    return Cabinet(client, profile, NUMBER)


@pytest.fixture
def overview(app):
    """Read an account's overview straight from the store."""
    from connectors.multifon.store import ProvisioningStore

    def read(number: str = NUMBER):
        with app.app_context():
            return ProvisioningStore().overview(number)

    return read
