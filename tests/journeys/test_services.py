"""J1 from a service's login and J3 (seed 004 §1–§2): link MultiFon accounts, choose among them."""

from __future__ import annotations

import pytest

from idp.extensions import db
from tests.journeys.conftest import (
    MAIN_SUBMIT,
    confirm_link,
    error_texts,
    fill_code,
    flash_texts,
    is_signed_in,
    new_page,
    submit,
)

NUMBER_A, NUMBER_B = "+79260250730", "+79260250731"
SIP_PASSWORD = "SipPassw0rd"
PASSWORD = "Str0ngPassw0rd"


@pytest.fixture
def accounts(app):
    from connectors.multifon.store import provision, seed_calls

    with app.app_context():
        for number, balance in ((NUMBER_A, "-748822.93"), (NUMBER_B, "1520.50")):
            provision(number, SIP_PASSWORD, balance=balance)
            seed_calls(number)
        db.session.commit()


def service_login(page, base: str, number: str, password: str = SIP_PASSWORD) -> None:
    page.goto(base + "/services/multifon/login")
    page.fill("#login", number)
    page.fill("#password", password)
    submit(page)


def cabinet_sign_out(page) -> None:
    """ "Sign out" in the cabinet's settings menu (seed 004 §4)."""
    page.click(".svc-menu summary")
    with page.expect_navigation():
        page.click("[data-multifon-signout]")
    page.wait_for_url("**/services/multifon/login")


@pytest.mark.browser
@pytest.mark.parametrize(
    ("lang", "mobile"), [("uk", False), ("ru", True), ("en", False)], ids=["uk", "ru-mobile", "en"]
)
def test_register_from_the_multifon_login(
    browser, live_server, app, accounts, outbox, shot, text, lang, mobile
):
    from idp.connectors.registry import get

    with app.app_context():
        not_a_number = get("multifon").login_errors[lang]
    page = new_page(browser, lang, mobile=mobile)
    page.goto(live_server + "/services/multifon/login")
    shot(page, "1-service-login")
    page.fill("#login", "office")  # not a number at all: said so, nothing counted
    page.fill("#password", SIP_PASSWORD)
    submit(page)
    assert error_texts(page) == [not_a_number]
    assert page.get_attribute("#login", "aria-invalid") == "true"
    shot(page, "1-not-a-number")
    page.fill("#login", "8 (926) 025-07-30")  # as people in Russia type it
    page.fill("#password", "WrongPassw0rd")
    submit(page)
    assert error_texts(page) == [text(lang, "The account or its password is wrong.")]
    page.fill("#password", SIP_PASSWORD)
    submit(page)
    page.wait_for_url("**/services/multifon/link")
    shot(page, "2-link-offer")
    with page.expect_navigation():
        page.click("[data-link-register]")
    assert page.input_value("#phone") == NUMBER_A  # the service number is offered
    submit(page)
    fill_code(page, outbox.code(NUMBER_A))
    page.fill("#last_name", "Шевченко")
    page.fill("#first_name", "Тарас")
    page.fill("#email", "taras@example.com")
    page.check("#accept_offer")
    submit(page)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    submit(page)
    page.wait_for_url("**/register/email")
    page.goto(live_server + outbox.link("taras@example.com", "email_confirm"))
    submit(page)
    page.wait_for_url("**/services/multifon/cabinet")
    assert is_signed_in(page)
    assert "025-07-30" in page.inner_text("[data-sip-account]")
    balance = {"uk": "-748 822,93 ₽", "ru": "-748 822,93 ₽", "en": "-₽748,822.93"}[lang]
    assert page.inner_text("[data-card=balance] .card__value").replace("\u00a0", " ").strip() == balance
    shot(page, "3-cabinet")
    page.goto(live_server + "/")
    assert page.locator("[data-service-card=multifon]").count() == 1
    assert balance in page.inner_text("[data-service-card=multifon]").replace("\u00a0", " ")
    shot(page, "4-home-with-service")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_link_a_second_account_and_choose(browser, live_server, app, accounts, users, shot, text, lang):
    profile = users.create(phone="+380671112233", password=PASSWORD, locale=lang)
    page = new_page(browser, lang)
    service_login(page, live_server, NUMBER_A)
    with page.expect_navigation():
        page.click("[data-link-signin]")
    assert page.locator("[data-linking]").count() == 1  # the sign-in says what it will link
    page.fill("#identifier", profile.phone)
    page.fill("#password", PASSWORD)
    submit(page)
    page.wait_for_url("**/link/complete?flow=*")  # the account is named before it is linked
    assert "025-07-30" in page.inner_text("main h1")
    shot(page, "link-confirm")
    confirm_link(page)
    page.wait_for_url("**/services/multifon/cabinet")
    assert text(
        lang,
        "Account %(account)s is now linked to your business profile.",
        account=page.locator("[data-sip-account]").inner_text().strip(),
    ) in flash_texts(page)

    cabinet_sign_out(page)  # seed 004 §2 a: sign out, then the other account's credentials
    service_login(page, live_server, NUMBER_B)
    page.wait_for_url("**/services/multifon/link")
    with page.expect_navigation():
        page.click("[data-link-signin]")
    page.fill("#identifier", profile.phone)
    page.fill("#password", PASSWORD)
    submit(page)
    confirm_link(page)
    page.wait_for_url("**/services/multifon/cabinet")
    assert "025-07-31" in page.inner_text("[data-sip-account]")

    cabinet_sign_out(page)  # §2 c: from now on the profile's sign-in shows the chooser
    with page.expect_navigation():
        page.click("main a[href*='/signin']")
    page.fill("#identifier", profile.phone)
    page.fill("#password", PASSWORD)
    submit(page)
    page.wait_for_url("**/services/multifon/choose")
    assert page.locator("[data-choose]").count() == 2
    shot(page, "chooser")
    with page.expect_navigation():
        page.click(f"[data-choose='{NUMBER_A}']")
    page.wait_for_url("**/services/multifon/cabinet")
    assert "025-07-30" in page.inner_text("[data-sip-account]")


@pytest.mark.browser
def test_a_stale_tab_changes_nothing(browser, live_server, app, accounts, users, shot, text):
    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link
    from idp.profiles.models import Profile

    profile = users.create(phone="+380671112244", password=PASSWORD)
    with app.app_context():
        owner = db.session.get(Profile, profile.id)
        for number in (NUMBER_A, NUMBER_B):
            link(owner, "multifon", VerifiedAccount(number, number))
    page = new_page(browser, "en")
    page.goto(live_server + "/signin?next=/services/multifon/")
    page.fill("#identifier", profile.phone)
    page.fill("#password", PASSWORD)
    submit(page)
    page.wait_for_url("**/services/multifon/choose")
    with page.expect_navigation():
        page.click(f"[data-choose='{NUMBER_A}']")
    page.goto(live_server + "/services/multifon/trunk-lines")
    stale = page  # this tab keeps the trunk-lines form of account A
    other = page.context.new_page()
    other.goto(live_server + "/services/multifon/choose")
    with other.expect_navigation():
        other.click(f"[data-choose='{NUMBER_B}']")
    stale.fill("#trunk_lines", "7")
    with stale.expect_navigation():
        stale.click(MAIN_SUBMIT)
    flashes = " ".join(flash_texts(stale))
    assert "nothing was changed" in flashes
    shot(stale, "stale-tab-refused")
    from connectors.multifon.store import ProvisioningStore

    with app.app_context():
        store = ProvisioningStore()
        assert store.overview(NUMBER_A).trunk_lines == 2 == store.overview(NUMBER_B).trunk_lines
