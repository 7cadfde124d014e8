"""SMS send budgets per number, per client IP and per number prefix (against SMS pumping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import register, submit, translated

SPENT = "Too many SMS were sent to this number or from your network. Try again later."
PHONE = "+380671234567"


def start(client, phone: str, **kwargs):
    return submit(client, "/register", {"phone": phone}, **kwargs)


def sms_count(outbox, phone: str | None = None) -> int:
    return len([m for m in outbox.messages(phone) if m.channel == "sms"])


def test_a_number_gets_five_sms_an_hour(client, outbox):
    for _ in range(5):
        assert start(client, PHONE).location == "/register/code"
    page = start(client, PHONE)
    assert page.status == 200 and page.errors == [SPENT]
    assert sms_count(outbox, PHONE) == 5


def test_the_number_budget_counts_across_browsers_and_addresses(app, outbox):
    for n in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
        assert start(client, PHONE).location == "/register/code"
    late = app.test_client()
    late.environ_base["REMOTE_ADDR"] = "10.0.1.1"
    assert start(late, PHONE).errors == [SPENT]
    assert sms_count(outbox, PHONE) == 5


@pytest.mark.idp_settings(IDP_SMS_BUDGET_IP="2/hour")
def test_an_address_has_its_own_budget(app, client, outbox):
    assert start(client, "+380671234501").location == "/register/code"
    assert start(client, "+380501234502").location == "/register/code"
    page = start(client, "+380631234503")
    assert page.errors == [SPENT]
    assert sms_count(outbox, "+380631234503") == 0
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert start(other, "+380631234503").location == "/register/code"


@pytest.mark.idp_settings(IDP_SMS_BUDGET_PREFIX="2/hour")
def test_a_number_prefix_has_its_own_budget(app, outbox):
    def from_new_address(phone, n):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        return start(client, phone)

    assert from_new_address("+380671234501", 1).location == "/register/code"
    assert from_new_address("+380671234502", 2).location == "/register/code"
    assert from_new_address("+380671234503", 3).errors == [SPENT]  # same prefix +380671
    assert sms_count(outbox, "+380671234503") == 0
    assert from_new_address("+380501234503", 4).location == "/register/code"  # another operator


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour")
def test_a_resend_draws_from_the_budget_too(client, outbox, time_machine):
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=1), tick=False)
    register(client, outbox, PHONE, until="code")
    time_machine.shift(timedelta(seconds=61))
    page = submit(client, "/register/code/resend", page="/register/code", follow=True)
    assert ("error", SPENT) in page.flashes
    assert sms_count(outbox, PHONE) == 1


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour")
def test_recovery_and_registration_share_the_budget_of_a_number(client, outbox, users):
    profile = users.create()
    assert submit(client, "/recover", {"phone": profile.phone}).location == "/recover/code"
    assert start(client, profile.phone).errors == [SPENT]
    assert submit(client, "/recover", {"phone": profile.phone}).errors == [SPENT]
    assert sms_count(outbox, profile.phone) == 1


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour")
@pytest.mark.parametrize("locale", ["uk", "ru"])
def test_the_spent_budget_message_is_in_the_language_of_the_page(app, client, locale):
    start(client, PHONE)
    page = start(client, PHONE, headers={"Accept-Language": locale})
    expected = translated(app, locale, SPENT)
    assert expected != SPENT
    assert page.errors == [expected]


@pytest.mark.idp_settings(IDP_SMS_BUDGET_IP="1/hour")
def test_a_forged_forwarded_for_header_does_not_open_a_new_budget(client):
    assert start(client, "+380671234501").location == "/register/code"
    page = start(client, "+380501234502", headers={"X-Forwarded-For": "203.0.113.99"})
    assert page.errors == [SPENT]


@pytest.mark.idp_settings(IDP_SMS_BUDGET_IP="1/hour", IDP_TRUSTED_PROXIES=1)
def test_behind_a_trusted_proxy_the_forwarded_address_has_the_budget(client):
    assert start(client, "+380671234501",
                 headers={"X-Forwarded-For": "203.0.113.1"}).location == "/register/code"
    assert start(client, "+380501234502",
                 headers={"X-Forwarded-For": "203.0.113.1"}).errors == [SPENT]
    assert start(client, "+380631234503",
                 headers={"X-Forwarded-For": "203.0.113.2"}).location == "/register/code"
