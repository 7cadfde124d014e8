"""Pages off the main paths — errors, a dead link, the offer, the home page — in every language
and on a phone: they render in the layout, in the right language, without sideways scrolling."""

import pytest

from tests.helpers.records import PASSWORD
from tests.journeys.conftest import MAIN_SUBMIT, new_page, sign_in

CASES = [("uk", False), ("ru", False), ("en", False), ("uk", True), ("ru", True)]
IDS = ["uk", "ru", "en", "uk-mobile", "ru-mobile"]


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "mobile"), CASES, ids=IDS)
def test_error_and_dead_link_pages(browser, live_server, shot, text, lang, mobile):
    page = new_page(browser, lang, mobile=mobile)
    response = page.goto(live_server + "/no-such-page")
    assert response.status == 404
    assert page.get_attribute("html", "lang") == lang
    assert page.inner_text("main h1") == text(lang, "Page not found")
    assert page.locator("footer").is_visible()
    shot(page, "1-not-found")

    page.goto(live_server + "/email/confirm/not-a-real-token")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click(MAIN_SUBMIT)
    assert answer.value.status == 400
    assert page.inner_text("main h1") == text(lang, "The link does not work")
    shot(page, "2-link-does-not-work")

    page.goto(live_server + "/offer")
    assert page.inner_text("main h1") == text(lang, "Terms of use of %(product)s", product="Business ID")
    shot(page, "3-offer")
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "mobile"), CASES, ids=IDS)
def test_signed_in_pages(browser, live_server, users, shot, lang, mobile):
    users.create(
        phone="+380671117788",
        email="kostiantyn.kostiantynovych@example.com",
        locale=lang,
        first_name="Костянтин",
        last_name="Костянтинопольський-Задунайський",
    )
    page = new_page(browser, lang, mobile=mobile)
    sign_in(page, live_server, "+380671117788", PASSWORD)
    page.wait_for_url(live_server + "/")
    shot(page, "1-home")
    page.click("[data-account-menu] summary")
    menu = page.locator("[data-account-menu] .menu")
    assert menu.is_visible()
    box, width = menu.bounding_box(), page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    shot(page, "2-account-menu")
    page.keyboard.press("Escape")
    assert not menu.is_visible()
    page.click("[data-account-menu] summary")
    page.locator("main").click(position={"x": 3, "y": 300})  # a tap elsewhere closes it
    assert not menu.is_visible()
    page.goto(live_server + "/security")
    shot(page, "3-security")
    page.goto(live_server + "/security/totp")
    assert page.locator("img.qr").is_visible()
    shot(page, "4-totp")
    page.goto(live_server + "/security/phone")
    shot(page, "5-phone")
    page.context.close()
