"""Security settings in the browser: e-mail change (both addresses told), password change (told
without the password), and ending another session (seed 000, J6's notices; SPEC "Sessions")."""

import pytest

from tests.helpers.records import PASSWORD
from tests.journeys.conftest import (
    MAIN_SUBMIT,
    error_texts,
    flash_texts,
    is_signed_in,
    new_page,
    sign_in,
    submit,
)

NEW_PASSWORD = "An0therGoodOne"


@pytest.mark.browser
@pytest.mark.parametrize(
    ("lang", "mobile"), [("uk", False), ("ru", False), ("en", True)], ids=["uk", "ru", "en-mobile"]
)
def test_change_email_and_password(browser, live_server, users, outbox, shot, text, lang, mobile):
    users.create(phone="+380671114455", email="old@example.com", locale=lang)
    page = new_page(browser, lang, mobile=mobile)
    sign_in(page, live_server, "old@example.com", PASSWORD)
    page.wait_for_url(live_server + "/")

    # E-mail: a link to the new address; when followed, both addresses get a notice.
    page.goto(live_server + "/security")
    page.click("main a[href$='/security/email']")
    page.wait_for_url("**/security/email")
    page.fill("#email", "New@Example.com")
    page.fill("#current_password", PASSWORD)
    shot(page, "1-email-form")
    submit(page)
    page.wait_for_url("**/security")
    assert text(
        lang,
        "We sent a confirmation link to %(email)s. The address changes when you follow it.",
        email="new@example.com",
    ) in flash_texts(page)
    shot(page, "2-email-link-sent")
    letter = outbox.last("new@example.com", "email_change_confirm")
    assert letter.locale == lang
    assert letter.subject == text(lang, "Confirm your new e-mail address")
    page.goto(live_server + outbox.link("new@example.com", "email_change_confirm"))
    submit(page)
    page.wait_for_url("**/security")
    assert text(lang, "Your e-mail address is now %(email)s.", email="new@example.com") in flash_texts(page)
    assert "new@example.com" in page.inner_text("main")
    shot(page, "3-email-changed")
    old_notice = outbox.last("old@example.com", "email_changed_old")
    new_notice = outbox.last("new@example.com", "email_changed_new")
    assert old_notice.subject == text(lang, "The e-mail address of your profile was changed")
    assert new_notice.subject == text(lang, "This is now the e-mail address of your profile")
    assert old_notice.locale == new_notice.locale == lang

    # The link works once.
    page.goto(live_server + outbox.link("new@example.com", "email_change_confirm"))
    page.click(MAIN_SUBMIT)
    page.wait_for_load_state()
    assert page.inner_text("main h1") == text(lang, "The link does not work")
    shot(page, "4-link-used")

    # Password: the current one is asked, the notice never contains a password.
    page.goto(live_server + "/security")
    page.click("main a[href$='/security/password']")
    page.wait_for_url("**/security/password")
    page.fill("#current_password", "Wr0ngCurrent1")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    submit(page)
    assert error_texts(page) == [text(lang, "The current password is wrong.")]
    shot(page, "5-password-wrong-current")
    page.fill("#current_password", PASSWORD)
    page.fill("#password", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    submit(page)
    page.wait_for_url("**/security")
    assert text(lang, "Your password has been changed. Your other sessions were ended.") in flash_texts(page)
    assert is_signed_in(page)  # this session stays
    shot(page, "6-password-changed")
    notice = outbox.last("new@example.com", "password_changed")
    assert notice.locale == lang
    assert notice.subject == text(lang, "The password of your profile was changed")
    for secret in (NEW_PASSWORD, PASSWORD):
        assert secret not in notice.text and secret not in (notice.html or "")
    assert outbox.messages("old@example.com")[0].kind == "email_changed_old"  # nothing more

    # Name: the one given at registration is corrected; bad input is refused with its reason.
    page.goto(live_server + "/security")
    page.click("main [data-setting=name] a[href$='/security/name']")
    page.wait_for_url("**/security/name")
    assert page.input_value("#last_name") == "Koval" and page.input_value("#first_name") == "Olena"
    page.fill("#first_name", "Оле\u200bна")  # a zero-width space pasted in with it
    page.fill("#current_password", NEW_PASSWORD)
    submit(page)
    assert error_texts(page) == [
        text(lang, "The name has invisible or control characters. Type it again without them.")
    ]
    shot(page, "7-name-refused")
    page.fill("#last_name", "Шевченко")
    page.fill("#first_name", "Олена")
    page.fill("#current_password", NEW_PASSWORD)
    submit(page)
    page.wait_for_url("**/security")
    assert text(lang, "The name in your profile is now %(name)s.", name="Олена Шевченко") in flash_texts(page)
    assert page.inner_text("[data-profile-name]").strip() == "Олена Шевченко"
    assert "Олена Шевченко" in page.text_content("[data-account-menu]")  # the header (a menu on a phone)
    shot(page, "8-name-changed")
    assert outbox.last("new@example.com", "name_changed").locale == lang
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "mobile"), [("ru", False), ("uk", True)], ids=["ru", "uk-mobile"])
def test_end_another_session(browser, live_server, users, shot, text, lang, mobile):
    users.create(phone="+380671115566", email="two@example.com", locale=lang)
    here = new_page(browser, lang, mobile=mobile)
    there = new_page(browser, lang)
    for page in (there, here):
        sign_in(page, live_server, "two@example.com", PASSWORD)
        page.wait_for_url(live_server + "/")

    here.goto(live_server + "/security")
    sessions = here.locator("li[data-session]")
    assert sessions.count() == 2
    assert here.locator("li[data-session][data-current]").count() == 1
    shot(here, "1-two-sessions")
    other = here.locator("li[data-session]:not([data-current])")
    other.locator("button[type=submit]").click()
    here.wait_for_url("**/security")
    assert text(lang, "The session has ended.") in flash_texts(here)
    assert here.locator("li[data-session]").count() == 1
    shot(here, "2-one-session")

    there.reload()
    there.wait_for_url("**/signin?next=/")
    assert not is_signed_in(there)
    shot(there, "3-other-signed-out")
    here.reload()
    assert is_signed_in(here)
    here.context.close()
    there.context.close()
