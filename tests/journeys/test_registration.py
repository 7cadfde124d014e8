"""J1: register a business profile from the profile's own page (seed 004 §1)."""

import pytest

from tests.journeys.conftest import MAIN_SUBMIT, flash_texts, is_signed_in, new_page


@pytest.mark.browser
@pytest.mark.parametrize(
    ("lang", "mobile"),
    [("uk", False), ("ru", False), ("en", False), ("uk", True)],
    ids=["uk", "ru", "en", "uk-mobile"],
)
def test_register_from_profile_page(browser, live_server, outbox, shot, text, lang, mobile):
    page = new_page(browser, lang, mobile=mobile)
    page.goto(live_server + "/register")
    assert page.get_attribute("html", "lang") == lang
    assert page.inner_text("main h1") == text(lang, "Register a business profile")
    shot(page, "1-phone")
    page.fill("#phone", "+380 67 555 1234")
    page.click(MAIN_SUBMIT)
    page.wait_for_url("**/register/code")
    sms = outbox.last("+380675551234", "sms_code")
    assert sms.locale == lang
    page.fill("#code", outbox.code("+380675551234"))
    shot(page, "2-code")
    page.click(MAIN_SUBMIT)
    page.wait_for_url("**/register/details")
    page.fill("#last_name", "Шевченко")
    page.fill("#first_name", "Тарас")
    page.fill("#email", "taras@example.com")
    page.check("#accept_offer")
    shot(page, "3-details")
    page.click(MAIN_SUBMIT)
    page.wait_for_url("**/register/password")
    page.fill("#password", "weakpass")
    assert page.locator("li[data-rule=lower].ok").count() == 1
    assert page.locator("li[data-rule=upper].ok").count() == 0
    page.fill("#password", "Str0ngPassw0rd")
    page.fill("#confirm", "Str0ngPassw0rd")
    checkable = "li[data-rule]:not([data-rule=common])"  # the blocklist is checked on the server
    assert page.locator(checkable + ".ok").count() == page.locator(checkable).count()
    shot(page, "4-password")
    page.click(MAIN_SUBMIT)
    page.wait_for_url("**/register/email")
    assert page.inner_text("main [data-email]") == "taras@example.com"
    shot(page, "5-email-sent")
    letter = outbox.last("taras@example.com", "email_confirm")
    assert letter.locale == lang
    assert letter.subject == text(lang, "Confirm your e-mail address")
    page.goto(live_server + outbox.link("taras@example.com", "email_confirm"))
    shot(page, "6-confirm")
    page.click(MAIN_SUBMIT)
    page.wait_for_url(live_server + "/")
    assert text(
        lang, "Your e-mail is confirmed. Welcome to %(product)s!", product="Business ID"
    ) in flash_texts(page)
    assert is_signed_in(page)
    assert "Тарас" in page.inner_text("main h1")
    assert page.get_attribute("html", "lang") == lang
    shot(page, "7-home")
    if mobile:  # the account menu must open and fit on a phone
        page.click("[data-account-menu] summary")
        menu = page.locator("[data-account-menu] .menu").bounding_box()
        assert menu["x"] >= 0 and menu["x"] + menu["width"] <= 390
        shot(page, "8-account-menu")
    page.context.close()


@pytest.mark.browser
@pytest.mark.idp_settings(IDP_SMS_BUDGET_IP="1/hour", IDP_POW_MAX_NUMBER=100000)
@pytest.mark.parametrize(
    ("lang", "mobile"), [("uk", True), ("ru", False), ("en", False)], ids=["uk-mobile", "ru", "en"]
)
def test_an_office_behind_one_address_registers_after_the_browser_s_check(
    browser, live_server, outbox, shot, text, lang, mobile
):
    """Past the address's SMS budget the next colleague is not stopped: the browser solves a
    proof of work (ui/static/pow.js, real WebCrypto) and the code is sent."""
    first = new_page(browser, lang, mobile=mobile)
    first.goto(live_server + "/register")
    first.fill("#phone", "+380 67 555 0001")
    first.click(MAIN_SUBMIT)
    first.wait_for_url("**/register/code")
    first.context.close()

    page = new_page(browser, lang, mobile=mobile)
    page.goto(live_server + "/register")
    page.fill("#phone", "+380 67 555 0002")
    asked = (
        "Many codes were asked for from your network or for this number lately. Your "
        "browser makes a short check first; the code is sent when it is done."
    )
    # Each answer's body is kept on its way to the page (a redirect passed on as it is): the page
    # solves the challenge and navigates on by itself, too fast to read the response afterwards.
    bodies: list[str] = []

    def keep(route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        response = route.fetch(max_redirects=0)
        bodies.append(response.text())
        route.fulfill(response=response)

    page.route("**/register", keep)
    page.click(MAIN_SUBMIT)
    # The same page says why it waits, solves the challenge and sends the form again by itself.
    page.wait_for_url("**/register/code", timeout=30_000)
    html = bodies[0]
    assert text(lang, asked).replace("'", "&#39;") in html and "data-pow-challenge" in html
    assert 'class="field__error"' not in html  # the number itself is fine
    assert outbox.last("+380675550002", "sms_code").locale == lang
    shot(page, "code-after-the-check")
    page.context.close()

    # What the person sees meanwhile (a browser without JavaScript stays on it).
    still = new_page(browser, lang, mobile=mobile, javascript=False)
    still.goto(live_server + "/register")
    still.fill("#phone", "+380 67 555 0003")
    with still.expect_navigation():
        still.click(MAIN_SUBMIT)
    assert still.locator("[data-pow-challenge] [data-pow-status]").count() == 1
    shot(still, "proof-of-work")
    still.context.close()
