"""J5 (seed 004 §4): the MultiFon Business cabinet in the browser: every card and its details page,
the two settings changed there, and every action of the settings menu, with bad inputs."""

from __future__ import annotations

import pytest

from idp.extensions import db
from tests.journeys.conftest import (
    MAIN_SUBMIT,
    error_texts,
    flash_texts,
    is_signed_in,
    new_page,
    no_horizontal_overflow,
    rows_of,
    submit,
    switch_language,
    text_lines,
)

NUMBER_A, NUMBER_B = "+79260250730", "+79260250731"
LABEL_A, LABEL_B = "+7 (926) 025-07-30", "+7 (926) 025-07-31"
SIP_PASSWORD, SIP_PASSWORD_B = "SipPassw0rd", "Sec0ndSipPass"
NEW_SIP_PASSWORD = "Fresh5ipPass"
PASSWORD = "Str0ngPassw0rd"
TARIFF_OPTION = "Business 500"
CABINET = "/services/multifon/cabinet"
# The amount of NUMBER_A as each language writes it (Babel's currency formats, the rouble's sign).
NEGATIVE = {"uk": "-748 822,93 ₽", "ru": "-748 822,93 ₽", "en": "-₽748,822.93"}
LANGS = pytest.mark.parametrize(("lang", "mobile"), [("uk", False), ("ru", True)], ids=["uk", "ru-mobile"])


@pytest.fixture
def accounts(app):
    """A with a negative balance and 30 days of calls; B with a tariff option and a caller ID."""
    from connectors.multifon.store import provision, seed_calls

    with app.app_context():
        provision(NUMBER_A, SIP_PASSWORD, balance="-748822.93", routing="SIP", trunk_lines=2)
        seed_calls(NUMBER_A)
        provision(
            NUMBER_B,
            SIP_PASSWORD_B,
            balance="1520.50",
            tariff_option=TARIFF_OPTION,
            caller_id="+74951234567",
            routing="GSM",
            trunk_lines=5,
        )
        db.session.commit()


@pytest.fixture
def overview(app):
    """An account's overview straight from the store."""
    from connectors.multifon.store import ProvisioningStore

    def read(number: str = NUMBER_A):
        with app.app_context():
            return ProvisioningStore().overview(number)

    return read


@pytest.fixture
def service(app):
    """The service's name in a language, as the cabinet writes it."""
    from idp.connectors.registry import get

    def name(lang: str) -> str:
        with app.app_context():
            return get("multifon").name(lang)

    return name


def link_accounts(app, profile, *numbers: str) -> None:
    """Link ``numbers`` as the connector's own login would (its label is the formatted number)."""
    from connectors.multifon.numbers import label
    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link
    from idp.profiles.models import Profile

    with app.app_context():
        owner = db.session.get(Profile, profile.id)
        for number in numbers:
            link(owner, "multifon", VerifiedAccount(number, label(number)))


def enter_cabinet(page, base: str, profile) -> None:
    """Sign in with the profile on the way to the service; one linked account opens its cabinet."""
    page.goto(base + "/signin?next=/services/multifon/")
    page.fill("#identifier", profile.phone)
    page.fill("#password", PASSWORD)
    submit(page)
    page.wait_for_url("**" + CABINET)


def profile_in_cabinet(app, users, browser, base, lang, mobile=False, phone="+380671112233"):
    profile = users.create(phone=phone, password=PASSWORD, locale=lang)
    link_accounts(app, profile, NUMBER_A)
    page = new_page(browser, lang, mobile=mobile)
    enter_cabinet(page, base, profile)
    return profile, page


def plain(value: str) -> str:
    """Text with its no-break spaces made ordinary, to compare amounts."""
    return value.replace("\u00a0", " ").replace("\u202f", " ").strip()


def card_value(page, card: str) -> str:
    return plain(page.inner_text(f"[data-card={card}] .card__value"))


def open_details(page, card: str, path: str) -> None:
    with page.expect_navigation():
        page.click(f"[data-card={card}] .card__foot a")
    page.wait_for_url("**/services/multifon" + path)


def back_to_cabinet(page) -> None:
    with page.expect_navigation():
        page.click(f"main a[href='{CABINET}']:not(.svc-head__brand):not(.btn)")
    page.wait_for_url("**" + CABINET)


def open_menu_item(page, path: str) -> None:
    """Open the settings menu in the header and follow one of its items."""
    page.click(".svc-menu summary")
    with page.expect_navigation():
        page.click(f".svc-menu .menu a[href$='{path}']")
    page.wait_for_url("**" + path)


