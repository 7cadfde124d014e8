"""Registration (seed 004 §1): the steps come in order, the offer is accepted with its version, and
a number that already has a profile is answered exactly like a new one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from idp.timeutil import utcnow
from tests.helpers.pages import code_flow_pages, is_signed_in, register, submit
from tests.helpers.records import PASSWORD, find_profile

PHONE = "+380671234567"


def test_no_step_can_be_opened_before_the_phone(client, subtests):
    for step in ("/register/code", "/register/details", "/register/password", "/register/email"):
        with subtests.test(step=step):
            response = client.get(step)
            assert response.status_code == 302 and response.location == "/register"


def test_the_steps_after_the_code_need_the_code(client, outbox):
    register(client, outbox, PHONE, until="code")
    assert client.get("/register/details").location == "/register"
    assert client.get("/register/password").location == "/register"


def test_the_details_cannot_be_posted_before_the_code(client, outbox):
    register(client, outbox, PHONE, until="code")
    page = submit(
        client,
        "/register/details",
        {"last_name": "Koval", "first_name": "Olena", "email": "a@example.com", "accept_offer": "y"},
        page="/register/code",
    )
    assert page.location == "/register"


def test_the_password_step_needs_the_details(client, outbox):
    register(client, outbox, PHONE, until="details")
    assert client.get("/register/password").location == "/register"
    page = submit(
        client, "/register/password", {"password": PASSWORD, "confirm": PASSWORD}, page="/register/details"
    )
    assert page.location == "/register"
    assert find_profile(client.application, PHONE) is None


def test_the_offer_must_be_accepted(client, outbox):
    register(client, outbox, PHONE, until="details")
    page = submit(
        client, "/register/details", {"last_name": "Koval", "first_name": "Olena", "email": "a@example.com"}
    )
    assert page.status == 200
    assert page.errors == ["Accept the terms of the offer to continue."]
    assert client.get("/register/password").location == "/register"


@pytest.mark.idp_settings(IDP_OFFER_VERSION="2099-07")
def test_the_accepted_offer_is_stored_with_its_version(client, outbox):
    before = utcnow()
    register(client, outbox, PHONE)
    profile = find_profile(client.application, PHONE)
    assert profile.offer_version == "2099-07"
    assert before - timedelta(seconds=1) <= profile.offer_accepted_at <= utcnow()


def test_the_offer_page_shows_its_version(client):
    assert "2026-01" in client.get("/offer").get_data(as_text=True)


def test_a_finished_registration_creates_an_unconfirmed_profile_and_sends_the_link(client, outbox):
    page = register(client, outbox, PHONE, email="Olena.Koval@Example.com")
    assert page.location == "/register/email"
    profile = find_profile(client.application, PHONE)
    assert (profile.first_name, profile.last_name, profile.email) == (
        "Olena",
        "Koval",
        "olena.koval@example.com",
    )
    assert profile.email_verified_at is None and profile.locale == "en"
    assert outbox.last("olena.koval@example.com", "email_confirm")
    assert not is_signed_in(client)
    assert submit(client, outbox.link("olena.koval@example.com")).location == "/"
    assert is_signed_in(client)


def test_the_phone_may_be_typed_in_national_format(client, outbox):
    page = submit(client, "/register", {"phone": "067 123 45 67"})
    assert page.location == "/register/code"
    assert outbox.last(PHONE, "sms_code")


def test_a_registered_number_gets_the_same_pages_as_a_new_one(app, users, outbox, time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)  # the same resend countdown on both
    registered = users.create(phone="+380671234500").phone
    new_pages = code_flow_pages(app, "registration", "/register", PHONE)
    registered_pages = code_flow_pages(app, "registration", "/register", registered)
    if outbox.code(PHONE) == "000000":  # one chance in a million
        return
    assert new_pages[0] == (302, "/register/code")
    assert new_pages[2][1] == ["The code is wrong. 4 tries left."]
    assert registered_pages == new_pages


def test_a_registered_number_is_told_so_by_sms_without_a_code(client, users, outbox):
    registered = users.create().phone
    submit(client, "/register", {"phone": registered})
    (message,) = outbox.messages(registered)
    assert message.kind == "sms_already_registered"
    assert "already has a business profile" in message.text
    assert not re.search(r"\d{6}", message.text)


def test_a_registered_number_can_never_pass_the_code_step(client, users, outbox):
    registered = users.create().phone
    submit(client, "/register", {"phone": registered})
    for code in ("000000", "123456", "999999"):
        assert submit(client, "/register/code", {"code": code}).status == 200
    assert client.get("/register/details").location == "/register"


def test_a_signed_in_profile_is_sent_home_from_registration(client, users):
    from tests.helpers.pages import sign_in

    sign_in(client, users.create().phone)
    assert client.get("/register").location == "/"
