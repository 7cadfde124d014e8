"""J8: signing in to a relying service with Business ID, and signing out of it both ways.

The relying service is the demo virtual PBX portal (``examples/pbx_portal``), a real OpenID
Connect client served on its own loopback port: Chromium goes portal → Business ID sign-in →
SMS code → consent → portal, then out again through RP-initiated logout; and a sign-out in
Business ID reaches the portal as a back-channel logout token, POSTed by the delivery worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from examples.pbx_portal.app import create_app as create_portal
from examples.pbx_portal.i18n import translate
from idp.oauth.clients import create_client
from tests.delivery.worker_helpers import workers_running
from tests.helpers.records import PASSWORD
from tests.journeys.conftest import fill_code, is_signed_in, new_page, sign_in, sign_out, submit
from tests.oauth.helpers import AuthorizationRequest, RegisteredClient
from tests.peers.fixtures import LiveServer, wait_until

PORTAL_NAME = "Virtual PBX portal"


@dataclass
class Portal:
    url: str
    state: object  # examples.pbx_portal.app.Portal: its sessions are in state.store

    def signed_in(self, sid: str) -> bool:
        return bool(self.state.store.signed_in(sid))


@pytest.fixture
def portal(live_server, app):
    """The demo portal on another loopback port, registered as a confidential, consenting client."""
    server = LiveServer()
    try:
        url = server.url
        with app.app_context():
            registered = create_client(
                PORTAL_NAME,
                [url + "/callback"],
                post_logout_redirect_uris=[url + "/"],
                backchannel_logout_uri=url + "/backchannel-logout",
                client_id="pbx-portal",
                scope="openid profile email phone offline_access services",
            )
            secret = registered.secret
        portal_app = create_portal(live_server, url, "pbx-portal", secret)
        server.serve(portal_app)
        yield Portal(url, portal_app.extensions["pbx_portal"])
    finally:
        server.stop()


@pytest.fixture
def worker(app):
    """The delivery worker that POSTs logout tokens to the portal."""
    with workers_running(app):
        yield


def _to_business_id(page, portal: Portal, base: str) -> None:
    """Press the portal's sign-in button: it leads to Business ID's sign-in page."""
    page.goto(portal.url + "/")
    page.click("[data-signin]")
    page.wait_for_url(f"{base}/signin?**")


def _password_step(page, identifier: str) -> None:
    page.fill("#identifier", identifier)
    page.fill("#password", PASSWORD)
    submit(page)


def _allow(page, portal: Portal) -> None:
    with page.expect_navigation(url=portal.url + "/"):
        page.click("main button[name=decision][value=allow]")


def _claim(page, name: str) -> str:
    return page.inner_text(f"[data-claim={name}] code").strip()


def _userinfo(page, name: str) -> str:
    return page.inner_text(f"[data-userinfo-claim={name}] code").strip()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("lang", "mobile"),
    [("uk", False), ("ru", False), ("en", False), ("en", True)],
    ids=["uk", "ru", "en", "en-mobile"],
)
def test_sign_in_to_the_portal_with_sms_code_and_consent_then_sign_out(
    browser, live_server, portal, worker, users, outbox, shot, text, lang, mobile
):
    profile = users.create(phone="+380671113344", email="pbx@example.com", locale=lang, sms_2fa_enabled=True)
    page = new_page(browser, lang, mobile=mobile)
    page.goto(portal.url + "/")
    assert page.locator("[data-signed-out]").count() == 1
    shot(page, "1-portal")

    _to_business_id(page, portal, live_server)
    assert not is_signed_in(page)
    shot(page, "2-business-id-signin")
    _password_step(page, profile.phone)
    page.wait_for_url("**/signin/verify")
    fill_code(page, outbox.code(profile.phone))

    page.wait_for_url(f"{live_server}/authorize?**")
    assert page.inner_text("main h1") == text(lang, "%(client)s asks for access", client=PORTAL_NAME)
    scopes = page.locator(".consent-scopes li").all_inner_texts()
    assert [s.strip() for s in scopes] == [
        text(lang, t)
        for t in (
            "An identifier that tells it who you are (not your phone number)",
            "Your name and language",
            "Your e-mail address",
            "Your phone number",
            "Your linked service accounts and your role in them",
        )
    ]
    shot(page, "3-consent")
    _allow(page, portal)

    assert page.locator("[data-signed-in]").count() == 1
    welcome = translate(lang, "Welcome, %(name)s", name="Olena Koval")
    assert page.inner_text("main h1") == welcome  # the portal speaks the browser's language too
    assert _claim(page, "sub") == profile.subject
    assert _claim(page, "amr").split() == ["pwd", "sms", "mfa"]
    assert _claim(page, "acr") == "urn:business-id:acr:mfa"
    assert _claim(page, "auth_time").isdigit()
    sid = _claim(page, "sid")
    assert portal.signed_in(sid)
    assert _userinfo(page, "phone_number") == profile.phone
    assert _userinfo(page, "email") == "pbx@example.com"
    assert _userinfo(page, "locale") == lang
    shot(page, "4-portal-signed-in")

    # Sign out on the portal: Business ID ends its session at once (id_token_hint) and sends
    # the browser back to the portal with the portal's state.
    with page.expect_navigation(url=portal.url + "/"):
        page.click("[data-signout]")
    page.wait_for_selector("[data-notice=signed_out]")
    assert page.locator("[data-signed-out]").count() == 1 and not portal.signed_in(sid)
    shot(page, "5-portal-signed-out")
    page.goto(live_server + "/")
    page.wait_for_url("**/signin?next=/")
    assert not is_signed_in(page)

    # Signing in again asks for the password and code, but not for consent: it was given.
    _to_business_id(page, portal, live_server)
    _password_step(page, profile.phone)
    page.wait_for_url("**/signin/verify")
    with page.expect_navigation(url=portal.url + "/"):
        page.fill("#code", outbox.code(profile.phone))
        page.click("main form:not([action]) button[type=submit]")
    assert page.locator("[data-signed-in]").count() == 1
    page.context.close()


@pytest.mark.browser
def test_signing_out_of_business_id_signs_the_portal_out(browser, live_server, portal, worker, users, shot):
    profile = users.create(phone="+380671113355", email="bcl@example.com")
    page = new_page(browser, "en")
    _to_business_id(page, portal, live_server)
    _password_step(page, profile.email)
    page.wait_for_url(f"{live_server}/authorize?**")
    _allow(page, portal)
    assert _claim(page, "amr") == "pwd"
    sid = _claim(page, "sid")
    assert portal.signed_in(sid)

    # Business ID's own sign-out, from its account menu: the portal hears of it from the server.
    page.goto(live_server + "/")
    assert is_signed_in(page)
    sign_out(page)
    wait_until(lambda: not portal.signed_in(sid), timeout=15)
    page.goto(portal.url + "/")
    page.wait_for_selector("[data-notice=ended_elsewhere]")
    assert page.locator("[data-signed-out]").count() == 1
    shot(page, "1-portal-after-business-id-sign-out")
    page.context.close()


@pytest.mark.browser
def test_ending_a_session_on_the_security_page_signs_that_browser_out_of_the_portal(
    browser, live_server, portal, worker, users, shot
):
    profile = users.create(phone="+380671113366", email="ended@example.com", locale="uk")
    office = new_page(browser, "uk")
    _to_business_id(office, portal, live_server)
    _password_step(office, profile.email)
    office.wait_for_url(f"{live_server}/authorize?**")
    _allow(office, portal)
    sid = _claim(office, "sid")

    # On the phone, the same person ends the office browser's session from the Security page.
    phone = new_page(browser, "uk", mobile=True)
    sign_in(phone, live_server, profile.phone, PASSWORD)
    phone.wait_for_url(live_server + "/")
    phone.goto(live_server + "/security")
    other = phone.locator("[data-session]:not([data-current])")
    assert other.count() == 1
    with phone.expect_navigation():
        other.locator("button[type=submit]").click()
    assert phone.locator("[data-session]").count() == 1
    shot(phone, "1-security-session-ended")
    wait_until(lambda: not portal.signed_in(sid), timeout=15)

    office.reload()
    office.wait_for_selector("[data-notice=ended_elsewhere]")
    assert office.locator("[data-signed-out]").count() == 1
    shot(office, "2-office-portal-signed-out")
    office.goto(live_server + "/")
    office.wait_for_url("**/signin?next=/")
    phone.context.close()
    office.context.close()


@pytest.mark.browser
def test_denying_access_leaves_the_portal_signed_out(browser, live_server, portal, users, shot):
    profile = users.create(phone="+380671113388", email="deny@example.com")
    page = new_page(browser, "en", mobile=True)
    _to_business_id(page, portal, live_server)
    _password_step(page, profile.email)
    page.wait_for_url(f"{live_server}/authorize?**")
    with page.expect_navigation(url=f"{portal.url}/callback?**"):
        page.click("main button[name=decision][value=deny]")
    assert page.locator("[data-message=denied]").count() == 1
    assert page.locator("[data-signout]").count() == 0 and not portal.state.store.signed_in()
    shot(page, "1-portal-access-denied")
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["uk", "en"])
def test_the_provider_pages_around_a_relying_service(browser, live_server, portal, users, shot, text, lang):
    """What a person may meet besides consent: a refused request, choosing the profile, a
    sign-out the service asks for without proof, and the signed-out page."""
    profile = users.create(phone="+380671113377", email="pages@example.com", locale=lang)
    page = new_page(browser, lang)
    page.goto(
        f"{live_server}/authorize?response_type=code&client_id=pbx-portal&scope=openid"
        "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"
    )
    assert page.inner_text("main h1") == text(lang, "This sign-in request cannot be accepted")
    shot(page, "1-request-refused")

    sign_in(page, live_server, profile.email, PASSWORD)
    page.wait_for_url(live_server + "/")
    request = AuthorizationRequest(
        RegisteredClient("pbx-portal", None, portal.url + "/callback"), extra={"prompt": "select_account"}
    )
    page.goto(live_server + request.url)
    assert page.inner_text("main h1") == text(lang, "Choose a profile")
    shot(page, "2-select-account")

    page.goto(f"{live_server}/logout?client_id=pbx-portal&post_logout_redirect_uri={portal.url}/&state=s1")
    assert page.inner_text("main h1") == text(lang, "Sign out of Business ID?")
    shot(page, "3-logout-asked")
    with page.expect_navigation(url=f"{portal.url}/"):  # the portal drops a state it never sent
        page.click("main form button[type=submit]")
    page.goto(live_server + "/logout")
    assert page.inner_text("main h1") == text(lang, "You have signed out")
    assert not is_signed_in(page)
    shot(page, "4-signed-out")
    page.context.close()
