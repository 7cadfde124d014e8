"""The demo PBX portal's side of J7 and J8: the service accounts it shows at each sign-in.

The portal (``examples/pbx_portal``) asks for the ``services`` scope and shows each account with
its organisation and the person's role, marks the one chosen at ``prompt=select_account``, hears
of a revocation by back-channel logout and, at the next sign-in, lists only what is left. Its
language follows the browser or its own switch, and it asks Business ID for the same one.
"""

from __future__ import annotations

import pytest

from examples.pbx_portal.app import create_app as create_portal
from examples.pbx_portal.i18n import translate
from idp.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SCOPE
from idp.extensions import db
from idp.oauth.clients import create_client
from tests.delivery.worker_helpers import workers_running
from tests.helpers.records import PASSWORD
from tests.journeys.conftest import new_page, submit
from tests.peers.fixtures import LiveServer, wait_until

DEMO_TELECOM = {"name": "ТОВ «Демо Телеком»", "country": "UA", "registration_number": "44000004"}

MF_ORG = "+79260250730"  # the organisation's account: the employee has `user` access to it
MF_OWN = "+79260250731"  # the employee's own account, of no organisation
EMPLOYEE_EMAIL = "taras@example.com"
VIEWPORTS = [("uk", False), ("ru", False), ("en", False), ("uk", True), ("ru", True)]
VIEWPORT_IDS = ["uk", "ru", "en", "uk-phone", "ru-phone"]


@pytest.fixture
def live_portal(live_server, app):
    """The portal served on another loopback port, registered as `idp demo` registers it."""
    server = LiveServer()
    try:
        with app.app_context():
            registered = create_client(
                "Virtual PBX portal",
                [server.url + "/callback"],
                post_logout_redirect_uris=[server.url + "/"],
                backchannel_logout_uri=server.url + "/backchannel-logout",
                client_id=DEMO_CLIENT_ID,
                scope=DEMO_CLIENT_SCOPE,
            )
            secret = registered.secret
        portal_app = create_portal(live_server, server.url, DEMO_CLIENT_ID, secret)
        server.serve(portal_app)
        yield server.url, portal_app.extensions["pbx_portal"]
    finally:
        server.stop()


@pytest.fixture
def worker(app):
    """The delivery worker that POSTs the logout tokens of a revocation to the portal."""
    with workers_running(app):
        yield


@pytest.fixture
def employee(app, users):
    """Taras: `user` on an account of ТОВ «Демо Телеком» (whose owner is Olena), owner of his own."""
    from connectors.multifon.numbers import label
    from connectors.multifon.store import provision
    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link
    from idp.connectors.models import USER, ServiceLink
    from idp.orgs.models import ORG_MEMBER, ORG_OWNER
    from idp.orgs.services import add_member, assign_account, create_organisation
    from idp.profiles.models import Profile

    owner_id = users.create(phone="+380671110001", email="olena@example.com").id
    taras = users.create(phone="+380671110002", email=EMPLOYEE_EMAIL, first_name="Taras", last_name="Bondar")
    with app.app_context():
        owner, profile = db.session.get(Profile, owner_id), db.session.get(Profile, taras.id)
        for number in (MF_ORG, MF_OWN):
            provision(number, "Sip3Passw0rd")
        org = create_organisation("UA", DEMO_TELECOM["registration_number"], DEMO_TELECOM["name"])
        assign_account(org, "multifon", MF_ORG)
        link(owner, "multifon", VerifiedAccount(MF_ORG, label(MF_ORG)))
        add_member(org, owner, ORG_OWNER)
        db.session.add(  # as an accepted invitation makes it
            ServiceLink(
                profile_id=taras.id, connector="multifon", account=MF_ORG, label=label(MF_ORG), role=USER
            )
        )
        add_member(org, profile, ORG_MEMBER)
        link(profile, "multifon", VerifiedAccount(MF_OWN, label(MF_OWN)))
    return owner_id, taras


def _shown_accounts(page) -> dict[str, tuple[str, bool]]:
    rows = page.locator("[data-service-account]")
    return {
        rows.nth(i).get_attribute("data-service-account"): (
            rows.nth(i).get_attribute("data-role"),
            rows.nth(i).get_attribute("data-selected") is not None,
        )
        for i in range(rows.count())
    }


def _business_id_sign_in(page, base: str, portal_url: str) -> None:
    """The password step at Business ID, then consent if it is asked; back at the portal."""
    page.wait_for_url(f"{base}/signin?**")
    page.fill("#identifier", EMPLOYEE_EMAIL)
    page.fill("#password", PASSWORD)
    submit(page)
    if page.url.startswith(f"{base}/authorize") and page.locator("[data-choose]").count() == 0:
        with page.expect_navigation(url=portal_url + "/"):
            page.click("main button[name=decision][value=allow]")


