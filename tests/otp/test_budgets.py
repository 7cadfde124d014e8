"""SMS send budgets: a stranger's sends per number, address and prefix ask for a proof of work once
spent, and stop at ceilings; a person who gave the right password has a budget of their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.pages import proof_challenge, register, sign_in, solve_proof, submit
from tests.helpers.records import PASSWORD, translated

SPENT = "Too many SMS were sent to this number or from your network. Try again later."
PROOF = (
    "Many codes were asked for from your network or for this number lately. Your browser "
    "makes a short check first; the code is sent when it is done."
)
PHONE = "+380671234567"


def asked_for_proof(page) -> bool:
    """The page asks its browser for a proof of work, saying why, with no error on the number."""
    return proof_challenge(page.text) is not None and PROOF in page.text and not page.errors


def start(client, phone: str, proof: str | None = None, **kwargs):
    data = {"phone": phone, **({"altcha": proof} if proof else {})}
    return submit(client, "/register", data, **kwargs)


def start_with_proof(client, phone: str, asked) -> object:
    """Send the form again with the solved proof of work the refusal ``asked`` for."""
    return start(client, phone, proof=solve_proof(asked.text))


def sms_count(outbox, phone: str | None = None) -> int:
    return len([m for m in outbox.messages(phone) if m.channel == "sms"])


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_number_gets_five_sms_an_hour_then_a_proof_of_work_is_asked(client, outbox):
    for _ in range(5):
        assert start(client, PHONE).location == "/register/code"
    asked = start(client, PHONE)
    assert asked.status == 200 and asked_for_proof(asked)
    assert proof_challenge(asked.text) is not None
    assert sms_count(outbox, PHONE) == 5
    assert start_with_proof(client, PHONE, asked).location == "/register/code"
    assert sms_count(outbox, PHONE) == 6


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour", IDP_SMS_LIMIT_NUMBER="3/hour")
def test_the_number_ceiling_holds_even_with_proofs(client, outbox):
    assert start(client, PHONE).location == "/register/code"
    for _ in range(2):
        assert start_with_proof(client, PHONE, start(client, PHONE)).location == "/register/code"
    assert start(client, PHONE).errors == [SPENT]
    assert proof_challenge(start(client, PHONE).text) is None
    assert sms_count(outbox, PHONE) == 3


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour")
def test_a_proof_of_work_works_once(client, outbox):
    start(client, PHONE)
    asked = start(client, PHONE)
    proof = solve_proof(asked.text)
    assert start(client, PHONE, proof=proof).location == "/register/code"
    replayed = start(client, PHONE, proof=proof)
    assert asked_for_proof(replayed)
    assert sms_count(outbox, PHONE) == 2


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour")
@pytest.mark.parametrize("proof", ["", "junk", "bnVsbA==", "e30=", "W10=", "x" * 3000])
def test_a_forged_proof_of_work_sends_nothing(client, outbox, proof):
    start(client, PHONE)
    assert asked_for_proof(start(client, PHONE, proof=proof))
    assert sms_count(outbox, PHONE) == 1


def test_the_number_budget_counts_across_browsers_and_addresses(app, outbox):
    for n in range(5):
        assert start(from_address(app, f"10.0.0.{n + 1}"), PHONE).location == "/register/code"
    assert asked_for_proof(start(from_address(app, "10.0.1.1"), PHONE))
    assert sms_count(outbox, PHONE) == 5


@pytest.mark.idp_settings(IDP_SMS_BUDGET_IP="2/hour")
def test_an_address_has_its_own_budget(app, client, outbox):
    assert start(client, "+380671234501").location == "/register/code"
    assert start(client, "+380501234502").location == "/register/code"
    asked = start(client, "+380631234503")
    assert asked_for_proof(asked)
    assert sms_count(outbox, "+380631234503") == 0
    assert start(from_address(app, "192.0.2.7"), "+380631234503").location == "/register/code"


@pytest.mark.idp_settings(IDP_SMS_BUDGET_IP="2/hour")
def test_an_office_behind_one_address_still_registers_after_a_check(client, outbox):
    for n in range(2):
        assert start(client, f"+38067123450{n}").location == "/register/code"
    colleague = "+380671234509"
    assert start_with_proof(client, colleague, start(client, colleague)).location == "/register/code"
    assert sms_count(outbox, colleague) == 1


@pytest.mark.idp_settings(IDP_SMS_BUDGET_PREFIX="2/hour")
def test_a_number_prefix_has_its_own_budget(app, outbox):
    assert start(from_address(app, "198.51.100.1"), "+380671234501").location == "/register/code"
    assert start(from_address(app, "198.51.100.2"), "+380671234502").location == "/register/code"
    assert asked_for_proof(start(from_address(app, "198.51.100.3"), "+380671234503"))  # +380671
    assert sms_count(outbox, "+380671234503") == 0
    assert start(from_address(app, "198.51.100.4"), "+380501234503").location == "/register/code"


@pytest.mark.idp_settings(IDP_SMS_BUDGET_PREFIX="2/hour", IDP_SMS_LIMIT_PREFIX="3/hour")
def test_the_prefix_ceiling_holds_even_with_proofs(app, outbox):
    for n in range(2):
        start(from_address(app, f"198.51.100.{n}"), f"+38067123450{n}")
    client = from_address(app, "198.51.100.9")
    assert (
        start_with_proof(client, "+380671234508", start(client, "+380671234508")).location == "/register/code"
    )
    assert start(client, "+380671234509").errors == [SPENT]


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour")
def test_a_resend_draws_from_the_budget_too(client, outbox, time_machine):
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=1), tick=False)
    register(client, outbox, PHONE, until="code")
    time_machine.shift(timedelta(seconds=61))
    page = submit(client, "/register/code/resend", page="/register/code", follow=True)
    assert proof_challenge(page.text) is not None and PROOF in page.text
    assert sms_count(outbox, PHONE) == 1
    proof = solve_proof(page.text)  # the code page's resend form now carries the challenge
    again = submit(client, "/register/code/resend", {"altcha": proof}, page="/register/code", follow=True)
    assert ("info", "We sent a new code.") in again.flashes
    assert sms_count(outbox, PHONE) == 2


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour")
def test_recovery_and_registration_share_the_budget_of_a_number(client, outbox, users):
    profile = users.create()
    assert submit(client, "/recover", {"phone": profile.phone}).location == "/recover/code"
    assert asked_for_proof(start(client, profile.phone))
    assert asked_for_proof(submit(client, "/recover", {"phone": profile.phone}))
    assert sms_count(outbox, profile.phone) == 1


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour", IDP_SMS_LIMIT_NUMBER="1/hour")
@pytest.mark.parametrize("locale", ["uk", "ru"])
def test_the_budget_messages_are_in_the_language_of_the_page(app, client, locale):
    start(client, PHONE)
    page = start(client, PHONE, headers={"Accept-Language": locale})
    assert page.errors == [translated(app, locale, SPENT)] != [SPENT]


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour")
@pytest.mark.parametrize("locale", ["uk", "ru"])
def test_the_proof_message_is_in_the_language_of_the_page(app, client, locale):
    start(client, PHONE)
    page = start(client, PHONE, headers={"Accept-Language": locale})
    assert translated(app, locale, PROOF) in page.text and PROOF not in page.text


@pytest.mark.idp_settings(IDP_SMS_BUDGET_IP="1/hour")
def test_a_forged_forwarded_for_header_does_not_open_a_new_budget(client):
    assert start(client, "+380671234501").location == "/register/code"
    page = start(client, "+380501234502", headers={"X-Forwarded-For": "203.0.113.99"})
    assert asked_for_proof(page)


@pytest.mark.idp_settings(IDP_SMS_BUDGET_IP="1/hour", IDP_TRUSTED_PROXIES=1)
def test_behind_a_trusted_proxy_the_forwarded_address_has_the_budget(client):
    assert (
        start(client, "+380671234501", headers={"X-Forwarded-For": "203.0.113.1"}).location
        == "/register/code"
    )
    assert asked_for_proof(start(client, "+380501234502", headers={"X-Forwarded-For": "203.0.113.1"}))
    assert (
        start(client, "+380631234503", headers={"X-Forwarded-For": "203.0.113.2"}).location
        == "/register/code"
    )


@pytest.mark.idp_settings(
    IDP_SMS_BUDGET_NUMBER="1/hour",
    IDP_SMS_LIMIT_NUMBER="1/hour",
    IDP_SMS_BUDGET_PREFIX="1/hour",
    IDP_SMS_LIMIT_PREFIX="1/hour",
    IDP_SMS_BUDGET_IP="1/hour",
)
def test_strangers_spending_every_shared_budget_cannot_stop_a_second_factor(app, users, outbox):
    profile = users.create(sms_2fa_enabled=True)
    stranger = app.test_client()
    submit(stranger, "/recover", {"phone": profile.phone})
    assert submit(stranger, "/recover", {"phone": profile.phone}).errors == [SPENT]
    owner = app.test_client()
    assert sign_in(owner, profile.phone).location == "/signin/verify"
    page = submit(owner, "/signin/verify", {"code": outbox.code(profile.phone)})
    assert page.location == "/"


@pytest.mark.idp_settings(IDP_SMS_BUDGET_PROFILE="2/hour")
def test_the_second_factor_has_the_profile_s_own_budget(app, users, outbox):
    profile = users.create(sms_2fa_enabled=True)
    for _ in range(2):
        assert sign_in(app.test_client(), profile.phone).location == "/signin/verify"
    third = app.test_client()
    page = submit(third, "/signin", {"identifier": profile.phone, "password": PASSWORD}, follow=True)
    assert ("error", SPENT) in page.flashes
    assert len([m for m in outbox.messages(profile.phone) if m.kind == "sms_code"]) == 2
