"""SMS codes (SPEC "Rules with numbers"): 6 digits, 5 minutes, single use, bound to one flow,
5 wrong tries per code that a resend does not reset, resend after 60 s, kept hashed, never logged."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest

from idp.extensions import db
from idp.otp import services as otp
from idp.otp.errors import FlowUnknown
from idp.otp.models import SmsChallenge
from tests.helpers.pages import register, sign_in, submit
from tests.helpers.records import PASSWORD

PHONE = "+380671234567"
WRONG_TRY = "The code is wrong. {left} {tries} left."
EXPIRED = "The code has expired. Ask for a new one."
EXHAUSTED = "Too many wrong codes: this code no longer works. Get a new code."
ENDED = "This step has ended. Start again."


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def wrong_try(left: int) -> str:
    return WRONG_TRY.format(left=left, tries="try" if left == 1 else "tries")


def is_spent(page) -> bool:
    """The code page says the code is spent and offers a new one instead of its field."""
    return (
        ("error", EXHAUSTED) in page.flashes
        and 'name="code"' not in page.text
        and ("Send a new code" in page.text)
    )


def sms_codes(outbox, phone: str) -> list[str]:
    """Every code sent to ``phone``, newest first."""
    return [
        re.search(r"\b(\d{6})\b", m.text).group(1) for m in outbox.messages(phone) if m.kind == "sms_code"
    ]


@pytest.fixture
def frozen(time_machine):
    """Stop the clock now; return the moment so a test can move relative to it."""
    start = datetime.now(UTC).replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    return start


def test_the_code_is_six_digits_and_the_sms_says_it_is_valid_five_minutes(client, outbox):
    register(client, outbox, PHONE, until="code")
    (message,) = outbox.messages(PHONE)
    assert message.kind == "sms_code"
    assert re.fullmatch(r"\d{6}", outbox.code(PHONE))
    assert "5 min" in message.text


def test_codes_are_not_repeated_between_challenges(client, outbox):
    for _ in range(4):
        register(client, outbox, PHONE, until="code")
    assert len(set(sms_codes(outbox, PHONE))) > 1


def test_the_code_still_works_just_before_five_minutes(client, outbox, frozen, time_machine):
    register(client, outbox, PHONE, until="code")
    time_machine.move_to(frozen + timedelta(seconds=295), tick=False)
    page = submit(client, "/register/code", {"code": outbox.code(PHONE)})
    assert page.location == "/register/details"


def test_an_expired_code_is_refused_and_the_wizard_does_not_go_on(client, outbox, frozen, time_machine):
    register(client, outbox, PHONE, until="code")
    time_machine.move_to(frozen + timedelta(seconds=301), tick=False)
    page = submit(client, "/register/code", {"code": outbox.code(PHONE)})
    assert page.status == 200 and page.errors == [EXPIRED]
    assert client.get("/register/details").location == "/register"


@pytest.mark.idp_settings(IDP_OTP_TTL_SECONDS=120)
def test_the_ttl_setting_is_the_lifetime(client, outbox, frozen, time_machine):
    register(client, outbox, PHONE, until="code")
    time_machine.move_to(frozen + timedelta(seconds=121), tick=False)
    assert submit(client, "/register/code", {"code": outbox.code(PHONE)}).errors == [EXPIRED]


def test_a_verified_registration_code_cannot_be_entered_again(client, outbox):
    register(client, outbox, PHONE, until="details")
    page = submit(client, "/register/code", {"code": outbox.code(PHONE)})
    assert page.status == 200 and page.errors == [ENDED]


def test_a_used_recovery_code_cannot_restore_the_password_twice(client, outbox, users):
    profile = users.create()
    submit(client, "/recover", {"phone": profile.phone})
    code = outbox.code(profile.phone)
    assert submit(client, "/recover/code", {"code": code}).location == "/recover/password"
    page = submit(client, "/recover/password", {"password": "N3wPassword!x", "confirm": "N3wPassword!x"})
    assert page.location == "/signin"
    replay = submit(client, "/recover/code", {"code": code}, page="/recover")
    assert replay.status == 302 and replay.location == "/recover"
    assert client.get("/recover/password").location == "/recover"


def test_entering_the_recovery_code_again_after_it_passed_does_not_break(client, outbox, users):
    profile = users.create()
    submit(client, "/recover", {"phone": profile.phone})
    code = outbox.code(profile.phone)
    assert submit(client, "/recover/code", {"code": code}).location == "/recover/password"
    # The back button: the code page again, and the same code once more, lead to the new password.
    assert client.get("/recover/code").location == "/recover/password"
    page = submit(client, "/recover/code", {"code": code}, page="/recover/password")
    assert page.status == 302 and page.location == "/recover/password"


def test_the_service_refuses_a_code_twice(app, outbox):
    with app.test_request_context():
        challenge = otp.start_challenge("register", PHONE, "en")
        code = outbox.code(PHONE)
        otp.verify(challenge.id, "register", code)
        with pytest.raises(FlowUnknown):
            otp.verify(challenge.id, "register", code)


def test_a_code_works_only_in_the_flow_it_was_sent_for(client, outbox, users):
    profile = users.create(sms_2fa_enabled=True)
    assert sign_in(client, profile.phone).location == "/signin/verify"
    submit(client, "/recover", {"phone": profile.phone})
    recovery_code, signin_code = sms_codes(outbox, profile.phone)[:2]
    # Both went to the same phone, in the same browser: each works only where it belongs.
    assert submit(client, "/recover/code", {"code": signin_code}).errors == [wrong_try(4)]
    assert submit(client, "/signin/verify", {"code": recovery_code}).errors == [wrong_try(4)]
    assert submit(client, "/recover/code", {"code": recovery_code}).location == "/recover/password"
    assert submit(client, "/signin/verify", {"code": signin_code}).location == "/"


def test_the_service_refuses_a_registration_code_for_recovery(app, outbox):
    with app.test_request_context():
        challenge = otp.start_challenge("register", PHONE, "en")
        with pytest.raises(FlowUnknown):
            otp.verify(challenge.id, "recover", outbox.code(PHONE))


def test_a_code_sent_to_another_browser_does_not_work_here(app, client, outbox):
    other = app.test_client()
    register(other, outbox, PHONE, until="code")
    others_code = outbox.code(PHONE)
    register(client, outbox, PHONE, until="code")
    mine = outbox.code(PHONE)
    if mine != others_code:
        assert submit(client, "/register/code", {"code": others_code}).errors == [wrong_try(4)]
    # A browser without a registration of its own cannot use any code.
    stranger = app.test_client()
    response = submit(stranger, "/register/code", {"code": mine}, page="/register")
    assert response.status == 302 and response.location == "/register"
    assert submit(client, "/register/code", {"code": mine}).location == "/register/details"


def test_five_wrong_codes_end_the_code_even_for_the_right_one(client, outbox):
    register(client, outbox, PHONE, until="code")
    code = outbox.code(PHONE)
    for left in (4, 3, 2, 1):
        assert submit(client, "/register/code", {"code": wrong(code)}).errors == [wrong_try(left)]
    assert is_spent(submit(client, "/register/code", {"code": wrong(code)}))
    page = submit(client, "/register/code", {"code": code}, page="/register")  # a tab opened before
    assert page.status == 200 and is_spent(page)
    assert client.get("/register/details").location == "/register"


@pytest.mark.idp_settings(IDP_OTP_MAX_ATTEMPTS=2)
def test_the_number_of_tries_is_configurable(client, outbox):
    register(client, outbox, PHONE, until="code")
    code = outbox.code(PHONE)
    assert submit(client, "/register/code", {"code": wrong(code)}).errors == [wrong_try(1)]
    assert is_spent(submit(client, "/register/code", {"code": wrong(code)}))
    assert is_spent(submit(client, "/register/code", {"code": code}, page="/register"))


def test_a_resend_does_not_reset_the_wrong_tries(client, outbox, frozen, time_machine):
    register(client, outbox, PHONE, until="code")
    first = outbox.code(PHONE)
    for _ in range(3):
        submit(client, "/register/code", {"code": wrong(first)})
    time_machine.move_to(frozen + timedelta(seconds=61), tick=False)
    page = submit(client, "/register/code/resend", page="/register/code", follow=True)
    assert ("info", "We sent a new code.") in page.flashes
    second = outbox.code(PHONE)
    assert len(sms_codes(outbox, PHONE)) == 2
    # The old code stopped working, and it is the fourth wrong try, not the first.
    if second != first:
        assert submit(client, "/register/code", {"code": first}).errors == [wrong_try(1)]
    else:
        assert submit(client, "/register/code", {"code": wrong(first)}).errors == [wrong_try(1)]
    assert is_spent(submit(client, "/register/code", {"code": wrong(second)}))
    assert is_spent(submit(client, "/register/code", {"code": second}, page="/register"))


def test_a_resend_is_refused_before_sixty_seconds(client, outbox, frozen, time_machine):
    register(client, outbox, PHONE, until="code")
    time_machine.move_to(frozen + timedelta(seconds=59), tick=False)
    page = submit(client, "/register/code/resend", page="/register/code", follow=True)
    assert ("error", "A new code can be sent in 1 second.") in page.flashes
    assert len(sms_codes(outbox, PHONE)) == 1


def test_a_resend_is_allowed_after_sixty_seconds_and_the_new_code_works(client, outbox, frozen, time_machine):
    register(client, outbox, PHONE, until="code")
    page = submit(client, "/register/code/resend", page="/register/code", follow=True)
    assert ("error", "A new code can be sent in 60 seconds.") in page.flashes
    time_machine.move_to(frozen + timedelta(seconds=60), tick=False)
    page = submit(client, "/register/code/resend", page="/register/code", follow=True)
    assert ("info", "We sent a new code.") in page.flashes
    assert len(sms_codes(outbox, PHONE)) == 2
    assert submit(client, "/register/code", {"code": outbox.code(PHONE)}).location == "/register/details"


def test_a_resend_gives_the_code_a_fresh_lifetime(client, outbox, frozen, time_machine):
    register(client, outbox, PHONE, until="code")
    time_machine.move_to(frozen + timedelta(seconds=240), tick=False)
    submit(client, "/register/code/resend", page="/register/code")
    time_machine.move_to(frozen + timedelta(seconds=480), tick=False)
    assert submit(client, "/register/code", {"code": outbox.code(PHONE)}).location == "/register/details"


def test_the_code_is_stored_only_as_a_hash(app, client, outbox):
    register(client, outbox, PHONE, until="code")
    code = outbox.code(PHONE)
    with app.app_context():
        (challenge,) = db.session.scalars(db.select(SmsChallenge))
        stored = [str(getattr(challenge, c.key)) for c in SmsChallenge.__table__.columns]
        assert re.fullmatch(r"[0-9a-f]{64}", challenge.code_hash)
        assert not any(code in value for value in stored)
        bodies = db.session.execute(db.text("SELECT body_encrypted FROM messages")).scalars()
        assert not any(code in body for body in bodies)


def test_codes_never_reach_the_logs(caplog, client, outbox, users):
    caplog.set_level(logging.DEBUG)
    register(client, outbox, PHONE)
    registration_code = sms_codes(outbox, PHONE)[0]
    profile = users.create(sms_2fa_enabled=True)
    other = client.application.test_client()
    sign_in(other, profile.phone, PASSWORD)
    signin_code = outbox.code(profile.phone)
    assert submit(other, "/signin/verify", {"code": signin_code}).location == "/"
    assert "stored for the outbox" in caplog.text  # the delivery did log, just not the code
    for code in (registration_code, signin_code):
        assert code not in caplog.text
        assert not any(code in str(record.args) for record in caplog.records)
