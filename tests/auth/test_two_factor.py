"""The second step of sign-in: an SMS code, a TOTP code (each time step once) or a recovery code
(each code once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from tests.helpers.pages import is_signed_in, recovery_codes_in, sign_in, submit, totp_secret
from tests.helpers.records import PASSWORD, db_rows

USED = "The code is wrong or was already used."
REUSED = (
    "This code was already used. Wait for the next code in your authenticator app (it "
    "changes every 30 seconds)."
)


def turn_on_sms(client) -> list[str]:
    page = submit(client, "/security/sms", {"current_password": PASSWORD})
    assert page.status == 200, page.errors
    return recovery_codes_in(page.text)


def turn_on_totp(client) -> tuple[str, list[str]]:
    secret = totp_secret(client)
    page = submit(client, "/security/totp", {"code": pyotp.TOTP(secret).now(), "current_password": PASSWORD})
    assert page.status == 200, page.errors
    return secret, recovery_codes_in(page.text)


@pytest.fixture
def clock(time_machine):
    """Stop the clock 5 s into a TOTP time step; ``clock(seconds)`` moves it on."""
    now = int(datetime.now(UTC).timestamp())
    time_machine.move_to(datetime.fromtimestamp(now - now % 30 + 5, UTC), tick=False)
    return lambda seconds: time_machine.shift(timedelta(seconds=seconds))


def test_sms_two_factor_needs_the_code_sent_to_the_profile_phone(client, users, outbox):
    profile = users.create(sms_2fa_enabled=True)
    assert sign_in(client, profile.phone).location == "/signin/verify"
    assert not is_signed_in(client)
    message = outbox.last(profile.phone, "sms_code")
    assert "sign-in code" in message.text
    assert submit(client, "/signin/verify", {"code": outbox.code(profile.phone)}).location == "/"
    assert is_signed_in(client)


@pytest.mark.idp_settings(IDP_SIGNIN_FREE_FAILURES=10)  # the code's own count, without delays
def test_a_wrong_sms_code_at_sign_in_counts_down(client, users, outbox):
    profile = users.create(sms_2fa_enabled=True)
    sign_in(client, profile.phone)
    code = outbox.code(profile.phone)
    bad = f"{(int(code) + 1) % 10**6:06d}"
    assert submit(client, "/signin/verify", {"code": bad}).errors == ["The code is wrong. 4 tries left."]
    for _ in range(3):
        submit(client, "/signin/verify", {"code": bad})
    # The code is spent, not the sign-in: the page says so and offers a new code
    # (tests/otp/test_spent_codes.py), the right code no longer works.
    page = submit(client, "/signin/verify", {"code": bad})
    assert page.status == 200 and "data-code-spent" in page.text and 'name="code"' not in page.text
    assert submit(client, "/signin/verify", {"code": code}).status == 200
    assert client.get("/signin/verify").status_code == 200
    assert not is_signed_in(client)


def test_the_second_step_opened_directly_sends_to_the_sign_in_page_without_a_false_message(client):
    page = submit(client, "/signin/verify", {"code": "123456"}, page="/signin", follow=True)
    assert page.flashes == [] and 'id="identifier"' in page.text
    assert client.get("/signin/verify").location == "/signin"


def test_the_second_step_must_follow_within_ten_minutes(client, users, outbox, time_machine):
    profile = users.create(sms_2fa_enabled=True)
    sign_in(client, profile.phone)
    time_machine.move_to(datetime.now(UTC) + timedelta(minutes=10, seconds=5))
    page = submit(client, "/signin/verify", {"code": outbox.code(profile.phone)}, page="/signin", follow=True)
    assert ("error", "Sign in again: the second step was not completed in time.") in page.flashes
    assert not is_signed_in(client)
    # Said once: the sign-in that ran out of time is over.
    assert client.get("/signin/verify").location == "/signin"
    assert submit(client, "/signin/verify", {"code": "123456"}, page="/signin", follow=True).flashes == []


def test_a_totp_code_works_once_per_time_step(app, client, users, clock):
    profile = users.create()
    sign_in(client, profile.phone)
    secret, _ = turn_on_totp(client)
    totp = pyotp.TOTP(secret)

    first = app.test_client()
    assert sign_in(first, profile.phone).location == "/signin/verify"
    # The code that turned the app on is spent: the same time step cannot sign in, and the page
    # says why (RFC 6238 §5.2 accepts each code once).
    assert submit(first, "/signin/verify", {"code": totp.now()}).errors == [REUSED]
    clock(30)
    assert submit(first, "/signin/verify", {"code": totp.now()}).location == "/"

    second = app.test_client()
    sign_in(second, profile.phone)
    assert submit(second, "/signin/verify", {"code": totp.now()}).errors == [REUSED]
    assert not is_signed_in(second)
    clock(30)
    assert submit(second, "/signin/verify", {"code": totp.now()}).location == "/"


def test_a_totp_code_of_an_old_time_step_is_refused(app, client, users, clock):
    profile = users.create()
    sign_in(client, profile.phone)
    secret, _ = turn_on_totp(client)
    clock(90)
    other = app.test_client()
    sign_in(other, profile.phone)
    old = pyotp.TOTP(secret).at(datetime.now(UTC) - timedelta(seconds=60))
    assert submit(other, "/signin/verify", {"code": old}).errors == [USED]


def test_each_recovery_code_signs_in_once(app, client, users, outbox):
    profile = users.create()
    sign_in(client, profile.phone)
    codes = turn_on_sms(client)
    assert len(codes) == 10 and len(set(codes)) == 10

    def sign_in_with_recovery_code(code):
        browser = app.test_client()
        assert sign_in(browser, profile.phone).location == "/signin/verify"
        switched = submit(browser, "/signin/verify/method", {"method": "recovery"}, page="/signin/verify")
        assert switched.location == "/signin/verify"
        return browser, submit(browser, "/signin/verify", {"code": code})

    browser, page = sign_in_with_recovery_code(codes[0])
    assert page.location == "/" and is_signed_in(browser)
    browser, page = sign_in_with_recovery_code(codes[0])
    assert page.errors == [USED] and not is_signed_in(browser)
    browser, page = sign_in_with_recovery_code(codes[1].upper().replace("-", " "))
    assert page.location == "/"


def test_recovery_codes_are_shown_once_and_stored_hashed(app, client, users):
    profile = users.create()
    sign_in(client, profile.phone)
    codes = turn_on_sms(client)
    for page in ("/security", "/", "/security/recovery-codes"):
        text = client.get(page).get_data(as_text=True)
        assert not any(code in text for code in codes)
    stored = str(db_rows(app, ("recovery_codes",)))
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)


def _with_totp(app, profile) -> pyotp.TOTP:
    from idp.auth import totp
    from idp.extensions import db
    from idp.profiles.models import Profile

    secret = totp.new_secret()
    with app.app_context():
        totp.enable(db.session.get(Profile, profile.id), secret, step=0)
        db.session.commit()
    return pyotp.TOTP(secret)


def _wrong_totp(authenticator: pyotp.TOTP) -> str:
    right = {authenticator.at(datetime.now(UTC) + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(c for c in (f"{n:06d}" for n in range(10**6)) if c not in right)


def _wait(seconds: int) -> str:
    return f"Too many failed attempts. Try again in {seconds} s."


def test_wrong_second_factor_codes_count_towards_the_growing_delay(app, client, users, clock):
    """A known password does not open unlimited guesses of the authenticator code."""
    profile = users.create()
    authenticator = _with_totp(app, profile)
    assert sign_in(client, profile.phone).location == "/signin/verify"
    wrong = _wrong_totp(authenticator)
    for _ in range(3):
        assert submit(client, "/signin/verify", {"code": wrong}).errors == [USED]
    assert submit(client, "/signin/verify", {"code": wrong}).errors == [_wait(1)]
    assert submit(client, "/signin/verify", {"code": authenticator.now()}).errors == [_wait(1)]
    clock(1)
    assert submit(client, "/signin/verify", {"code": authenticator.now()}).location == "/"


def test_a_right_password_does_not_clear_earlier_failures(app, client, users, clock):
    profile = users.create()
    authenticator = _with_totp(app, profile)
    for _ in range(3):
        assert sign_in(client, profile.phone, "Wrong-passw0rd").errors
    clock(1)
    assert sign_in(client, profile.phone).location == "/signin/verify"
    wrong = _wrong_totp(authenticator)
    assert submit(client, "/signin/verify", {"code": wrong}).errors == [USED]  # the 4th failure
    assert submit(client, "/signin/verify", {"code": wrong}).errors == [_wait(2)]


@pytest.mark.idp_settings(IDP_SIGNIN_LOCK_FAILURES=8, IDP_SIGNIN_FREE_FAILURES=100)
def test_second_factor_guesses_reach_the_lock(app, users):
    profile = users.create()
    authenticator = _with_totp(app, profile)
    wrong = _wrong_totp(authenticator)
    first = app.test_client()
    sign_in(first, profile.phone)
    for _ in range(5):  # IDP_OTP_MAX_ATTEMPTS ends this sign-in
        submit(first, "/signin/verify", {"code": wrong}, page="/signin/verify")
    second = app.test_client()
    assert sign_in(second, profile.phone).location == "/signin/verify"
    for _ in range(3):
        submit(second, "/signin/verify", {"code": wrong})
    third = app.test_client()
    assert sign_in(third, profile.phone).errors == [
        "Sign-in is blocked after too many failed attempts. Restore the password to unblock it."
    ]


def test_the_secret_of_an_enrolment_in_progress_is_sealed_in_the_session(app, client, users):
    from idp.extensions import db
    from idp.sessions.models import WebSession

    profile = users.create()
    sign_in(client, profile.phone)
    secret = totp_secret(client)
    with app.app_context():
        stored = " ".join(db.session.scalars(db.select(WebSession.data)))
    assert "totp_enrol" in stored and secret not in stored
    # The same secret is shown again while the enrolment goes on, and it turns the app on.
    assert totp_secret(client) == secret
    page = submit(client, "/security/totp", {"code": pyotp.TOTP(secret).now(), "current_password": PASSWORD})
    assert page.status == 200 and recovery_codes_in(page.text)
