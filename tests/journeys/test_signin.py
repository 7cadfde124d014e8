"""J2: sign in with the profile — password, SMS code, authenticator app, recovery code."""

import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine

from tests.helpers.records import PASSWORD
from tests.journeys.conftest import (
    MAIN_SUBMIT,
    error_texts,
    fill_code,
    flash_texts,
    is_signed_in,
    new_page,
    sign_in,
    sign_out,
    submit,
)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["uk", "en"])
def test_sign_in_with_phone_and_with_email(browser, live_server, users, shot, text, lang):
    profile = users.create(phone="+380671112233", email="olena@example.com", locale=lang)
    page = new_page(browser, lang)
    page.goto(live_server + "/")
    page.wait_for_url("**/signin?next=/")
    shot(page, "1-signin")

    sign_in(page, live_server, "olena@example.com", "Wr0ngPassword")
    page.wait_for_load_state()
    assert "/signin" in page.url and not is_signed_in(page)
    assert error_texts(page) == [text(lang, "The phone number, e-mail or password is wrong.")]
    shot(page, "2-wrong-password")

    sign_in(page, live_server, "+380 67 111 22 33", PASSWORD)  # national spacing is accepted
    page.wait_for_url(live_server + "/")
    assert is_signed_in(page)
    assert page.inner_text("main h1") == text(lang, "Hello, %(name)s", name=profile.first_name)
    shot(page, "3-home-by-phone")
    sign_out(page)
    assert not is_signed_in(page)
    assert text(lang, "You have signed out.") in flash_texts(page)
    shot(page, "4-signed-out")

    sign_in(page, live_server, "OLENA@example.com", PASSWORD)
    page.wait_for_url(live_server + "/")
    assert is_signed_in(page)
    page.context.close()


def _open_security(page, base):
    page.goto(base + "/security")
    page.wait_for_url("**/security")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_sign_in_with_sms_code(browser, live_server, users, outbox, shot, text, lang):
    users.create(phone="+380671112244", email="sms@example.com", locale=lang)
    page = new_page(browser, lang)
    sign_in(page, live_server, "sms@example.com", PASSWORD)
    page.wait_for_url(live_server + "/")

    # Turn the SMS code on: the password is asked again, the first recovery codes are shown.
    _open_security(page, live_server)
    shot(page, "1-security")
    page.click("main a[href$='/security/sms']")
    page.wait_for_url("**/security/sms")
    page.fill("#current_password", "NotMyPassw0rd")
    submit(page)
    assert error_texts(page) == [text(lang, "The current password is wrong.")]
    page.fill("#current_password", PASSWORD)
    shot(page, "2-turn-on")
    page.click(MAIN_SUBMIT)
    page.wait_for_selector("[data-recovery-codes]")
    assert page.locator("[data-recovery-codes] span").count() == 10
    assert text(lang, "SMS codes at sign-in are on.") in flash_texts(page)
    shot(page, "3-recovery-codes")
    page.click("main a.btn")
    page.wait_for_url("**/security")
    assert page.get_attribute("[data-factor=sms]", "data-on") == "true"
    assert page.get_attribute("[data-factor=recovery]", "data-left") == "10"
    assert outbox.last("sms@example.com", "two_factor_changed").locale == lang

    sign_out(page)
    sign_in(page, live_server, "+380671112244", PASSWORD)
    page.wait_for_url("**/signin/verify")
    assert not is_signed_in(page)
    code = outbox.code("+380671112244")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    fill_code(page, wrong)
    page.wait_for_load_state()
    assert page.url.endswith("/signin/verify") and not is_signed_in(page)
    assert error_texts(page) == [
        text(lang, "The code is wrong. %(num)d try left.", "The code is wrong. %(num)d tries left.", num=4)
    ]
    shot(page, "4-wrong-code")
    fill_code(page, code)
    page.wait_for_url(live_server + "/")
    assert is_signed_in(page)
    shot(page, "5-home")
    page.context.close()


