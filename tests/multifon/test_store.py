"""The built-in provisioning store: sealed SIP passwords, validation, the credentials check."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import text

from connectors.multifon.store import (
    ProvisioningError,
    ProvisioningStore,
    find,
    provision,
    sealing_context,
    seed_calls,
)
from idp.connectors.registry import get
from idp.extensions import db
from idp.security.crypto import unseal
from tests.multifon.conftest import NUMBER, SECOND, SIP_PASSWORD


def test_the_sip_password_is_sealed_to_its_account(app, accounts):
    with app.app_context():
        stored = db.session.execute(
            text("SELECT sip_password_sealed FROM multifon_accounts WHERE number = :n"), {"n": NUMBER}
        ).scalar()
        assert SIP_PASSWORD not in stored and stored.startswith("g1.")
        assert unseal(stored, sealing_context(NUMBER)) == SIP_PASSWORD
        with pytest.raises(InvalidToken):
            unseal(stored, sealing_context(SECOND))  # copied to another account, it does not open


def test_provision_reads_any_typed_number_and_updates_an_existing_account(app, accounts):
    with app.app_context():
        account = provision("7 (926) 025-07-30", "N3wSipPass", balance="-0.5", routing="SIP+GSM")
        assert account.number == NUMBER
        overview = ProvisioningStore().overview(NUMBER)
        assert overview.balance == Decimal("-0.50") and overview.routing == "SIP+GSM"
        assert len([a for a in db.session.scalars(db.select(type(account)))]) == 2


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"number": "12345"}, "number"),
        ({"sip_password": ""}, "SIP password"),
        ({"balance": "lots"}, "balance"),
        ({"currency": "XYZ"}, "currency"),
        ({"status": "sleeping"}, "status"),
        ({"routing": "XYZ"}, "routing"),
        ({"trunk_lines": 21}, "trunk lines"),
        ({"trunk_lines": 0}, "trunk lines"),
        ({"caller_id": "not a number"}, "caller ID"),
    ],
)
def test_provision_refuses_bad_values_and_stores_nothing(app, changes, problem):
    values = {"number": "+79261112233", "sip_password": "SipPassw0rd", **changes}
    with app.app_context():
        with pytest.raises(ProvisioningError, match=problem):
            provision(values.pop("number"), values.pop("sip_password"), **values)
        assert find("+79261112233") is None


def test_calls_are_seeded_for_thirty_days_the_same_each_time(app, accounts):
    store = ProvisioningStore()
    with app.app_context():
        first = store.calls_per_day(NUMBER)
        seed_calls(NUMBER)
        assert store.calls_per_day(NUMBER) == first
        assert len(first) == 30 and sum(calls for _day, calls in first) > 0
        assert [day for day, _calls in first] == sorted(day for day, _calls in first)
        assert all(calls == 0 for _day, calls in store.calls_per_day(SECOND))


@pytest.mark.parametrize("typed", ["+7 926 025-07-30", "79260250730", "+79260250730", " +7 (926) 025 07 30 "])
def test_the_connector_reads_the_login_as_e164(app, typed):
    with app.app_context():
        assert get("multifon").normalise_login(typed) == NUMBER


@pytest.mark.parametrize("typed", ["", "abc", "12", "multifon-user"])
def test_a_login_that_is_no_number_is_none(app, typed):
    with app.app_context():
        assert get("multifon").normalise_login(typed) is None


def test_credentials_are_checked_against_the_sealed_password(app, accounts):
    with app.app_context():
        connector = get("multifon")
        verified = connector.verify_credentials(NUMBER, SIP_PASSWORD)
        assert verified.account == NUMBER and verified.label == "+7 (926) 025-07-30"
        assert connector.verify_credentials(NUMBER, SIP_PASSWORD.lower()) is None
        assert connector.verify_credentials("+79269999999", SIP_PASSWORD) is None
        assert connector.account_label(NUMBER) == "+7 (926) 025-07-30"


def test_the_sealed_column_is_offered_for_key_rotation(app, accounts):
    with app.app_context():
        [(model, column, context)] = get("multifon").encrypted_values()
        assert model.__tablename__ == "multifon_accounts" and column == "sip_password_sealed"
        assert context(find(NUMBER)) == sealing_context(NUMBER)
