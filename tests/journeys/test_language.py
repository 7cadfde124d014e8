"""Languages: the switch in the header changes the page and the choice is kept."""

import pytest

from tests.helpers.records import PASSWORD
from tests.journeys.conftest import MAIN_SUBMIT, new_page, sign_in


def _lang(page) -> str:
    return page.get_attribute("html", "lang")


@pytest.mark.browser
@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "mobile"])
def test_switch_to_russian_and_stay(browser, live_server, users, shot, text, mobile):
    profile = users.create(phone="+380671116677", email="lang@example.com", locale="en")
    page = new_page(browser, "en", mobile=mobile)
    page.goto(live_server + "/signin")
    assert _lang(page) == "en"
    assert page.inner_text("main h1") == text("en", "Sign in to your business profile")
    shot(page, "1-english")

    page.click("header .langs [lang=ru]")
    page.wait_for_url("**/signin")
    assert _lang(page) == "ru"
    assert page.get_attribute("header .langs [lang=ru]", "aria-current") == "true"
    assert page.inner_text("main h1") == text("ru", "Sign in to your business profile")
    shot(page, "2-russian")

    page.click("main a[href*='/register']")
    page.wait_for_url("**/register*")
    assert _lang(page) == "ru"
    assert page.inner_text("main h1") == text("ru", "Register a business profile")
    shot(page, "3-russian-next-page")

    sign_in(page, live_server, "+380671116677", PASSWORD)
    page.wait_for_url(live_server + "/")
    assert _lang(page) == "ru"
    assert page.inner_text("main h1") == text("ru", "Hello, %(name)s", name=profile.first_name)
    shot(page, "4-russian-signed-in")

    # The choice also goes to the profile, so it follows the person to a new browser that asks
    # for none of our languages ...
    fresh = new_page(browser, "de")
    sign_in(fresh, live_server, "lang@example.com", PASSWORD)
    fresh.wait_for_url(live_server + "/")
    page.click("header .langs [lang=uk]")
    page.wait_for_url(live_server + "/")
    assert _lang(page) == "uk"
    fresh.goto(live_server + "/security")
    assert _lang(fresh) == "uk"
    fresh.context.close()
    # ... while a browser that asks for one of them keeps it all the way, after the sign-in too.
    russian = new_page(browser, "ru", mobile=mobile)
    sign_in(russian, live_server, "lang@example.com", PASSWORD)
    russian.wait_for_url(live_server + "/")
    assert _lang(russian) == "ru"
    assert russian.inner_text("main h1") == text("ru", "Hello, %(name)s", name=profile.first_name)
    shot(russian, "5-russian-browser-uk-profile")
    russian.context.close()
    page.context.close()


@pytest.mark.browser
def test_switch_keeps_the_form_page(browser, live_server, shot):
    """The switch returns to the same page, with its query, e.g. the sign-in's next."""
    page = new_page(browser, "uk")
    page.goto(live_server + "/security")
    page.wait_for_url("**/signin?next=/security")
    page.click("header .langs [lang=en]")
    page.wait_for_url("**/signin?next=/security")
    assert _lang(page) == "en"
    assert page.locator(MAIN_SUBMIT).count() == 1
    page.context.close()
