"""Linking service accounts to profiles (seed 004 §1–§2), through the built-in MultiFon connector."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from idp.connectors.models import ServiceLink
from idp.extensions import db
from idp.timeutil import utcnow
from tests.helpers.pages import Page, link_through_sign_in, register, submit
from tests.helpers.records import PASSWORD, find_profile

NUMBER_A = "+79260250730"
NUMBER_B = "+79260250731"
SIP_PASSWORD = "SipPassw0rd"


@pytest.fixture
def accounts(app):
    from connectors.multifon.store import provision

    with app.app_context():
        provision(NUMBER_A, SIP_PASSWORD, balance="-748822.93")
        provision(NUMBER_B, SIP_PASSWORD, balance="120.00")
        db.session.commit()
    return NUMBER_A, NUMBER_B


def service_login(client, number: str, password: str = SIP_PASSWORD) -> Page:
    return submit(client, "/services/multifon/login", {"login": number, "password": password})


def link_by_signing_in(client, phone: str, number: str, decision: str = "link") -> Page:
    page = service_login(client, number)
    assert page.location == "/services/multifon/link", page.errors
    return link_through_sign_in(client, "/services/multifon", phone, decision=decision)


def links(app, profile_id: int | None = None) -> list[tuple[int, str]]:
    with app.app_context():
        query = db.select(ServiceLink.profile_id, ServiceLink.account).order_by(ServiceLink.id)
        if profile_id is not None:
            query = query.where(ServiceLink.profile_id == profile_id)
        return [tuple(row) for row in db.session.execute(query)]


def test_wrong_credentials_answer_alike_and_are_throttled(client, accounts):
    wrong_password = service_login(client, NUMBER_A, "WrongPassw0rd")
    unknown_account = service_login(client, "+79260259999")
    assert wrong_password.status == unknown_account.status == 200
    assert wrong_password.errors == unknown_account.errors == ["The account or its password is wrong."]
    for _ in range(2):
        service_login(client, NUMBER_A, "WrongPassw0rd")
    throttled = service_login(client, NUMBER_A)  # the right password, but too soon
    assert throttled.location is None
    assert "Too many failed attempts" in throttled.errors[0]


def test_a_typed_number_in_any_format_is_the_same_account(client, accounts):
    page = service_login(client, "8 (926) 025-07-30".replace("8 ", "+7 "))
    assert page.location == "/services/multifon/link"


def test_sign_in_with_the_profile_links_the_account(app, client, users, accounts):
    profile = users.create()
    page = link_by_signing_in(client, profile.phone, NUMBER_A)
    assert page.location == "/services/multifon/cabinet"
    assert links(app) == [(profile.id, NUMBER_A)]
    home = client.get("/").get_data(as_text=True)
    assert "+7 926 025-07-30" in home or "+7 (926) 025-07-30" in home


_OFFERS = re.compile(r'href="([^"]+)" data-link-(signin|register)')


def offers(client) -> dict[str, str]:
    """The sign-in and registration links the link page offers."""
    text = client.get("/services/multifon/link").get_data(as_text=True)
    return {kind: html.unescape(url) for url, kind in _OFFERS.findall(text)}


def test_the_link_page_offers_sign_in_and_registration_in_its_flow(client, accounts):
    service_login(client, NUMBER_A)
    found = offers(client)
    complete = "/services/multifon/link/complete?flow="
    assert parse_qs(urlsplit(found["signin"]).query)["next"][0].startswith(complete)
    register = parse_qs(urlsplit(found["register"]).query)
    assert register["next"][0].startswith(complete) and register["phone"] == [NUMBER_A]


def register_from_the_link_page(client, outbox, link_account: bool = True) -> Page:
    start = offers(client)["register"]
    assert f'value="{NUMBER_A}"' in client.get(start).get_data(as_text=True)  # offered as the phone
    assert submit(client, start, {"phone": NUMBER_A}).location == "/register/code"
    submit(client, "/register/code", {"code": outbox.code(NUMBER_A)})
    submit(
        client,
        "/register/details",
        {"last_name": "Koval", "first_name": "Olena", "email": "fresh@example.com", "accept_offer": "y"},
    )
    text = client.get("/register/password").get_data(as_text=True)
    assert "Link account +7 (926) 025-07-30 of MultiFon Business" in text  # named before linking
    return submit(
        client,
        "/register/password",
        {"password": PASSWORD, "confirm": PASSWORD, **({"link_account": "y"} if link_account else {})},
    )


def test_registering_from_the_service_login_links_the_account(app, client, outbox, accounts):
    service_login(client, NUMBER_A)
    created = register_from_the_link_page(client, outbox)
    assert created.location == "/register/email"
    profile = find_profile(app, NUMBER_A)
    assert links(app) == [(profile.id, NUMBER_A)]
    # The e-mail link signs the new profile in and lands in the cabinet (seed 004 §1.6).
    link = outbox.link("fresh@example.com")
    confirmed = submit(client, link)
    assert confirmed.location.startswith("/services/multifon/link/complete?flow=")
    assert client.get(confirmed.location).headers["Location"] == "/services/multifon/"
    assert client.get("/services/multifon/").headers["Location"] == "/services/multifon/cabinet"


def test_a_registration_that_declines_the_account_links_nothing(app, client, outbox, accounts):
    service_login(client, NUMBER_A)
    assert register_from_the_link_page(client, outbox, link_account=False).location == "/register/email"
    assert links(app) == []


def test_a_registration_begun_elsewhere_links_nothing(app, client, outbox, accounts):
    service_login(client, NUMBER_A)
    register(client, outbox, "+380671112299", email="else@example.com")  # not from the link page
    assert links(app) == []


def test_a_sign_in_begun_elsewhere_drops_the_waiting_account(app, client, users, accounts):
    stranger_proved = service_login(client, NUMBER_A)
    assert stranger_proved.location == "/services/multifon/link"
    flow_url = parse_qs(urlsplit(offers(client)["signin"]).query)["next"][0]
    profile = users.create()  # somebody else signs in at the usual page, in the same browser
    assert submit(client, "/signin", {"identifier": profile.phone, "password": PASSWORD}).location == "/"
    assert client.get(flow_url).headers["Location"] == "/services/multifon/"
    assert submit(client, flow_url, {"decision": "link"}, page="/security").location == "/services/multifon/"
    assert links(app) == []


def test_somebody_else_signing_in_drops_an_account_proven_by_a_signed_in_person(app, client, users, accounts):
    holder, other = users.create(), users.create()
    submit(client, "/signin", {"identifier": holder.phone, "password": PASSWORD})
    service_login(client, NUMBER_A)  # proven while the holder is signed in
    signin_url = offers(client)["signin"]
    page = submit(client, signin_url, {"identifier": other.phone, "password": PASSWORD})
    assert client.get(page.location).headers["Location"] == "/services/multifon/"
    assert links(app) == []


def test_the_confirmation_names_the_account_and_may_be_declined(app, client, users, accounts):
    profile = users.create()
    service_login(client, NUMBER_A)
    page = submit(client, offers(client)["signin"], {"identifier": profile.phone, "password": PASSWORD})
    text = client.get(page.location).get_data(as_text=True)
    heading = re.search(r"<h1>(.*?)</h1>", text, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", heading).strip() == "Link account +7 (926) 025-07-30?"
    assert "Olena Koval" in text and "data-link-confirm" in text
    assert links(app) == []  # nothing is linked before the person confirms
    declined = submit(client, page.location, {"decision": "cancel"}, follow=True)
    assert ("info", "Account +7 (926) 025-07-30 was not linked.") in declined.flashes
    assert links(app) == []


def test_signing_out_drops_the_waiting_account(app, client, users, accounts):
    profile = users.create()
    submit(client, "/signin", {"identifier": profile.phone, "password": PASSWORD})
    service_login(client, NUMBER_A)
    flow_url = parse_qs(urlsplit(offers(client)["signin"]).query)["next"][0]
    submit(client, "/signout", page="/security")
    submit(client, "/signin", {"identifier": profile.phone, "password": PASSWORD})
    assert client.get(flow_url).headers["Location"] == "/services/multifon/"
    assert links(app) == []


def test_a_second_account_is_linked_and_the_chooser_appears(app, client, users, accounts):
    profile = users.create()
    link_by_signing_in(client, profile.phone, NUMBER_A)
    out = submit(client, "/services/multifon/signout", page="/services/multifon/cabinet")
    assert out.location == "/services/multifon/login"
    assert link_by_signing_in(client, profile.phone, NUMBER_B).location == "/services/multifon/cabinet"
    assert links(app, profile.id) == [(profile.id, NUMBER_A), (profile.id, NUMBER_B)]

    submit(client, "/services/multifon/signout", page="/services/multifon/cabinet")
    submit(client, "/signin", {"identifier": profile.phone, "password": PASSWORD})
    assert client.get("/services/multifon/").headers["Location"] == "/services/multifon/choose"
    chooser = client.get("/services/multifon/choose").get_data(as_text=True)
    assert 'data-choose="+79260250730"' in chooser and 'data-choose="+79260250731"' in chooser
    with app.app_context():
        second = db.session.scalar(db.select(ServiceLink.id).where(ServiceLink.account == NUMBER_B))
    chosen = submit(client, "/services/multifon/choose", {"link": str(second)})
    assert chosen.location == "/services/multifon/cabinet"
    assert client.get("/services/multifon/").headers["Location"] == "/services/multifon/cabinet"


def test_an_account_of_another_profile_is_not_relinked(app, client, users, accounts):
    owner, other = users.create(), users.create()
    link_by_signing_in(client, owner.phone, NUMBER_A)
    submit(client, "/services/multifon/signout", page="/services/multifon/cabinet")
    refused = link_by_signing_in(client, other.phone, NUMBER_A)
    assert refused.status == 409
    assert "already belongs to another business profile" in refused.text
    assert links(app) == [(owner.id, NUMBER_A)]


def test_the_proven_account_waits_thirty_minutes(app, client, users, accounts):
    profile = users.create()
    service_login(client, NUMBER_A)
    signin_url = offers(client)["signin"]
    with time_machine.travel(utcnow().timestamp() + 31 * 60, tick=False):
        page = submit(client, signin_url, {"identifier": profile.phone, "password": PASSWORD})
        assert client.get(page.location).headers["Location"] == "/services/multifon/"
    assert links(app) == []


def test_entering_the_service_unsigned_shows_its_login(client, accounts):
    assert client.get("/services/multifon/").headers["Location"] == "/services/multifon/login"
    assert client.get("/services/nosuch/").status_code == 404


def test_the_services_claim_lists_the_linked_accounts(app, client, users, accounts):
    from idp.oauth.claims import service_accounts
    from idp.profiles.models import Profile

    profile = users.create()
    link_by_signing_in(client, profile.phone, NUMBER_A)
    with app.app_context():
        entries = service_accounts(db.session.get(Profile, profile.id))
    assert [(e["connector"], e["account"], e["role"]) for e in entries] == [("multifon", NUMBER_A, "owner")]


def test_operators_list_unlink_and_disconnect(app, client, users, accounts):
    profile = users.create()
    link_by_signing_in(client, profile.phone, NUMBER_A)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["services", "links"])
    assert NUMBER_A in listed.output and profile.phone in listed.output
    assert runner.invoke(args=["services", "disconnect", "multifon", NUMBER_A]).exit_code == 0
    assert runner.invoke(args=["services", "disconnect", "multifon", "+79260259999"]).exit_code == 1
    assert runner.invoke(args=["services", "unlink", "multifon", NUMBER_A]).exit_code == 0
    assert links(app) == []
    assert runner.invoke(args=["services", "unlink", "multifon", NUMBER_A]).exit_code == 1


def test_prompt_select_account_offers_the_service_accounts(app, client, users, accounts):
    from html import unescape

    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link
    from idp.profiles.models import Profile
    from tests.helpers.pages import csrf_token, sign_in
    from tests.oauth.helpers import AuthorizationRequest, register_client

    profile = users.create()
    with app.app_context():
        owner = db.session.get(Profile, profile.id)
        rows = [link(owner, "multifon", VerifiedAccount(n, n)) for n in (NUMBER_A, NUMBER_B)]
        second = rows[1].id
    sign_in(client, profile.phone)
    request = AuthorizationRequest(
        register_client(app), scope="openid services", extra={"prompt": "select_account"}
    )
    page = unescape(client.get(request.url).get_data(as_text=True))
    assert f'data-choose="{NUMBER_A}"' in page and f'data-choose="{NUMBER_B}"' in page
    action = re.search(r'action="(/authorize/service-account\?[^"]+)"', page).group(1)
    answer = client.post(action, data={"csrf_token": csrf_token(client, request.url), "link": str(second)})
    assert answer.headers["Location"].startswith("/authorize?")
    assert "select_account" not in answer.headers["Location"]
    # The chosen account is the browser's active one: the cabinet opens in it.
    assert client.get("/services/multifon/").headers["Location"] == "/services/multifon/cabinet"
    with app.app_context():
        assert db.session.get(ServiceLink, second).last_used_at is not None


@pytest.mark.parametrize("posted", ["", "abc", "99999999999999999999", "-1"])
def test_the_chooser_refuses_what_is_not_one_of_the_profiles_links(app, client, users, accounts, posted):
    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link
    from idp.profiles.models import Profile

    profile, stranger = users.create(), users.create()
    with app.app_context():
        for owner, number in ((profile, NUMBER_A), (stranger, NUMBER_B)):
            link(db.session.get(Profile, owner.id), "multifon", VerifiedAccount(number, number))
        strangers_link = db.session.scalar(db.select(ServiceLink.id).where(ServiceLink.account == NUMBER_B))
    submit(client, "/signin", {"identifier": profile.phone, "password": PASSWORD})
    for value in (posted, str(strangers_link)):
        page = submit(client, "/services/multifon/choose", {"link": value}, follow=True)
        assert page.status == 200
        assert ("error", "Choose one of your accounts.") in page.flashes
    with app.app_context():
        assert (
            db.session.scalar(db.select(ServiceLink.last_used_at).where(ServiceLink.account == NUMBER_B))
            is None
        )


def test_a_form_sent_for_an_account_unlinked_meanwhile_says_so(app, client, users, accounts):
    from idp.connectors.links import account_links, unlink

    profile = users.create()
    link_by_signing_in(client, profile.phone, NUMBER_A)
    form_page = "/services/multifon/trunk-lines"
    token_page = client.get(form_page).get_data(as_text=True)
    assert 'name="service_account"' in token_page
    with app.app_context():  # the operator unlinks it while the form is open
        unlink(account_links("multifon", NUMBER_A)[0], None, "operator")
    page = submit(
        client, form_page, {"service_account": NUMBER_A, "trunk_lines": "7"}, page="/security", follow=True
    )
    assert (
        "error",
        "Account +7 (926) 025-07-30 is no longer linked to your business profile, so nothing was changed.",
    ) in page.flashes
    with app.app_context():
        from connectors.multifon.store import ProvisioningStore

        assert ProvisioningStore().overview(NUMBER_A).trunk_lines != 7
