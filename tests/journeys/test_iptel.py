"""J6 (seed 000): the IP-telephony portal in the browser, with letters read from a real SMTP server.

Connection by the operator → the initial password by e-mail → the first login forces a new
password → the service is active → linked to the business profile → call forwarding set and
cleared → SIP data without the password → e-mail change with both notices → password change with
its notice → "Forgot password?" → signed in again through the profile; and the bad inputs.
"""

from __future__ import annotations

import re
from datetime import UTC

import pytest
import time_machine

from tests.delivery.worker_helpers import work_until
from tests.journeys.conftest import confirm_link, error_texts, flash_texts, new_page, submit
from tests.peers.fixtures import wait_until

NUMBER, LABEL = "+380442270001", "+380 44 227 0001"
EMAIL, NEW_EMAIL = "office@example.com", "accounts@example.com"
OWN_PASSWORD, CHANGED_PASSWORD, RESTORED_PASSWORD = "MyOwnPassw0rd", "Changed5ipPass", "Rest0redPass"
PROFILE_PASSWORD = "Str0ngPassw0rd"
PORTAL = "/services/iptel"


def deliver(app, smtp_server, address: str, count: int) -> list:
    """Run the delivery worker until ``address`` has ``count`` letters; return them, oldest first."""
    work_until(app, lambda states: states and all(s in ("sent", "failed") for s in states.values()))
    return wait_until(lambda: len(smtp_server.to(address)) >= count and smtp_server.to(address))


def body(mail, kind: str = "plain") -> str:
    return mail.get_body((kind,)).get_content()


def link_in(mail) -> str:
    """The portal path of the link in a letter."""
    url = re.search(r"https?://\S+", body(mail)).group(0)
    return re.sub(r"^https?://[^/]+", "", url)


def portal_login(page, base: str, password: str, login: str = "044 227 0001") -> None:
    page.goto(base + PORTAL + "/login")
    page.fill("#login", login)
    page.fill("#password", password)
    submit(page)


def sign_in_to_link(page, profile) -> None:
    """From the linking page: sign in with the business profile; the cabinet opens."""
    with page.expect_navigation():
        page.click("[data-link-signin]")
    page.fill("#identifier", profile.phone)
    page.fill("#password", PROFILE_PASSWORD)
    submit(page)
    confirm_link(page)
    page.wait_for_url("**" + PORTAL + "/cabinet")


def open_menu_item(page, path: str) -> None:
    page.click(".svc-menu summary")
    with page.expect_navigation():
        page.click(f".svc-menu .menu a[href$='{path}']")


def save_forwarding(page, condition: str) -> None:
    with page.expect_navigation():
        page.click(f"[data-forwarding={condition}] button[type=submit]")


