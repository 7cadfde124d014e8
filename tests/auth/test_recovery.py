"""Password recovery (seed 004 §3): phone → SMS code → new password; other sessions end; an
unknown number is answered exactly like a known one and gets a notice SMS with no code."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.pages import code_flow_pages, is_signed_in, sign_in, submit
from tests.helpers.records import PASSWORD

NEW_PASSWORD = "Fresh-Passw0rd"
UNKNOWN = "+380671119999"


def test_an_unknown_number_gets_the_same_pages_and_a_notice_without_code(app, users, outbox, time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)  # the same resend countdown on both
    known = users.create(phone="+380671234567").phone
    known_pages = code_flow_pages(app, "recovery", "/recover", known)
    unknown_pages = code_flow_pages(app, "recovery", "/recover", UNKNOWN)
    if outbox.code(known) == "000000":  # one chance in a million
        return
    assert known_pages[0] == (302, "/recover/code")
    assert known_pages[2][1] == ["The code is wrong. 4 tries left."]
    assert unknown_pages == known_pages
    (notice,) = outbox.messages(UNKNOWN)
    assert notice.kind == "sms_no_profile"
    assert not re.search(r"\d{6}", notice.text)


def test_the_sms_status_of_an_unknown_number_answers_like_a_known_one(app, users):
    known = users.create().phone
    answers = []
    for phone in (known, UNKNOWN):
        client = app.test_client()
        submit(client, "/recover", {"phone": phone})
        answers.append(client.get("/sms/status/recovery").get_json())
    assert answers[0] == answers[1]


def test_recovery_sets_the_new_password_and_ends_every_session(app, client, users, outbox):
    profile = users.create()
    elsewhere = app.test_client()
    sign_in(elsewhere, profile.phone)
    assert submit(client, "/recover", {"phone": profile.phone}).location == "/recover/code"
    assert (
        submit(client, "/recover/code", {"code": outbox.code(profile.phone)}).location == "/recover/password"
    )
    page = submit(
        client, "/recover/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, follow=True
    )
    assert ("success", "Your password has been changed. Sign in with the new password.") in page.flashes
    assert not is_signed_in(elsewhere)
    assert sign_in(client, profile.phone).errors == ["The phone number, e-mail or password is wrong."]
    assert sign_in(client, profile.phone, NEW_PASSWORD).location == "/"


def test_the_restore_notice_e_mail_never_contains_the_password(users, outbox, client):
    profile = users.create()
    submit(client, "/recover", {"phone": profile.phone})
    submit(client, "/recover/code", {"code": outbox.code(profile.phone)})
    submit(client, "/recover/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    notice = outbox.last(profile.email, "password_restored")
    assert NEW_PASSWORD not in notice.text and NEW_PASSWORD not in (notice.html or "")
    assert PASSWORD not in notice.text


def test_the_new_password_step_needs_the_code(client, users):
    profile = users.create()
    submit(client, "/recover", {"phone": profile.phone})
    assert client.get("/recover/password").location == "/recover"
    page = submit(
        client, "/recover/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, page="/recover"
    )
    assert page.location == "/recover"
    assert sign_in(client, profile.phone).location == "/"


def test_the_code_step_needs_a_number_first(client):
    assert client.get("/recover/code").location == "/recover"


def test_the_new_password_step_expires_ten_minutes_after_the_code(client, users, outbox, time_machine):

    profile = users.create()
    submit(client, "/recover", {"phone": profile.phone})
    submit(client, "/recover/code", {"code": outbox.code(profile.phone)})
    time_machine.move_to(datetime.now(UTC) + timedelta(minutes=11))
    assert client.get("/recover/password").location == "/recover"


@pytest.mark.idp_settings(IDP_CODE_LIMIT_IP="2/minute")
@pytest.mark.parametrize("flow", ["/recover", "/register"])
def test_codes_entered_from_one_address_are_limited(client, users, flow):
    profile = users.create()
    phone = profile.phone if flow == "/recover" else "+380671112299"
    submit(client, flow, {"phone": phone})
    for _ in range(2):
        assert submit(client, f"{flow}/code", {"code": "000000"}).status == 200
    assert submit(client, f"{flow}/code", {"code": "000000"}).status == 429
