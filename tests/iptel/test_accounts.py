"""Connecting the service (seed 000 step 1): an inactive account, its initial password by e-mail in
the customer's language, the password sealed; ``idp iptel``; disconnection."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from connectors.iptel import accounts
from connectors.iptel.models import ACTIVE, DISCONNECTED, INACTIVE, IptelAccount
from idp.extensions import db
from tests.iptel.conftest import EMAIL, NUMBER, initial_password


@pytest.mark.parametrize("lang", ["uk", "ru", "en"])
def test_connecting_emails_an_initial_password_in_the_customers_language(app, outbox, lang):
    with app.app_context():
        account = accounts.connect("044 227 0001", EMAIL, lang)
        assert (account.number, account.status, account.language) == (NUMBER, INACTIVE, lang)
        sealed = account.password_sealed
    letter = outbox.last(EMAIL, "iptel_initial_password")
    password = initial_password(outbox)
    with app.test_request_context(), force_locale(lang):
        assert letter.subject == gettext("Your IP-telephony service is connected")
    assert letter.locale == lang and "/services/iptel/login" in letter.text
    assert len(password) == 12 and password not in sealed  # stored sealed, never in clear
    with app.app_context():
        assert accounts.verify(NUMBER, password) is not None
        assert accounts.verify(NUMBER, password + "x") is None
        assert accounts.verify("+380442270009", password) is None


def test_initial_passwords_are_random_and_meet_the_rules(app):
    from idp.security.passwords import broken_rules

    with app.app_context():
        passwords = {accounts.initial_password() for _ in range(50)}
        assert len(passwords) == 50
        assert all(not broken_rules(p) and not set(p) & set("0O1lI") for p in passwords)


def test_a_connected_number_cannot_be_connected_twice_but_a_disconnected_one_can(app, outbox):
    with app.app_context():
        accounts.connect(NUMBER, EMAIL)
        with pytest.raises(accounts.ConnectError, match="already connected"):
            accounts.connect(NUMBER, "other@example.com")
        first = initial_password(outbox)
        accounts.disconnect(NUMBER)
        assert accounts.verify(NUMBER, first) is None  # a disconnected service does not sign in
        again = accounts.connect(NUMBER, "new@example.com", "ru")
        assert (again.status, again.email, again.language) == (INACTIVE, "new@example.com", "ru")
    second = initial_password(outbox, "new@example.com")
    with app.app_context():
        assert accounts.verify(NUMBER, first) is None and accounts.verify(NUMBER, second)


@pytest.mark.parametrize(
    ("number", "email", "language", "complaint"),
    [
        ("12345", EMAIL, "uk", "not a valid phone number"),
        (NUMBER, "not-an-address", "uk", "not a valid address"),
        (NUMBER, EMAIL, "de", "language"),
    ],
)
def test_bad_connection_values_are_refused_and_nothing_is_stored(
    app, outbox, number, email, language, complaint
):
    with app.app_context():
        with pytest.raises(accounts.ConnectError, match=complaint):
            accounts.connect(number, email, language)
        assert db.session.scalar(db.select(db.func.count(IptelAccount.id))) == 0
    assert outbox.messages(EMAIL) == []


def test_the_first_password_change_activates_and_later_ones_notify(app, outbox):
    with app.app_context():
        account = accounts.connect(NUMBER, EMAIL, "en")
        accounts.set_password(account, "MyOwnPassw0rd", how="changed")
        assert account.status == ACTIVE and account.activated_at is not None
        accounts.set_password(account, "An0therPassword", how="changed")
    kinds = [m.kind for m in outbox.messages(EMAIL)]
    assert kinds == ["iptel_password_changed", "iptel_activated", "iptel_initial_password"]
    for message in outbox.messages(EMAIL)[:2]:
        assert "MyOwnPassw0rd" not in message.text and "An0therPassword" not in message.text
        assert "MyOwnPassw0rd" not in (message.html or "")


def test_cli_connects_lists_shows_and_refuses(app, outbox):
    cli = app.test_cli_runner()
    result = cli.invoke(
        args=[
            "iptel",
            "connect",
            "--number",
            "+380 44 227 0001",
            "--email",
            EMAIL,
            "--language",
            "ru",
            "--no-forwarding",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "inactive until the password is changed" in result.output
    password = initial_password(outbox)
    assert password not in result.output
    listed = cli.invoke(args=["iptel", "list"]).output
    assert NUMBER in listed and "inactive" in listed
    shown = cli.invoke(args=["iptel", "show", "0442270001"]).output
    assert "not authorised" in shown and "(sealed, not shown)" in shown and password not in shown
    again = cli.invoke(args=["iptel", "connect", "--number", NUMBER, "--email", EMAIL])
    assert again.exit_code != 0 and "already connected" in again.output
    assert cli.invoke(args=["iptel", "show", "+380442270009"]).exit_code != 0


def test_operator_disconnection_switches_forwarding_off(app):
    from connectors.iptel.forwarding import BUSY, forwardings, set_forwarding

    with app.app_context():
        account = accounts.create_active(NUMBER, EMAIL, "SipPortal7Pass")
        set_forwarding(account, BUSY, enabled=True, number="+380671234567")
    result = app.test_cli_runner().invoke(args=["services", "disconnect", "iptel", NUMBER])
    assert result.exit_code == 0, result.output
    with app.app_context():
        account = accounts.find(NUMBER)
        assert account.status == DISCONNECTED
        assert not forwardings(account)[BUSY].enabled
        assert forwardings(account)[BUSY].number == "+380671234567"


def test_rotating_the_secrets_key_keeps_the_password(app, settings):
    from cryptography.fernet import Fernet

    from idp import create_app
    from idp.security.crypto import sealed_with_newest_key

    with app.app_context():
        accounts.create_active(NUMBER, EMAIL, "SipPortal7Pass")
    new_key = Fernet.generate_key().decode()
    rotated = create_app({**settings, "IDP_SECRETS_KEY": f"{new_key},{app.config['IDP_SECRETS_KEY']}"})
    with rotated.app_context():
        result = rotated.test_cli_runner().invoke(args=["keys", "rotate-secrets"])
        assert "iptel_accounts.password_sealed: 1 re-encrypted" in result.output, result.output
        assert sealed_with_newest_key(accounts.find(NUMBER).password_sealed)
        db.session.remove()
        db.engine.dispose()
    only_new = create_app({**settings, "IDP_SECRETS_KEY": new_key})
    with only_new.app_context():
        assert accounts.verify(NUMBER, "SipPortal7Pass") is not None
        db.session.remove()
        db.engine.dispose()