def _revoke(app, owner_id: int, employee_id: int) -> None:
    from idp.connectors.links import find_link
    from idp.orgs.revocation import revoke_access
    from idp.orgs.services import Actor
    from idp.profiles.models import Profile

    with app.app_context():
        owner = db.session.get(Profile, owner_id)
        revoke_access(Actor.person(owner), find_link(employee_id, "multifon", MF_ORG), "Left the company")


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "mobile"), VIEWPORTS, ids=VIEWPORT_IDS)
def test_the_portal_shows_the_chosen_account_and_loses_a_revoked_one_at_the_next_sign_in(
    browser, live_server, live_portal, worker, app, employee, shot, lang, mobile
):
    url, state = live_portal
    owner_id, taras = employee
    page = new_page(browser, lang, mobile=mobile)
    try:
        page.goto(url + "/")
        assert page.get_attribute("html", "lang") == lang
        assert page.inner_text("main h1") == translate(lang, "Your office phone system, in the cloud")
        shot(page, "1-portal-home")

        # The first sign-in: every account, none chosen.
        page.click("[data-signin]")
        _business_id_sign_in(page, live_server, url)
        assert page.inner_text("main h1") == translate(lang, "Welcome, %(name)s", name="Taras Bondar")
        assert _shown_accounts(page) == {MF_ORG: ("user", False), MF_OWN: ("owner", False)}
        organisation = page.locator(f"[data-organisation='{_org_id(app)}']")
        assert organisation.locator("[data-organisation-name]").inner_text() == DEMO_TELECOM["name"]
        assert organisation.locator("[data-role-name]").inner_text() == translate(lang, "User")
        assert page.locator("[data-chosen-account]").count() == 0
        shot(page, "2-portal-accounts")

        # "Choose another account": Business ID asks which one (prompt=select_account), in the
        # portal's language, and names it in the claim.
        with page.expect_navigation(url=f"{live_server}/authorize?**"):
            page.click("[data-choose-account]")
        assert page.get_attribute("html", "lang") == lang  # ui_locales
        shot(page, "3-business-id-choose-account")
        with page.expect_navigation(url=url + "/"):
            page.click(f"[data-choose='{MF_ORG}']")
        assert _shown_accounts(page) == {MF_ORG: ("user", True), MF_OWN: ("owner", False)}
        assert page.locator("[data-chosen-account]").get_attribute("data-chosen-account") == MF_ORG
        shot(page, "4-portal-account-chosen")

        # The organisation's owner takes the access away: the portal hears it at once...
        _revoke(app, owner_id, taras.id)
        wait_until(lambda: not state.store.signed_in(), timeout=15)
        page.reload()
        page.wait_for_selector("[data-notice=ended_elsewhere]")
        assert page.get_attribute("html", "lang") == lang
        shot(page, "5-portal-signed-out-by-revocation")

        # ...and the next sign-in lists only what is left.
        page.click("[data-signin]")
        _business_id_sign_in(page, live_server, url)
        page.wait_for_url(url + "/")
        assert _shown_accounts(page) == {MF_OWN: ("owner", False)}
        assert page.locator("[data-chosen-account]").count() == 0
        assert page.locator("[data-organisation]").count() == 1
        shot(page, "6-portal-accounts-after-revocation")
    finally:
        page.context.close()


def _org_id(app) -> str:
    from idp.orgs.services import find_organisation

    with app.app_context():
        return str(find_organisation("UA", DEMO_TELECOM["registration_number"]).id)


@pytest.mark.browser
@pytest.mark.parametrize("mobile", [False, True], ids=["desktop", "phone"])
def test_the_language_switch_carries_over_to_business_id(browser, live_server, live_portal, shot, mobile):
    url, _state = live_portal
    page = new_page(browser, "en", mobile=mobile)
    try:
        page.goto(url + "/")
        assert page.get_attribute("html", "lang") == "en"
        shot(page, "1-portal-in-english")
        with page.expect_navigation(url=url + "/"):
            page.click("[data-language-switch] [data-lang=uk]")
        assert page.get_attribute("html", "lang") == "uk"
        assert page.inner_text("[data-signin]").split("\n")[-1] == "Увійти через Business ID"  # after the "B"
        assert page.get_attribute("[data-lang=uk]", "aria-pressed") == "true"
        shot(page, "2-portal-switched-to-ukrainian")
        page.click("[data-signin]")
        page.wait_for_url(f"{live_server}/signin?**")
        assert page.get_attribute("html", "lang") == "uk"  # asked with ui_locales=uk
        page.goto(url + "/")
        assert page.get_attribute("html", "lang") == "uk"  # the choice is kept
    finally:
        page.context.close()
