"""Every sign-in returns to where the person was going: a deep link into a service's cabinet (through
the service login, the linking, a sign-in with a second step, a registration, the account chooser),
into the profile's security pages and into an organisation; only to this site's own paths."""

from __future__ import annotations

import html
import re

import pytest

from idp.extensions import db
from tests.helpers.pages import link_through_sign_in, register, submit
from tests.helpers.records import PASSWORD

MULTIFON, MULTIFON_LABEL, SIP_PASSWORD = "+79260250730", "+7 (926) 025-07-30", "SipPassw0rd"
IPTEL, IPTEL_PASSWORD = "+380442270001", "SipPortal7Pass"
FORWARDING = "/services/iptel/forwarding"
ROUTING = "/services/multifon/routing"


@pytest.fixture
def accounts(app):
    from connectors.iptel.accounts import create_active
    from connectors.multifon.store import provision

    with app.app_context():
        provision(MULTIFON, SIP_PASSWORD, balance="10.00")
        create_active(IPTEL, "office@example.com", IPTEL_PASSWORD, "en")
        db.session.commit()


def _link(app, profile, connector: str, number: str) -> None:
    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link
    from idp.profiles.models import Profile

    with app.app_context():
        link(db.session.get(Profile, profile.id), connector, VerifiedAccount(number, number))


def _lands(client, location: str, hops: int = 4) -> str:
    """Follow redirects from ``location``; return the path of the page that finally answers."""
    for _ in range(hops):
        response = client.get(location)
        if response.status_code != 302:
            assert response.status_code == 200, (location, response.status_code)
            return location
        location = response.headers["Location"]
    raise AssertionError(f"too many redirects, at {location}")


_SIGNIN_OFFER = re.compile(r'href="(/signin\?[^"]+)"')


def test_a_deep_link_into_ip_telephony_returns_after_the_profiles_sign_in(app, client, users, accounts):
    profile = users.create()
    _link(app, profile, "iptel", IPTEL)
    asked = client.get(FORWARDING)
    assert asked.headers["Location"] == f"/services/iptel/login?next={FORWARDING}"
    login = client.get(asked.headers["Location"]).get_data(as_text=True)
    signin = html.unescape(_SIGNIN_OFFER.search(login).group(1))  # "Sign in with your business profile"
    page = submit(client, signin, {"identifier": profile.phone, "password": PASSWORD})
    assert _lands(client, page.location) == FORWARDING


def test_a_deep_link_into_multifon_returns_through_the_service_login_and_the_linking(
    app, client, users, accounts
):
    profile = users.create()
    assert client.get(ROUTING).headers["Location"].startswith("/services/multifon/login?next=")
    page = submit(
        client, client.get(ROUTING).headers["Location"], {"login": MULTIFON, "password": SIP_PASSWORD}
    )
    assert page.location == "/services/multifon/link"
    assert link_through_sign_in(client, "/services/multifon", profile.phone).location == ROUTING


def test_a_deep_link_returns_after_a_registration_instead_of_a_sign_in(app, client, outbox, accounts):
    login = client.get(ROUTING).headers["Location"]
    assert (
        submit(client, login, {"login": MULTIFON, "password": SIP_PASSWORD}).location
        == "/services/multifon/link"
    )
    offer = re.search(
        r'href="([^"]+)" data-link-register', client.get("/services/multifon/link").get_data(as_text=True)
    )
    start = html.unescape(offer.group(1))
    assert submit(client, start, {"phone": MULTIFON}).location == "/register/code"
    submit(client, "/register/code", {"code": outbox.code(MULTIFON)})
    details = {"last_name": "Koval", "first_name": "Olena", "email": "fresh@example.com", "accept_offer": "y"}
    submit(client, "/register/details", details)
    submit(client, "/register/password", {"password": PASSWORD, "confirm": PASSWORD, "link_account": "y"})
    confirmed = submit(client, outbox.link("fresh@example.com"))
    assert _lands(client, confirmed.location) == ROUTING


@pytest.mark.idp_settings(IDP_SIGNIN_FREE_FAILURES=10)
def test_a_deep_link_returns_after_the_second_step_and_after_the_account_chooser(
    app, client, users, outbox, accounts
):
    from connectors.multifon.store import provision

    with app.app_context():
        provision("+79260250731", SIP_PASSWORD, balance="1.00")
        db.session.commit()
    profile = users.create(sms_2fa_enabled=True)
    _link(app, profile, "multifon", MULTIFON)
    _link(app, profile, "multifon", "+79260250731")
    login = client.get(ROUTING).headers["Location"]
    signin = html.unescape(_SIGNIN_OFFER.search(client.get(login).get_data(as_text=True)).group(1))
    assert (
        submit(client, signin, {"identifier": profile.phone, "password": PASSWORD}).location
        == "/signin/verify"
    )
    page = submit(client, "/signin/verify", {"code": outbox.code(profile.phone)})
    assert page.location == "/services/multifon/"
    chooser = client.get(page.location).headers["Location"]
    assert chooser == "/services/multifon/choose"
    link_id = re.search(r'name="link" value="(\d+)"', client.get(chooser).get_data(as_text=True)).group(1)
    assert submit(client, chooser, {"link": link_id}).location == ROUTING