def menu_items(page) -> list[str]:
    return page.eval_on_selector_all(".svc-menu .menu a", "links => links.map(a => a.pathname)")


# --- The cards and their details pages ------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize(
    ("lang", "mobile"), [("uk", False), ("ru", True), ("en", False)], ids=["uk", "ru-mobile", "en"]
)
def test_the_cabinet_shows_every_card_and_its_details(
    browser, live_server, app, accounts, users, shot, text, service, lang, mobile
):
    profile, page = profile_in_cabinet(app, users, browser, live_server, lang, mobile)

    assert page.inner_text("[data-sip-account]").strip() == LABEL_A
    assert page.locator("[data-card=balance] .svc-money--negative").count() == 1
    assert card_value(page, "balance") == NEGATIVE[lang]
    assert page.inner_text("[data-card=balance] .badge").strip() == text(lang, "Service active")
    assert card_value(page, "tariff") == text(lang, "Basic")
    assert card_value(page, "caller-id") == text(lang, "Not set")
    assert card_value(page, "routing") == "SIP"
    assert text(lang, "Incoming calls go to SIP.") in page.inner_text("[data-card=routing]")
    assert card_value(page, "trunk-lines") == text(lang, "%(num)d line", "%(num)d lines", num=2)
    stats = page.locator("[data-card=statistics]")
    assert stats.locator("svg.svc-chart rect.svc-chart__bar").count() == 30
    assert stats.locator("h2").inner_text().strip() == text(
        lang, "Calls per day, last %(num)d day", "Calls per day, last %(num)d days", num=30
    )
    assert stats.locator("[data-calls-total]").count() == 1
    footer = page.locator(".svc-foot a")
    assert footer.count() == 2
    assert [footer.nth(i).get_attribute("href") for i in range(2)] == [
        app.config["IDP_MULTIFON_KNOWLEDGE_BASE_URL"],
        app.config["IDP_MULTIFON_CONFIGURATOR_URL"],
    ]
    assert [t.strip() for t in footer.all_inner_texts()] == [
        text(lang, "%(service)s knowledge base", service=service(lang)),
        text(lang, "Configurator"),
    ]
    assert menu_items(page)[:3] == [
        "/services/multifon/password/remind",
        "/services/multifon/password/change",
        "/services/multifon/disconnect",
    ]
    assert "/services/multifon/choose" not in menu_items(page)  # one account: nothing to switch
    shot(page, "1-cabinet")

    open_details(page, "balance", "/balance")
    assert plain(page.inner_text("[data-balance]")) == NEGATIVE[lang]
    assert page.inner_text("[data-status]").strip() == text(lang, "Service active")
    assert text(lang, "The balance is negative: top up the account to keep making calls.") in page.inner_text(
        "main"
    )
    assert page.inner_text("[data-sip-account]").strip() == LABEL_A  # the frame is on every page
    shot(page, "2-balance-details")
    back_to_cabinet(page)

    open_details(page, "tariff", "/tariff")
    assert page.inner_text("[data-tariff]").strip() == text(lang, "Basic")
    assert text(
        lang, "Calls are charged at the basic rates of the service; no tariff option is active."
    ) in page.inner_text("main")
    back_to_cabinet(page)

    open_details(page, "caller-id", "/caller-id")
    assert page.inner_text("[data-caller-id]").strip() == text(lang, "Not set")
    back_to_cabinet(page)

    open_details(page, "routing", "/routing")
    assert page.is_checked("input[name=routing][value=SIP]")
    assert page.locator("input[name=routing]").count() == 3
    back_to_cabinet(page)

    open_details(page, "trunk-lines", "/trunk-lines")
    assert page.input_value("#trunk_lines") == "2"
    back_to_cabinet(page)

    open_details(page, "statistics", "/statistics")
    assert page.locator("svg.svc-chart rect.svc-chart__bar").count() == 30
    assert page.locator(".svc-table tbody tr").count() == 30
    shot(page, "3-statistics-details")
    back_to_cabinet(page)

    # A second account with a tariff option and a caller ID: switch to it through the menu.
    link_accounts(app, profile, NUMBER_B)
    page.reload()
    assert "/services/multifon/choose" in menu_items(page)
    page.click(".svc-menu summary")
    with page.expect_navigation():
        page.click(".svc-menu .menu a[href$='/services/multifon/choose']")
    assert page.locator("[data-choose]").count() == 2
    with page.expect_navigation():
        page.click(f"[data-choose='{NUMBER_B}']")
    page.wait_for_url("**" + CABINET)
    assert page.inner_text("[data-sip-account]").strip() == LABEL_B
    assert card_value(page, "tariff") == TARIFF_OPTION
    assert card_value(page, "caller-id") == "+7 (495) 123-45-67"
    assert page.locator("[data-card=balance] .svc-money--negative").count() == 0
    assert card_value(page, "routing") == "GSM"
    assert card_value(page, "trunk-lines") == text(lang, "%(num)d line", "%(num)d lines", num=5)
    shot(page, "4-second-account")
    open_details(page, "tariff", "/tariff")
    assert page.inner_text("[data-tariff]").strip() == TARIFF_OPTION
    assert text(lang, "Calls are charged by the active tariff option.") in page.inner_text("main")
    back_to_cabinet(page)
    open_details(page, "caller-id", "/caller-id")
    assert page.inner_text("[data-caller-id]").strip() == "+7 (495) 123-45-67"
    page.context.close()