def _wrong_totp(secret: str) -> str:
    """A six-digit code no nearby time step of ``secret`` produces."""
    totp, now = pyotp.TOTP(secret), int(time.time()) // 30
    near = {totp.generate_otp(step) for step in range(now - 3, now + 4)}
    return next(c for c in (f"{n:06d}" for n in range(123456, 999999, 7919)) if c not in near)


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "mobile"), [("uk", False), ("en", True)], ids=["uk", "en-mobile"])
def test_sign_in_with_authenticator_and_recovery_code(
    browser, live_server, users, outbox, shot, text, lang, mobile
):
    users.create(phone="+380671112255", email="totp@example.com", locale=lang)
    page = new_page(browser, lang, mobile=mobile)
    sign_in(page, live_server, "totp@example.com", PASSWORD)
    page.wait_for_url(live_server + "/")

    _open_security(page, live_server)
    page.click("main a[href$='/security/totp']")
    page.wait_for_url("**/security/totp")
    assert page.locator("img.qr").is_visible()
    secret = page.inner_text("[data-secret]").strip().replace(" ", "")
    totp = pyotp.TOTP(secret)
    shot(page, "1-qr")
    page.fill("#code", _wrong_totp(secret))
    page.fill("#current_password", PASSWORD)
    submit(page)
    assert error_texts(page) == [
        text(lang, "The code does not match. Check the time on your phone and enter the newest code.")
    ]
    assert page.inner_text("[data-secret]").strip().replace(" ", "") == secret  # same secret
    shot(page, "2-qr-wrong-code")
    page.fill("#code", totp.now())
    page.fill("#current_password", PASSWORD)
    page.click(MAIN_SUBMIT)
    page.wait_for_selector("[data-recovery-codes]")
    recovery = page.locator("[data-recovery-codes] span").all_inner_texts()
    assert len(recovery) == 10
    assert text(lang, "The authenticator app is on.") in flash_texts(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page.click("[data-copy]")
    assert page.evaluate("navigator.clipboard.readText()") == "\n".join(recovery)
    shot(page, "3-recovery-codes")
    page.click("main a.btn")
    page.wait_for_url("**/security")
    assert page.get_attribute("[data-factor=totp]", "data-on") == "true"
    shot(page, "4-security-with-totp")

    sign_out(page)
    sign_in(page, live_server, "totp@example.com", PASSWORD)
    page.wait_for_url("**/signin/verify")
    fill_code(page, _wrong_totp(secret))
    page.wait_for_load_state()
    assert page.url.endswith("/signin/verify") and not is_signed_in(page)
    assert error_texts(page) == [text(lang, "The code is wrong or was already used.")]
    shot(page, "5-totp-wrong-code")
    fill_code(page, totp.at(time.time() + 30))  # the enrolment used the current step
    page.wait_for_url(live_server + "/")
    assert is_signed_in(page)
    shot(page, "6-home")

    sign_out(page)
    sign_in(page, live_server, "+380671112255", PASSWORD)
    page.wait_for_url("**/signin/verify")
    page.click("form:has(input[name=method][value=recovery]) button")
    page.wait_for_url("**/signin/verify")
    assert page.locator("#code").get_attribute("autocomplete") == "off"
    fill_code(page, "aaaaa-bbbbb")
    assert error_texts(page) == [text(lang, "The code is wrong or was already used.")]
    shot(page, "7-recovery-code")
    fill_code(page, recovery[3].upper())  # codes are case-insensitive
    page.wait_for_url(live_server + "/")
    assert is_signed_in(page)
    _open_security(page, live_server)
    assert page.get_attribute("[data-factor=recovery]", "data-left") == "9"
    shot(page, "8-security-after-recovery-code")
    page.context.close()


@pytest.mark.browser
@pytest.mark.idp_settings(IDP_SIGNIN_FREE_FAILURES=10)  # the code's own five tries, without delays
def test_a_spent_sms_code_is_followed_by_a_new_one_on_the_same_page(
    browser, live_server, users, outbox, shot, text
):
    """Five wrong codes spend the code, not the sign-in: the page says so and sends a new code."""
    for n, (lang, mobile) in enumerate([("uk", False), ("ru", False), ("en", True)]):
        phone = f"+38067111230{n}"
        users.create(phone=phone, email=f"spent{n}@example.com", locale=lang, sms_2fa_enabled=True)
        page = new_page(browser, lang, mobile=mobile)
        sign_in(page, live_server, phone, PASSWORD)
        page.wait_for_url("**/signin/verify")
        code = outbox.code(phone)
        for _ in range(5):
            fill_code(page, f"{(int(code) + 1) % 1_000_000:06d}")
        assert page.url.endswith("/signin/verify") and not is_signed_in(page)
        assert page.inner_text("[data-code-spent]").strip() == text(
            lang, "Too many wrong codes: this code no longer works. Get a new code."
        )
        assert page.locator("#code").count() == 0
        resend = page.locator("main button", has_text=text(lang, "Send a new code"))
        assert resend.is_disabled()  # counting down the wait since the spent code's SMS
        shot(page, f"{lang}-1-spent")
        with time_machine.travel(datetime.now(UTC) + timedelta(seconds=61), tick=True):
            page.reload()
            with page.expect_navigation():
                resend.click()
            assert text(lang, "We sent a new code.") in flash_texts(page)
            shot(page, f"{lang}-2-new-code")
            fill_code(page, outbox.code(phone))
            page.wait_for_url(live_server + "/")
        assert is_signed_in(page) and outbox.last(phone, "sms_code").locale == lang
        page.context.close()
