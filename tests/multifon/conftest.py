"""Fixtures of the MultiFon cabinet: provisioned accounts and a profile signed in to one of them."""

from __future__ import annotations

import pytest

from connectors.multifon.store import provision, seed_calls
from idp.connectors.contract import VerifiedAccount
from idp.connectors.links import link
from idp.extensions import db
from idp.profiles.models import Profile
from tests.helpers.pages import CabinetClient, sign_in

NUMBER = "+79260250730"
LABEL = "+7 (926) 025-07-30"
SIP_PASSWORD = "SipPassw0rd"
SECOND = "+79260250731"
SECOND_LABEL = "+7 (926) 025-07-31"
SECOND_PASSWORD = "Sec0ndSipPass"
BASE = "/services/multifon"


def link_account(app, profile: Profile, number: str, label: str) -> None:
    with app.app_context():
        link(db.session.get(Profile, profile.id), "multifon", VerifiedAccount(number, label))


@pytest.fixture
def accounts(app):
    """Two provisioned accounts: one with a negative balance and statistics, one plain."""
    with app.app_context():
        provision(NUMBER, SIP_PASSWORD, balance="-748822.93", routing="SIP", trunk_lines=2)
        seed_calls(NUMBER)
        provision(
            SECOND,
            SECOND_PASSWORD,
            balance="1500",
            tariff_option="Business 500",
            caller_id="+74951234567",
            routing="GSM",
            trunk_lines=5,
        )
    return NUMBER, SECOND


@pytest.fixture
def cabinet(app, client, users, accounts) -> CabinetClient:
    """A profile with the first account linked, signed in, in its cabinet."""
    profile = users.create()
    link_account(app, profile, NUMBER, LABEL)
    assert sign_in(client, profile.phone).location == "/"
    assert client.get(f"{BASE}/").headers["Location"] == f"{BASE}/cabinet"
    return CabinetClient(client, profile, NUMBER, BASE)


@pytest.fixture
def overview(app):
    """Read an account's overview straight from the store."""
    from connectors.multifon.store import ProvisioningStore

    def read(number: str = NUMBER):
        with app.app_context():
            return ProvisioningStore().overview(number)

    return read