CARDS = ["balance", "tariff", "caller-id", "routing", "trunk-lines"]


@pytest.mark.browser
def test_the_cards_lie_in_full_rows_at_every_common_width(browser, live_server, app, accounts, users, shot):
    """Seed 004 §4 shows the five cards in one row with the statistics below: no width leaves one
    card alone under a full row (four and one), and nothing scrolls sideways or breaks a badge."""
    _profile, page = profile_in_cabinet(app, users, browser, live_server, "uk")
    expected = {
        1440: [CARDS],
        1280: [CARDS],
        1024: [CARDS[:3], CARDS[3:]],
        768: [CARDS[:3], CARDS[3:]],
        390: [[card] for card in CARDS],
    }
    for lang in ("uk", "ru", "en"):
        if lang != "uk":
            switch_language(page, lang)
        for width, rows in expected.items():
            page.set_viewport_size({"width": width, "height": 900})
            assert rows_of(page, ".svc-cards > .svc-card") == rows, (lang, width)
            no_horizontal_overflow(page)
            if width in (1280, 1024):
                assert all(len(row) > 1 for row in rows_of(page, ".svc-cards > .svc-card"))
            stats = page.locator("[data-card=statistics]").bounding_box()
            last = page.locator("[data-card=trunk-lines]").bounding_box()
            assert stats["y"] >= last["y"] + last["height"], (lang, width)  # the statistics below
            assert text_lines(page, "[data-card=balance] .badge") == 1, (lang, width)
            # In one row the values stand level, however many lines their labels take.
            values = page.eval_on_selector_all(
                ".svc-cards .card__value", "vs => vs.map(v => Math.round(v.getBoundingClientRect().top))"
            )
            if width >= 1100:
                assert max(values) - min(values) <= 1, (lang, width, values)
            if width in (1280, 390):
                shot(page, f"{lang}-{width}")
    page.context.close()


# --- The two settings ---------------------------------------------------------------------------


@pytest.mark.browser
@LANGS
def test_change_the_routing(browser, live_server, app, accounts, users, overview, shot, text, lang, mobile):
    _profile, page = profile_in_cabinet(app, users, browser, live_server, lang, mobile)
    for routing in ("GSM", "SIP+GSM"):
        open_details(page, "routing", "/routing")
        page.click(f"label.svc-choice:has(input[value='{routing}'])")
        assert page.is_checked(f"input[name=routing][value='{routing}']")
        submit(page)
        page.wait_for_url("**" + CABINET)
        assert text(lang, "Incoming calls now go to %(routing)s.", routing=routing) in flash_texts(page)
        assert card_value(page, "routing") == routing
        assert overview().routing == routing
    shot(page, "1-routing-changed")

    # A value the page never offers (a tampered radio button) is refused, and nothing changes.
    open_details(page, "routing", "/routing")
    page.evaluate("""() => {
        const radio = document.querySelector("input[name=routing][value=GSM]");
        radio.value = "XYZ";
        radio.checked = true;
    }""")
    submit(page)
    assert page.url.endswith("/services/multifon/routing")
    assert error_texts(page) == [text(lang, "Choose GSM, SIP or SIP+GSM.")]
    assert page.locator("input[name=routing][value=XYZ]").count() == 0
    shot(page, "2-routing-refused")
    assert overview().routing == "SIP+GSM"
    back_to_cabinet(page)
    assert card_value(page, "routing") == "SIP+GSM"
    page.context.close()