@pytest.mark.browser
@pytest.mark.parametrize(
    ("lang", "mobile"), [("uk", False), ("ru", True), ("en", False)], ids=["uk", "ru-mobile", "en"]
)
def test_connection_activation_forwarding_changes_and_forgotten_password(
    smtp_server, browser, live_server, app, users, shot, text, lang, mobile
):
    base = live_server
    # The operator connects the service; the initial password arrives by e-mail in the language.
    result = app.test_cli_runner().invoke(
        args=["iptel", "connect", "--number", NUMBER, "--email", EMAIL, "--language", lang]
    )
    assert result.exit_code == 0, result.output
    (letter,) = deliver(app, smtp_server, EMAIL, 1)
    assert letter["Subject"] == text(lang, "Your IP-telephony service is connected")
    initial = re.search(r'letter-spacing:1px">([^<]+)</strong>', body(letter, "html")).group(1)
    assert initial in body(letter) and base + PORTAL + "/login" in body(letter)

    # The first login with it forces a new password before anything else.
    page = new_page(browser, lang, mobile=mobile)
    page.goto(base + PORTAL + "/login")
    assert page.locator("[data-forgot-password]").count() == 1
    shot(page, "1-portal-login")
    portal_login(page, base, initial)
    page.wait_for_url("**" + PORTAL + "/activate")
    shot(page, "2-set-own-password")
    page.goto(base + PORTAL + "/cabinet")  # nothing else opens yet
    page.wait_for_url("**" + PORTAL + "/login")
    portal_login(page, base, initial)
    page.fill("#password", initial)
    page.fill("#confirm", initial)
    submit(page)
    assert error_texts(page) == [
        text(lang, "Choose a password of your own, not the initial one from the letter.")
    ]
    page.fill("#password", OWN_PASSWORD)
    page.fill("#confirm", OWN_PASSWORD)
    submit(page)
    page.wait_for_url("**" + PORTAL + "/link")
    activated = deliver(app, smtp_server, EMAIL, 2)[1]
    assert activated["Subject"] == text(lang, "Your IP-telephony service is active")
    assert "380442270001" in body(activated) and OWN_PASSWORD not in body(activated)

    # Linked into the business profile: the cabinet opens with the profile from now on.
    profile = users.create(phone="+380671112233", password=PROFILE_PASSWORD, locale=lang)
    sign_in_to_link(page, profile)
    assert text(
        lang, "Account %(account)s is now linked to your business profile.", account=LABEL
    ) in flash_texts(page)
    assert page.inner_text("[data-iptel-number]").strip() == LABEL
    assert text(lang, "Service active") in page.inner_text("[data-card=status]")
    shot(page, "3-cabinet")

    # Call forwarding: the own number and a bad number are refused; set, shown, then cleared.
    with page.expect_navigation():
        page.click("[data-card=forwarding] .card__foot a")
    page.fill("#busy-number", "+380 44 227 0001")
    page.check("#busy-enabled")
    save_forwarding(page, "busy")
    assert error_texts(page) == [
        text(lang, "Calls cannot be forwarded to this account's own number. Enter another number.")
    ]
    page.fill("#busy-number", "+380 12")
    page.check("#busy-enabled")
    save_forwarding(page, "busy")
    assert error_texts(page) == [
        text(lang, "Enter a valid phone number with its country code, e.g. +380 67 123 4567.")
    ]
    page.fill("#no_answer-number", "067 123 4567")
    page.select_option("#no_answer-delay", "30")
    page.check("#no_answer-enabled")
    save_forwarding(page, "no_answer")
    shot(page, "4-forwarding-on")
    assert page.locator("[data-forwarding=no_answer] .badge--ok").count() == 1
    assert page.input_value("#no_answer-number") == "+380 67 123 4567"
    page.goto(base + PORTAL + "/cabinet")
    assert "+380 67 123 4567" in page.inner_text("[data-card=forwarding]")
    with page.expect_navigation():
        page.click("[data-card=forwarding] .card__foot a")
    page.uncheck("#no_answer-enabled")
    save_forwarding(page, "no_answer")
    assert page.locator("[data-forwarding=no_answer] .badge--off").count() == 1
    assert page.input_value("#no_answer-number") == "+380 67 123 4567"  # kept for next time
    page.goto(base + PORTAL + "/cabinet")
    assert "+380 67 123 4567" not in page.inner_text("[data-card=forwarding]")

    # SIP data: everything a phone needs, and the statement that the password is not shown.
    with page.expect_navigation():
        page.click("[data-card=sip] .card__foot a")
    assert page.inner_text("[data-sip=login]").strip() == "380442270001"
    assert page.inner_text("[data-sip=server]").strip() == "sip.iptel.example"
    assert page.locator("[data-sip-password-note]").count() == 1
    assert OWN_PASSWORD not in page.content()
    shot(page, "5-sip-data")
    with page.expect_navigation():
        page.click("main .svc-foot a[href$='/setup']")
    assert page.locator("[data-setup=softphone] li").count() >= 4
    shot(page, "6-setup-help")

    # Change of e-mail: confirmed at the new address; the old and the new one are told.
    open_menu_item(page, "/email")
    page.fill("#email", NEW_EMAIL)
    page.fill("#current_password", OWN_PASSWORD)
    submit(page)
    page.wait_for_url("**" + PORTAL + "/cabinet")
    (confirmation,) = deliver(app, smtp_server, NEW_EMAIL, 1)
    page.goto(base + link_in(confirmation))
    shot(page, "7-confirm-new-email")
    submit(page)
    page.wait_for_url("**" + PORTAL + "/cabinet")
    assert page.inner_text("[data-iptel-email]").strip() == NEW_EMAIL
    old_notice = deliver(app, smtp_server, EMAIL, 3)[2]
    new_notice = deliver(app, smtp_server, NEW_EMAIL, 2)[1]
    assert NEW_EMAIL in body(old_notice) and EMAIL in body(new_notice)
    assert old_notice["Subject"] == text(lang, "The e-mail address of your IP-telephony service was changed")

    # Change of password: the current one is required; the notice never carries the password.
    open_menu_item(page, "/password")
    page.fill("#current_password", "Wr0ngPassword")
    page.fill("#password", CHANGED_PASSWORD)
    page.fill("#confirm", CHANGED_PASSWORD)
    submit(page)
    assert error_texts(page) == [text(lang, "The current password is wrong.")]
    page.fill("#current_password", OWN_PASSWORD)
    page.fill("#password", CHANGED_PASSWORD)
    page.fill("#confirm", CHANGED_PASSWORD)
    submit(page)
    page.wait_for_url("**" + PORTAL + "/cabinet")
    notice = deliver(app, smtp_server, NEW_EMAIL, 3)[2]
    assert notice["Subject"] == text(lang, "The password of your IP-telephony service was changed")
    assert CHANGED_PASSWORD not in notice.as_string()

    # Sign out; "Forgot password?" sends a single-use link to the current address.
    page.click(".svc-menu summary")
    with page.expect_navigation():
        page.click("[data-iptel-signout]")
    page.wait_for_url("**" + PORTAL + "/login")
    with page.expect_navigation():
        page.click("[data-forgot-password]")
    page.fill("#login", "+380442270001")
    submit(page)
    page.wait_for_url("**" + PORTAL + "/forgot/sent")
    shot(page, "8-forgot-sent")
    reset_letter = deliver(app, smtp_server, NEW_EMAIL, 4)[3]
    reset = link_in(reset_letter)
    page.goto(base + reset)
    page.fill("#password", RESTORED_PASSWORD)
    page.fill("#confirm", RESTORED_PASSWORD)
    submit(page)
    page.wait_for_url("**" + PORTAL + "/login")
    assert text(lang, "Your new password is set. Sign in with it.") in flash_texts(page)
    page.goto(base + reset)  # used: it works once
    assert page.locator("[data-link-invalid]").count() == 1
    shot(page, "9-link-used")

    # The initial password no longer opens anything; the restored one does, and the profile
    # brings the linked cabinet back.
    portal_login(page, base, initial)
    assert error_texts(page) == [text(lang, "The account or its password is wrong.")]
    portal_login(page, base, RESTORED_PASSWORD)
    page.wait_for_url("**" + PORTAL + "/link")
    sign_in_to_link(page, profile)
    page.goto(base + "/")
    assert page.locator("[data-service-card=iptel]").count() == 1
    shot(page, "10-home-with-service")
    page.context.close()

    # A link straight to the forwarding page, opened in a fresh browser: the sign-in asked for on
    # the way ends on that page, not on the cabinet's start.
    fresh = new_page(browser, lang, mobile=mobile)
    fresh.goto(base + PORTAL + "/forwarding")
    fresh.wait_for_url("**" + PORTAL + "/login?next=**")
    with fresh.expect_navigation():
        fresh.click("main a[href^='/signin']")  # "Sign in with your business profile"
    fresh.fill("#identifier", profile.phone)
    fresh.fill("#password", PROFILE_PASSWORD)
    submit(fresh)
    fresh.wait_for_url("**" + PORTAL + "/forwarding")
    assert fresh.locator("[data-forwarding=no_answer]").count() == 1
    shot(fresh, "11-deep-link-after-sign-in")
    fresh.context.close()