def test_a_deep_link_into_the_security_pages_returns_after_the_second_step(client, users, outbox):
    target = "/security/phone?from=letter"
    profile = users.create(sms_2fa_enabled=True)
    asked = client.get(target).headers["Location"]
    assert asked.startswith("/signin?next=")
    assert (
        submit(client, asked, {"identifier": profile.phone, "password": PASSWORD}).location
        == "/signin/verify"
    )
    assert submit(client, "/signin/verify", {"code": outbox.code(profile.phone)}).location == target


def test_a_deep_link_into_an_organisation_returns_after_sign_in(app, client, users):
    from idp.orgs.models import ORG_ADMIN
    from idp.orgs.services import add_member, create_organisation
    from idp.profiles.models import Profile

    profile = users.create()
    with app.app_context():
        org = create_organisation("UA", "32855961", "Koval LLC")
        add_member(org, db.session.get(Profile, profile.id), ORG_ADMIN)
        target = f"/org/{org.id}"
    asked = client.get(target).headers["Location"]
    assert submit(client, asked, {"identifier": profile.phone, "password": PASSWORD}).location == target
    assert client.get(target).status_code == 200


def test_a_deep_link_returns_after_registering_at_the_sign_in_page(client, outbox):
    asked = client.get("/security/email").headers["Location"]
    offer = re.search(r'href="(/register[^"]*)"', client.get(asked).get_data(as_text=True)).group(1)
    assert html.unescape(offer) == "/register?next=/security/email"
    register(client, outbox, "+380671112299", email="deep@example.com", start=html.unescape(offer))
    assert submit(client, outbox.link("deep@example.com")).location == "/security/email"


def test_a_form_sent_after_the_session_ended_returns_to_its_page(client, users):
    profile = users.create()
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/signin").get_data(as_text=True)
    )
    sent = client.post("/security/password", data={"csrf_token": token.group(1)})
    assert sent.headers["Location"] == "/signin?next=/security/password"
    ended = client.post("/security/sessions/end-all", data={"csrf_token": token.group(1)})
    assert ended.headers["Location"] == "/signin"  # no page to return to: the home after sign-in
    assert submit(
        client, "/signin?next=/security/password", {"identifier": profile.phone, "password": PASSWORD}
    )


FOREIGN = [
    "https://evil.example/",
    "//evil.example/services/iptel/forwarding",
    "/\\evil.example",
    "/services/multifon/routing",  # a page of this site, but of another service
]


def test_a_foreign_next_is_refused_by_the_service_login_and_the_sign_in(app, users, accounts, subtests):
    """The service login remembers only a page of the same service on this site; the sign-in
    returns only to a path of this site."""
    profile = users.create()
    _link(app, profile, "iptel", IPTEL)
    for target in FOREIGN:
        with subtests.test(next=target):
            client = app.test_client()
            client.get("/services/iptel/login", query_string={"next": target})
            page = submit(
                client, "/signin?next=/services/iptel/", {"identifier": profile.phone, "password": PASSWORD}
            )
            assert _lands(client, page.location) == "/services/iptel/cabinet"
            fresh = app.test_client()
            page = submit(
                fresh,
                "/signin",
                {"identifier": profile.phone, "password": PASSWORD},
                query_string={"next": target},
            )
            assert page.location == ("/" if target != FOREIGN[3] else target)


def test_opening_an_account_from_the_home_page_forgets_a_deep_link_left_behind(app, client, users, accounts):
    from connectors.multifon.store import provision

    with app.app_context():
        provision("+79260250731", SIP_PASSWORD, balance="1.00")
        db.session.commit()
    profile = users.create()
    _link(app, profile, "multifon", MULTIFON)
    _link(app, profile, "multifon", "+79260250731")
    submit(client, "/signin", {"identifier": profile.phone, "password": PASSWORD})
    assert _lands(client, ROUTING) == "/services/multifon/choose"  # left there, for the home page
    link_id = re.search(r'name="link" value="(\d+)"', client.get("/").get_data(as_text=True)).group(1)
    opened = submit(client, "/services/multifon/open", {"link": link_id}, page="/")
    assert opened.location == "/services/multifon/cabinet"
