"""J4: restore the password by an SMS code to the profile's number; other sessions end."""

import pytest

from tests.helpers.records import PASSWORD
from tests.journeys.conftest import (
    MAIN_SUBMIT,
    error_texts,
    fill_code,
    flash_texts,
    is_signed_in,
    new_page,
    sign_in,
)

NEW_PASSWORD = "N3wSecretValue"


@pytest.mark.browser
@pytest.mark.parametrize(
    ("lang", "mobile"), [("ru", False), ("en", False), ("uk", True)], ids=["ru", "en", "uk-mobile"]
)
def test_restore_password(browser, live_server, users, outbox, shot, text, lang, mobile):
    users.create(phone="+380671113344", email="lost@example.com", locale=lang)

    # Another browser is signed in; the recovery must end its session.
    other = new_page(browser, lang)
    sign_in(other, live_server, "lost@example.com", PASSWORD)
    other.wait_for_url(live_server + "/")
    assert is_signed_in(other)

    page = new_page(browser, lang, mobile=mobile)
    page.goto(live_server + "/signin")
    page.click("main a[href$='/recover']")
    page.wait_for_url("**/recover")
    assert page.inner_text("main h1") == text(lang, "Restore the password")
    shot(page, "1-phone")
    page.fill("#phone", "+380 67 111 3344")
    page.click(MAIN_SUBMIT)
    page.wait_for_url("**/recover/code")
    sms = outbox.last("+380671113344", "sms_code")
    assert sms.locale == lang
    code = outbox.code("+380671113344")
    fill_code(page, f"{(int(code) + 1) % 1_000_000:06d}")
    assert page.url.endswith("/recover/code")
    assert error_texts(page) == [
        text(lang, "The code is wrong. %(num)d try left.", "The code is wrong. %(num)d tries left.", num=4)
    ]
    shot(page, "2-code-wrong")
    fill_code(page, code)
    page.wait_for_url("**/recover/password")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD + "x")
    page.click(MAIN_SUBMIT)
    page.wait_for_selector(".field__error")  # the answer page, not the one being left
    assert page.url.endswith("/recover/password") and error_texts(page)
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    shot(page, "3-new-password")
    page.click(MAIN_SUBMIT)
    page.wait_for_url("**/signin")
    assert text(lang, "Your password has been changed. Sign in with the new password.") in flash_texts(page)
    shot(page, "4-signin")

    sign_in(page, live_server, "lost@example.com", PASSWORD)
    assert page.url.endswith("/signin") and not is_signed_in(page)
    assert error_texts(page) == [text(lang, "The phone number, e-mail or password is wrong.")]
    sign_in(page, live_server, "+380671113344", NEW_PASSWORD)
    page.wait_for_url(live_server + "/")
    assert is_signed_in(page)
    shot(page, "5-home")

    other.reload()
    other.wait_for_url("**/signin?next=/")
    assert not is_signed_in(other)

    notice = outbox.last("lost@example.com", "password_restored")
    assert notice.locale == lang
    assert notice.subject == text(lang, "The password of your profile was restored")
    for secret in (NEW_PASSWORD, PASSWORD):
        assert secret not in notice.text and secret not in notice.html
    page.context.close()
    other.context.close()


@pytest.mark.browser
def test_restore_password_for_unknown_number_looks_the_same(browser, live_server, outbox, shot):
    page = new_page(browser, "uk")
    page.goto(live_server + "/recover")
    page.fill("#phone", "+380 67 999 0000")
    page.click(MAIN_SUBMIT)
    page.wait_for_url("**/recover/code")  # the same next page; the SMS is a notice, no code
    assert [m.kind for m in outbox.messages("+380679990000")] == ["sms_no_profile"]
    fill_code(page, "123456")
    assert page.url.endswith("/recover/code") and error_texts(page)
    shot(page, "1-code")
    page.context.close()