@pytest.mark.browser
@LANGS
def test_change_the_trunk_lines(
    browser, live_server, app, accounts, users, overview, shot, text, lang, mobile
):
    _profile, page = profile_in_cabinet(app, users, browser, live_server, lang, mobile)
    open_details(page, "trunk-lines", "/trunk-lines")
    assert page.get_attribute("#trunk_lines", "min") == "1"
    assert page.get_attribute("#trunk_lines", "max") == "20"
    page.fill("#trunk_lines", "5")
    submit(page)
    page.wait_for_url("**" + CABINET)
    assert text(lang, "The trunk-line limit is now %(lines)d.", lines=5) in flash_texts(page)
    assert card_value(page, "trunk-lines") == text(lang, "%(num)d line", "%(num)d lines", num=5)
    assert overview().trunk_lines == 5

    wrong = text(lang, "Enter a whole number from %(min)d to %(max)d.", min=1, max=20)
    open_details(page, "trunk-lines", "/trunk-lines")
    for lines in ("0", "21", "abc"):
        # The browser would stop these itself; the point is the server's own answer.
        page.evaluate("""() => {
            const input = document.getElementById("trunk_lines");
            for (const name of ["type", "min", "max"]) input.removeAttribute(name);
            input.form.noValidate = true;
        }""")
        page.fill("#trunk_lines", lines)
        submit(page)
        assert page.url.endswith("/services/multifon/trunk-lines"), lines
        assert error_texts(page) == [wrong], lines
        assert page.get_attribute("#trunk_lines", "aria-invalid") == "true"
        assert overview().trunk_lines == 5, lines
    shot(page, "trunk-lines-refused")
    back_to_cabinet(page)
    assert card_value(page, "trunk-lines") == text(lang, "%(num)d line", "%(num)d lines", num=5)
    page.context.close()


# --- The settings menu --------------------------------------------------------------------------


@pytest.mark.browser
@LANGS
def test_remind_the_sip_password(
    browser, live_server, app, accounts, users, outbox, shot, text, lang, mobile
):
    _profile, page = profile_in_cabinet(app, users, browser, live_server, lang, mobile)
    open_menu_item(page, "/password/remind")
    page.fill("#current_password", "Wrong-passw0rd")
    submit(page)
    assert page.url.endswith("/password/remind")
    assert error_texts(page) == [text(lang, "The password of your business profile is wrong.")]
    assert [m for m in outbox.messages(NUMBER_A) if m.kind == "multifon_sip_password"] == []
    shot(page, "1-remind-wrong-password")

    page.fill("#current_password", PASSWORD)
    submit(page)
    page.wait_for_url("**" + CABINET)
    assert text(lang, "We sent the SIP password by SMS to %(number)s.", number=LABEL_A) in flash_texts(page)
    sms = outbox.last(NUMBER_A, "multifon_sip_password")
    assert sms.channel == "sms" and sms.recipient == NUMBER_A and sms.locale == lang
    assert SIP_PASSWORD in sms.text
    shot(page, "2-reminded")
    page.context.close()


def change_sip_password(page, text, lang: str, new: str) -> None:
    """On the change page: the new SIP password, confirmed with the profile's; back in the cabinet."""
    page.fill("#password", new)
    page.fill("#confirm", new)
    page.fill("#current_password", PASSWORD)
    submit(page)
    page.wait_for_url("**" + CABINET)
    assert text(
        lang, "The SIP password has been changed. Enter the new one in your SIP phones and programs."
    ) in flash_texts(page)


def service_login(page, base: str, password: str) -> None:
    page.goto(base + "/services/multifon/login")
    page.fill("#login", LABEL_A)
    page.fill("#password", password)
    submit(page)


@pytest.mark.browser
@LANGS
def test_change_the_sip_password(browser, live_server, app, accounts, users, shot, text, lang, mobile):
    import flask_babel

    from idp.security.passwords import rule_text

    with app.test_request_context(), flask_babel.force_locale(lang):
        no_capital = rule_text("upper")
    _profile, page = profile_in_cabinet(app, users, browser, live_server, lang, mobile)
    open_menu_item(page, "/password/change")
    for new, confirm, field, error in (
        (NEW_SIP_PASSWORD, "Other5ipPass", "confirm", text(lang, "The passwords do not match.")),
        ("alllowercase1", "alllowercase1", "password", no_capital),
    ):
        page.fill("#password", new)
        page.fill("#confirm", confirm)
        page.fill("#current_password", PASSWORD)
        submit(page)
        assert page.url.endswith("/password/change"), new
        assert error_texts(page) == [error], new
        assert page.get_attribute(f"#{field}", "aria-invalid") == "true"
    shot(page, "1-weak-password-refused")
    page.fill("#password", NEW_SIP_PASSWORD)
    page.fill("#confirm", NEW_SIP_PASSWORD)
    page.fill("#current_password", "Wrong-passw0rd")
    submit(page)
    assert error_texts(page) == [text(lang, "The password of your business profile is wrong.")]

    change_sip_password(page, text, lang, NEW_SIP_PASSWORD)

    # Another browser: the old SIP password no longer opens the service, the new one does.
    other = new_page(browser, lang)
    service_login(other, live_server, SIP_PASSWORD)
    assert other.url.endswith("/services/multifon/login")
    assert error_texts(other) == [text(lang, "The account or its password is wrong.")]
    service_login(other, live_server, NEW_SIP_PASSWORD)
    other.wait_for_url("**/services/multifon/link")
    other.context.close()
    page.context.close()