@pytest.mark.browser
def test_expired_and_replaced_reset_links(smtp_server, browser, live_server, app, shot, text):
    from connectors.iptel.accounts import create_active

    with app.app_context():
        create_active(NUMBER, EMAIL, OWN_PASSWORD, "en")
    page = new_page(browser, "en")
    for _ in range(2):
        page.goto(live_server + PORTAL + "/forgot")
        page.fill("#login", LABEL)
        submit(page)
    first, second = (link_in(mail) for mail in deliver(app, smtp_server, EMAIL, 2))
    page.goto(live_server + first)  # replaced by the newer letter
    assert page.locator("[data-link-invalid]").count() == 1
    with _later(minutes=61):
        page.goto(live_server + second)  # IDP_IPTEL_RESET_LINK_MINUTES = 60
        assert page.locator("[data-link-invalid]").count() == 1
        shot(page, "expired-link")
    page.context.close()


def _later(minutes: int):
    """Move the clock of the whole process (the served app too) ``minutes`` ahead."""
    from datetime import datetime, timedelta

    return time_machine.travel(datetime.now(UTC) + timedelta(minutes=minutes), tick=True)


@pytest.mark.browser
def test_the_cabinet_and_forwarding_use_the_width_and_never_break_a_word(
    browser, live_server, app, users, shot, text
):
    """Seed 000's cabinet on a desktop: the service, its SIP data and e-mail in one row, every
    forwarding condition with its state below; "When there is no answer" in at most two lines, a
    badge never split inside a word ("Вимкнен/о"); on a phone one card a row, nothing sideways."""
    from connectors.iptel.accounts import create_active
    from connectors.iptel.forwarding import NO_ANSWER, set_forwarding
    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link
    from idp.extensions import db
    from idp.profiles.models import Profile
    from tests.journeys.conftest import no_horizontal_overflow, rows_of, switch_language, text_lines

    profile = users.create(phone="+380671112233", password=PROFILE_PASSWORD, locale="uk")
    with app.app_context():
        account = create_active(NUMBER, EMAIL, OWN_PASSWORD, "uk")
        set_forwarding(account, NO_ANSWER, enabled=True, number="+380671234567", delay_seconds=30)
        link(db.session.get(Profile, profile.id), "iptel", VerifiedAccount(NUMBER, LABEL))
        db.session.commit()
    page = new_page(browser, "uk")
    page.goto(live_server + "/signin?next=" + PORTAL + "/")
    page.fill("#identifier", profile.phone)
    page.fill("#password", PROFILE_PASSWORD)
    submit(page)
    page.wait_for_url("**" + PORTAL + "/cabinet")
    no_answer = "[data-condition=no_answer] .svc-condition__name"
    for lang in ("uk", "ru", "en"):
        if lang != "uk":
            switch_language(page, lang)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live_server + PORTAL + "/cabinet")
            no_horizontal_overflow(page)
            cards = rows_of(page, ".svc-cards > .svc-card")
            conditions = rows_of(page, ".svc-condition")
            if width == 1280:
                assert cards == [["status", "sip", "email"], ["forwarding"]], lang
                assert len(conditions) == 1 and len(conditions[0]) == 4, lang  # side by side
                forwarding = page.locator("[data-card=forwarding]").bounding_box()
                row = page.locator(".svc-cards").bounding_box()
                assert forwarding["width"] >= row["width"] - 1  # across the width
            else:
                assert cards == [["status"], ["forwarding"], ["sip"], ["email"]], lang
                assert [len(r) for r in conditions] == [1, 1, 1, 1], lang
            assert page.inner_text(no_answer).strip() == text(lang, "When there is no answer")
            assert text_lines(page, no_answer) <= 2, (lang, width)
            for badge in page.locator(".svc-condition .badge, [data-card=status] .badge").all():
                assert text_lines(page, badge) == 1, (lang, width, badge.inner_text())
            assert "+380 67 123 4567" in page.inner_text("[data-condition=no_answer]")
            shot(page, f"cabinet-{lang}-{width}")

            page.goto(live_server + PORTAL + "/forwarding")
            no_horizontal_overflow(page)
            forms = rows_of(page, "[data-forwarding]")
            assert [len(r) for r in forms] == ([2, 2] if width == 1280 else [1, 1, 1, 1]), lang
            for condition in ("unconditional", "busy", "no_answer", "unreachable"):
                badge = f"[data-forwarding={condition}] h2 .badge"
                assert text_lines(page, badge) == 1, (lang, width, condition)
            assert text_lines(page, "[data-forwarding=no_answer] h2") <= 2, (lang, width)
            shot(page, f"forwarding-{lang}-{width}")
    page.context.close()
