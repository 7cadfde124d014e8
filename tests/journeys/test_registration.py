"""J1: register a business profile from the profile's own page (seed 004 §1)."""

import re

import pytest

from tests.journeys.conftest import new_page

TEXTS = {
    "uk": {"confirmed": "Вашу електронну пошту підтверджено"},
    "ru": {"confirmed": "Ваша электронная почта подтверждена"},
    "en": {"confirmed": "Your e-mail is confirmed"},
}


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en"])
def test_register_from_profile_page(browser, live_server, outbox, shot, lang):
    page = new_page(browser, lang)
    page.goto(live_server + "/register")
    shot(page, "1-phone")
    page.fill("#phone", "+380 67 555 1234")
    page.click("button[type=submit]")
    page.wait_for_url("**/register/code")
    page.fill("#code", outbox.code("+380675551234"))
    shot(page, "2-code")
    page.click("form:not([action]) button[type=submit]")
    page.wait_for_url("**/register/details")
    page.fill("#last_name", "Шевченко")
    page.fill("#first_name", "Тарас")
    page.fill("#email", "taras@example.com")
    page.check("#accept_offer")
    shot(page, "3-details")
    page.click("button[type=submit]")
    page.wait_for_url("**/register/password")
    page.fill("#password", "weakpass")
    assert page.locator("li[data-rule=lower].ok").count() == 1
    assert page.locator("li[data-rule=upper].ok").count() == 0
    page.fill("#password", "Str0ngPassw0rd")
    page.fill("#confirm", "Str0ngPassw0rd")
    shot(page, "4-password")
    page.click("button[type=submit]")
    page.wait_for_url("**/register/email")
    shot(page, "5-email-sent")
    page.goto(live_server + outbox.link("taras@example.com"))
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/")
    assert TEXTS[lang]["confirmed"] in page.content()
    assert re.search("Тарас", page.inner_text("main"))
    shot(page, "6-home")
    page.context.close()