@pytest.mark.browser
@LANGS
def test_disconnect_the_service_and_sign_out(
    browser, live_server, app, accounts, users, overview, shot, text, service, lang, mobile
):
    _profile, page = profile_in_cabinet(app, users, browser, live_server, lang, mobile)
    stale = page.context.new_page()  # a tab with a form opened before the disconnection
    stale.goto(live_server + "/services/multifon/trunk-lines")

    open_menu_item(page, "/disconnect")
    name = service(lang)
    assert page.inner_text("main h1").strip() == text(lang, "Disconnect %(service)s?", service=name)
    consequences = [t.strip() for t in page.locator(".svc-consequences li").all_inner_texts()]
    assert consequences == [
        text(lang, "calls through %(service)s stop, incoming and outgoing;", service=name),
        text(lang, "the SIP account no longer registers: SIP phones and programs lose the connection;"),
        text(
            lang,
            "the account stays linked to your business profile and shows as disconnected; "
            "to connect it again, contact your manager.",
        ),
    ]
    shot(page, "1-disconnect-confirmation")
    page.fill("#current_password", "Wrong-passw0rd")
    submit(page)
    assert error_texts(page) == [text(lang, "The password of your business profile is wrong.")]
    assert overview().status == "active"

    page.fill("#current_password", PASSWORD)
    submit(page)
    page.wait_for_url("**" + CABINET)
    assert text(
        lang, "%(service)s is disconnected for %(number)s.", service=name, number=LABEL_A
    ) in flash_texts(page)
    assert page.inner_text("[data-card=balance] .badge").strip() == text(lang, "Service disconnected")
    assert overview().status == "disconnected"
    # The change actions are gone from the menu and from the details pages ...
    items = menu_items(page)
    for path in ("/password/remind", "/password/change", "/disconnect"):
        assert "/services/multifon" + path not in items
    shot(page, "2-disconnected")
    # ... and every page says why, and who connects it again, beside what it shows disabled.
    why = text(
        lang,
        "The service is disconnected for this account, so its settings cannot be changed. "
        "Only the operator can connect it again: contact your manager.",
    )
    assert page.inner_text("#mf-off-note").strip() == why
    open_details(page, "routing", "/routing")
    assert page.locator("fieldset.svc-choices[disabled][aria-describedby=mf-off-note]").count() == 1
    assert page.inner_text("#mf-off-note").strip() == why
    assert page.locator(MAIN_SUBMIT).count() == 0
    shot(page, "3-routing-disconnected")
    back_to_cabinet(page)
    open_details(page, "trunk-lines", "/trunk-lines")
    assert page.locator("#trunk_lines").count() == 0
    assert page.inner_text("#mf-off-note").strip() == why
    for path in ("/password/remind", "/password/change"):
        page.goto(live_server + "/services/multifon" + path)
        assert page.inner_text("#mf-off-note").strip() == why
        assert page.locator("#current_password").count() == 0
    # ... and a form opened before is refused, and says why.
    stale.fill("#trunk_lines", "7")
    with stale.expect_navigation():
        stale.click(MAIN_SUBMIT)
    stale.wait_for_url("**" + CABINET)
    assert flash_texts(stale) == [
        text(lang, "Nothing was changed: the service is disconnected for this account."),
        why,  # the cabinet's note: who connects it again
    ]
    assert overview().trunk_lines == 2
    stale.close()

    # Sign out from the menu: back to the service's login, the session has ended.
    page.goto(live_server + CABINET)
    page.click(".svc-menu summary")
    with page.expect_navigation():
        page.click("[data-multifon-signout]")
    page.wait_for_url("**/services/multifon/login")
    assert text(lang, "You have signed out.") in flash_texts(page)
    assert not is_signed_in(page)
    page.goto(live_server + CABINET)
    page.wait_for_url("**/services/multifon/login")
    shot(page, "4-signed-out")
    page.context.close()
