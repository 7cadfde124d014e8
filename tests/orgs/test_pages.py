"""The organisation pages (/org, /org/<id> and its actions) and the colleague's /invite/<token>:
what each person sees, every refusal a page can meet (IDOR between organisations and accounts,
role escalation, a wrong password) changing nothing, and the actions done."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from connectors.multifon.store import provision
from idp.connectors.contract import VerifiedAccount
from idp.connectors.links import find_link, link
from idp.connectors.models import OWNER, USER, VIEWER, ServiceLink
from idp.extensions import db
from idp.logs import redact
from idp.orgs import invitations
from idp.orgs.models import ORG_ADMIN, ORG_MEMBER, ORG_OWNER, Invitation, Membership, Organisation
from idp.orgs.services import Actor, add_member, assign_account, create_organisation, membership
from idp.profiles.models import Profile
from idp.timeutil import utcnow
from tests.helpers.pages import Page, csrf_token, is_signed_in, sign_in, without_csrf_tokens
from tests.helpers.records import PASSWORD

A1, A2, A3, B1 = "+79260250730", "+79260250731", "+79260250732", "+79260250740"
WRONG = "Wr0ngPassword1"


@dataclass
class World:
    """Organisation A (owner, admin, a user and a viewer of A1, the owner of A3 who is a plain
    member; A2 has no owner) and organisation B (its owner owns B1)."""

    org_a: int
    org_b: int
    owner: Profile
    admin: Profile
    colleague: Profile
    viewer: Profile
    account_owner: Profile
    other: Profile
    accounts: dict[str, int]  # number -> OrgAccount id


def _link(app, profile: Profile, number: str, role: str) -> int:
    with app.app_context():
        if role == OWNER:
            row = link(db.session.get(Profile, profile.id), "multifon", VerifiedAccount(number, number))
        else:
            row = ServiceLink(
                profile_id=profile.id, connector="multifon", account=number, label=number, role=role
            )
            db.session.add(row)
            db.session.commit()
        return row.id


@pytest.fixture
def world(app, users) -> World:
    with app.app_context():
        for number in (A1, A2, A3, B1):
            provision(number, "SipPassw0rd")
        db.session.commit()
    owner = users.create(phone="+380671000001", email="owner@example.com")
    admin = users.create(phone="+380671000002", email="admin@example.com")
    colleague = users.create(phone="+380671000003", email="colleague@example.com")
    viewer = users.create(phone="+380671000004", email="viewer@example.com")
    account_owner = users.create(phone="+380671000005", email="acct@example.com")
    other = users.create(phone="+380671000006", email="other@example.com")
    _link(app, owner, A1, OWNER)
    _link(app, colleague, A1, USER)
    _link(app, viewer, A1, VIEWER)
    _link(app, account_owner, A3, OWNER)
    _link(app, other, B1, OWNER)
    with app.app_context():
        org_a = create_organisation("UA", "32855961", "Koval and Partners")
        org_b = create_organisation("UA", "00032129", "Other Company")
        ids = {number: assign_account(org_a, "multifon", number).id for number in (A1, A2, A3)}
        ids[B1] = assign_account(org_b, "multifon", B1).id
        add_member(org_a, db.session.get(Profile, owner.id), ORG_OWNER)
        add_member(org_a, db.session.get(Profile, admin.id), ORG_ADMIN)
        add_member(org_b, db.session.get(Profile, other.id), ORG_OWNER)
        return World(org_a.id, org_b.id, owner, admin, colleague, viewer, account_owner, other, ids)


def post(client, url: str, data: dict | None = None, page: str = "/security") -> Page:
    """Post ``data`` to ``url`` with the session's CSRF token (read from ``page``)."""
    token = csrf_token(client, page)
    response = client.post(url, data={"csrf_token": token, **(data or {})})
    return Page(response.status_code, response.headers.get("Location"), response.get_data(as_text=True))


def flashes(page: Page) -> list[str]:
    return [html.unescape(text) for _category, text in page.flashes]


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def link_id(app, profile: Profile, number: str) -> int | None:
    with app.app_context():
        row = find_link(profile.id, "multifon", number)
        return row.id if row is not None else None


def member_id(app, org_id: int, profile: Profile) -> int:
    with app.app_context():
        return membership(org_id, profile.id).id


def invite_as(app, who: Profile, org_id: int, number: str, address: str, role: str = USER) -> int:
    """An invitation made through the service, as ``who``."""
    with app.app_context():
        from idp.orgs.services import get_organisation

        made = invitations.invite(
            Actor.person(db.session.get(Profile, who.id)),
            get_organisation(org_id),
            invitations.SMS if address.startswith("+") else invitations.EMAIL,
            address,
            [("multifon", number)],
            role,
            "en",
        )
        return made.id


def invitation_token(outbox, address: str) -> str:
    kind = "invitation_sms" if address.startswith("+") else "invitation_email"
    return re.search(r"/invite/([A-Za-z0-9_\-]+)", outbox.last(address, kind).text).group(1)


# --- what each person sees ----------------------------------------------------------------------


def test_the_home_page_links_to_the_organisation_and_one_opens_at_once(client, world):
    sign_in(client, world.owner.phone)
    home = client.get("/").get_data(as_text=True)
    assert "Koval and Partners" in home and 'href="/org"' in home
    assert client.get("/org").headers["Location"] == f"/org/{world.org_a}"


def test_a_member_without_rights_sees_the_list_without_a_link(client, world):
    sign_in(client, world.colleague.phone)
    assert "Koval and Partners" in client.get("/").get_data(as_text=True)
    page = client.get("/org")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Koval and Partners" in text and "Your administrator manages it." in text
    assert f'href="/org/{world.org_a}"' not in text


def test_a_profile_without_organisation_has_no_card(client, users, world):
    stranger = users.create(phone="+380671000009")
    sign_in(client, stranger.phone)
    assert 'href="/org"' not in client.get("/").get_data(as_text=True)
    assert "You do not belong to an organisation yet." in client.get("/org").get_data(as_text=True)


def test_the_organisation_page_shows_people_accounts_invitations_and_events(app, client, world, outbox):
    invite_as(app, world.owner, world.org_a, A1, "+380671000020", VIEWER)
    sign_in(client, world.colleague.phone)  # a sign-in to show
    client.post("/signout", data={"csrf_token": csrf_token(client, "/security")})
    sign_in(client, world.owner.phone)
    page = client.get(f"/org/{world.org_a}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for seen in ("Koval and Partners", "ЄДРПОУ 32855961", "active", "owner@example.com", "+380 67 100 0003"):
        assert seen in text
    people = text.split("data-people")[1].split("data-accounts")[0]
    assert "organisation owner" in people and "administrator" in people and "last signed in" in people
    assert "has not signed in yet" in people  # the viewer never did
    accounts = text.split("data-accounts")[1].split("data-invitations")[0]
    assert (
        "+7 (926) 025-07-30" in accounts
        and 'data-role="user"' in accounts
        and 'data-role="viewer"' in accounts
    )
    assert "Nobody has access to this account yet." in accounts  # A2
    invites = text.split("data-invitations")[1].split("data-events")[0]
    assert "+380 67 100 0020" in invites and "waiting" in invites and "Withdraw" in invites
    events = text.split("data-events")[1]
    assert "Colleague invited" in events and "Account added to the organisation" in events
    assert "Other Company" not in text and B1 not in text


def test_the_owner_of_an_account_sees_only_their_accounts(client, world):
    sign_in(client, world.account_owner.phone)
    assert client.get("/org").headers["Location"] == f"/org/{world.org_a}"
    text = client.get(f"/org/{world.org_a}").get_data(as_text=True)
    assert "data-people" not in text  # the people are the administrators' part
    assert f'data-account="{A3}"' in text
    assert f'data-account="{A1}"' not in text and f'data-account="{A2}"' not in text
    assert "data-transfer" not in text and "data-invite" in text


@pytest.mark.parametrize("who", ["colleague", "viewer", "other"])
def test_others_get_the_same_404_as_for_no_organisation(client, world, who):
    sign_in(client, getattr(world, who).phone)
    forbidden = client.get(f"/org/{world.org_a}")
    missing = client.get("/org/999999")
    assert forbidden.status_code == missing.status_code == 404
    # The same page but for the address itself (the language switch comes back to it).
    assert without_csrf_tokens(forbidden.get_data(as_text=True)).replace(f"/org/{world.org_a}", "/org/N") == (
        without_csrf_tokens(missing.get_data(as_text=True)).replace("/org/999999", "/org/N")
    )


def test_the_pages_ask_to_sign_in(client, world):
    assert client.get(f"/org/{world.org_a}").headers["Location"].startswith("/signin?next=")
    assert client.get("/org").headers["Location"].startswith("/signin?next=")


def test_controls_show_only_what_the_person_may_use(client, world):
    sign_in(client, world.admin.phone)
    text = client.get(f"/org/{world.org_a}").get_data(as_text=True)
    owner_row = text.split(f'data-member="{world.owner.phone}"')[1].split("</li>")[0]
    assert "data-remove" not in owner_row and "data-member-role" not in owner_row
    own_row = text.split(f'data-member="{world.admin.phone}"')[1].split("</li>")[0]
    assert "data-remove" not in own_row
    owner_access = text.split(f'data-access="{world.owner.phone}"')[1].split("</li>")[0]
    assert "data-revoke" not in owner_access  # an owner's access ends only by a transfer
    colleague_access = text.split(f'data-access="{world.colleague.phone}"')[1].split("</li>")[0]
    assert "data-revoke" in colleague_access and "data-access-role" in colleague_access


# --- refusals: IDOR, role escalation, wrong password -----------------------------------------------


@pytest.mark.parametrize("who", ["colleague", "viewer"])
def test_a_user_or_viewer_cannot_invite(app, client, world, who):
    sign_in(client, getattr(world, who).phone)
    assert client.get(f"/org/{world.org_a}/invite").status_code == 404
    page = post(
        client,
        f"/org/{world.org_a}/invite",
        {
            "channel": "sms",
            "address": "+380671000030",
            "accounts": str(world.accounts[A1]),
            "role": VIEWER,
            "language": "en",
            "current_password": PASSWORD,
        },
    )
    assert page.status == 404
    assert count(app, Invitation) == 0


def test_an_admin_of_another_organisation_reaches_nothing_by_changing_ids(app, client, world, outbox):
    pending = invite_as(app, world.owner, world.org_a, A1, "+380671000031")
    sign_in(client, world.other.phone)
    a, b = world.org_a, world.org_b
    colleague_link = link_id(app, world.colleague, A1)
    colleague_member = member_id(app, a, world.colleague)
    confirm = {"current_password": PASSWORD, "reason": "left", "role": VIEWER}
    for url in (
        f"/org/{a}/invite",
        f"/org/{a}/access/{colleague_link}/revoke",
        f"/org/{b}/access/{colleague_link}/revoke",  # their own organisation's URL, A's access
        f"/org/{b}/access/{colleague_link}/role",
        f"/org/{b}/members/{colleague_member}/remove",
        f"/org/{b}/members/{colleague_member}/role",
        f"/org/{b}/invitations/{pending}/withdraw",
        f"/org/{b}/invitations/{pending}/resend",
        f"/org/{b}/accounts/{world.accounts[A1]}/transfer",
    ):
        assert client.get(url).status_code == 404, url
        assert post(client, url, confirm).status == 404, url
    # Posted fields naming another organisation's account or person are refused on the field.
    page = post(
        client,
        f"/org/{b}/invite",
        {
            "channel": "sms",
            "address": "+380671000032",
            "accounts": str(world.accounts[A1]),
            "role": VIEWER,
            "language": "en",
            "current_password": PASSWORD,
        },
    )
    assert page.status == 200 and "Choose among the accounts shown." in page.errors
    page = post(
        client,
        f"/org/{b}/accounts/{world.accounts[B1]}/transfer",
        {
            "new_owner": str(colleague_member),
            "old_owner": "keep",
            "reason": "x",
            "current_password": PASSWORD,
        },
    )
    assert "Choose one of the organisation's people." in page.errors
    with app.app_context():
        assert db.session.get(Invitation, pending).withdrawn_at is None
        assert db.session.scalar(db.select(db.func.count()).select_from(Invitation)) == 1
        assert find_link(world.colleague.id, "multifon", A1).role == USER
        assert membership(a, world.colleague.id) is not None


def test_the_owner_of_one_account_reaches_no_other_account(app, client, world):
    sign_in(client, world.account_owner.phone)
    a = world.org_a
    assert client.get(f"/org/{a}/access/{link_id(app, world.colleague, A1)}/revoke").status_code == 404
    assert client.get(f"/org/{a}/members/{member_id(app, a, world.colleague)}/remove").status_code == 404
    page = post(
        client,
        f"/org/{a}/invite",
        {
            "channel": "sms",
            "address": "+380671000033",
            "accounts": [str(world.accounts[A3]), str(world.accounts[A1])],
            "role": VIEWER,
            "language": "en",
            "current_password": PASSWORD,
        },
    )
    assert "Choose among the accounts shown." in page.errors
    assert count(app, Invitation) == 0


def test_a_role_above_what_may_be_given_is_refused(app, client, world):
    # The account's owner gives user or viewer only: "owner" is not even offered.
    sign_in(client, world.account_owner.phone)
    form = client.get(f"/org/{world.org_a}/invite").get_data(as_text=True)
    assert 'value="owner"' not in form
    fields = {
        "channel": "sms",
        "address": "+380671000034",
        "accounts": str(world.accounts[A3]),
        "role": OWNER,
        "language": "en",
        "current_password": PASSWORD,
    }
    page = post(client, f"/org/{world.org_a}/invite", fields)
    assert "You cannot give this role." in page.errors
    # An administrator may make the owner of an account that has none (A2), not of one that has.
    client.post("/signout", data={"csrf_token": csrf_token(client, "/security")})
    sign_in(client, world.admin.phone)
    assert 'value="owner"' in client.get(f"/org/{world.org_a}/invite").get_data(as_text=True)
    page = post(client, f"/org/{world.org_a}/invite", {**fields, "accounts": str(world.accounts[A1])})
    assert page.status == 400
    assert "You cannot give the role owner on account +7 (926) 025-07-30." in flashes(page)
    assert count(app, Invitation) == 0
    # Nor is an owner made by changing a colleague's role.
    url = f"/org/{world.org_a}/access/{link_id(app, world.colleague, A1)}/role"
    page = post(client, url, {"role": OWNER, "current_password": PASSWORD})
    assert "You cannot give this role." in page.errors
    url = f"/org/{world.org_a}/members/{member_id(app, world.org_a, world.colleague)}/role"
    page = post(client, url, {"role": ORG_OWNER, "current_password": PASSWORD})
    assert "You cannot give this role." in page.errors
    with app.app_context():
        assert find_link(world.colleague.id, "multifon", A1).role == USER
        assert membership(world.org_a, world.colleague.id).role == ORG_MEMBER


def _actions(app, world, pending: int) -> list[tuple[str, dict]]:
    a = world.org_a
    colleague_link = link_id(app, world.colleague, A1)
    colleague_member = member_id(app, a, world.colleague)
    return [
        (
            f"/org/{a}/invite",
            {
                "channel": "sms",
                "address": "+380671000035",
                "accounts": str(world.accounts[A1]),
                "role": VIEWER,
                "language": "en",
            },
        ),
        (f"/org/{a}/invitations/{pending}/resend", {}),
        (f"/org/{a}/invitations/{pending}/withdraw", {}),
        (f"/org/{a}/access/{colleague_link}/role", {"role": VIEWER}),
        (f"/org/{a}/access/{colleague_link}/revoke", {"reason": "left the company"}),
        (f"/org/{a}/members/{colleague_member}/role", {"role": ORG_ADMIN}),
        (f"/org/{a}/members/{colleague_member}/remove", {"reason": "left the company"}),
        (
            f"/org/{a}/accounts/{world.accounts[A1]}/transfer",
            {"new_owner": str(colleague_member), "old_owner": "lose", "reason": "left"},
        ),
    ]


ACTIONS = ["invite", "resend", "withdraw", "access role", "revoke", "member role", "remove", "transfer"]


@pytest.mark.parametrize("action", range(len(ACTIONS)), ids=ACTIONS)
def test_a_wrong_password_changes_nothing(app, client, world, outbox, action):
    pending = invite_as(app, world.owner, world.org_a, A2, "+380671000036")
    with app.app_context():
        db.session.get(Invitation, pending).sent_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    sign_in(client, world.owner.phone)
    sent = len(outbox.messages())
    url, fields = _actions(app, world, pending)[action]
    page = post(client, url, {**fields, "current_password": WRONG})
    assert page.status == 200
    assert page.errors == ["The current password is wrong."]
    assert len(outbox.messages()) == sent
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Invitation)) == 1
        row = db.session.get(Invitation, pending)
        assert row.withdrawn_at is None and row.sends == 1
        assert find_link(world.colleague.id, "multifon", A1).role == USER
        assert find_link(world.owner.id, "multifon", A1).role == OWNER
        assert membership(world.org_a, world.colleague.id).role == ORG_MEMBER
    assert is_signed_in(client)


def test_a_refused_action_says_why_and_changes_nothing(app, client, world, outbox):
    sign_in(client, world.owner.phone)
    base = {"channel": "sms", "accounts": str(world.accounts[A1]), "role": VIEWER, "language": "en"}
    for address, why in (
        (world.owner.phone, "You cannot invite yourself."),
        (world.colleague.phone, "This person already has access to account +7 (926) 025-07-30."),
        ("12", "Enter a valid phone number, e.g. +380 44 123 45 67."),
    ):
        page = post(
            client, f"/org/{world.org_a}/invite", {**base, "address": address, "current_password": PASSWORD}
        )
        assert page.status == 400 and why in flashes(page), address
    page = post(
        client,
        f"/org/{world.org_a}/invite",
        {**base, "channel": "email", "address": "not an address", "current_password": PASSWORD},
    )
    assert "Enter a valid e-mail address." in flashes(page)
    page = post(
        client,
        f"/org/{world.org_a}/invite",
        {**base, "accounts": [], "address": "+380671000040", "current_password": PASSWORD},
    )
    assert "Choose at least one account." in page.errors
    assert count(app, Invitation) == 0
    # The owner's own access, and a reason left out.
    own = link_id(app, world.owner, A1)
    assert (
        "data-revoke"
        not in client.get(f"/org/{world.org_a}")
        .get_data(as_text=True)
        .split(f'data-access="{world.owner.phone}"')[1]
        .split("</li>")[0]
    )
    page = post(
        client, f"/org/{world.org_a}/access/{own}/revoke", {"reason": "x", "current_password": PASSWORD}
    )
    assert page.status == 400
    assert "The owner's access can only be ended by handing the ownership to somebody else." in flashes(page)
    colleague = link_id(app, world.colleague, A1)
    page = post(
        client, f"/org/{world.org_a}/access/{colleague}/revoke", {"reason": " ", "current_password": PASSWORD}
    )
    assert page.errors == ["Fill in this field."]
    assert link_id(app, world.owner, A1) == own and link_id(app, world.colleague, A1) == colleague


# --- the actions ----------------------------------------------------------------------------------


def test_invite_by_sms_and_by_email(app, client, world, outbox):
    sign_in(client, world.admin.phone)
    form = client.get(f"/org/{world.org_a}/invite").get_data(as_text=True)
    assert f'value="{world.accounts[A1]}"' in form and f'value="{world.accounts[B1]}"' not in form
    page = post(
        client,
        f"/org/{world.org_a}/invite",
        {
            "channel": "sms",
            "address": "+380 67 100 0050",
            "accounts": [str(world.accounts[A1]), str(world.accounts[A2])],
            "role": USER,
            "language": "uk",
            "current_password": PASSWORD,
        },
    )
    assert page.location == f"/org/{world.org_a}#invitations"
    sms = outbox.last("+380671000050", "invitation_sms")
    assert sms.locale == "uk" and "/invite/" in sms.text
    page = post(
        client,
        f"/org/{world.org_a}/invite",
        {
            "channel": "email",
            "address": "New.Colleague@Example.com",
            "accounts": str(world.accounts[A3]),
            "role": VIEWER,
            "language": "en",
            "current_password": PASSWORD,
        },
    )
    assert page.location.endswith("#invitations")
    assert "/invite/" in outbox.last("new.colleague@example.com", "invitation_email").text
    text = client.get(f"/org/{world.org_a}").get_data(as_text=True)
    assert "The invitation was sent to new.colleague@example.com." in text
    assert "+380 67 100 0050" in text and "new.colleague@example.com" in text


def test_resend_and_withdraw(app, client, world, outbox):
    pending = invite_as(app, world.owner, world.org_a, A1, "+380671000051")
    first = invitation_token(outbox, "+380671000051")
    sign_in(client, world.owner.phone)
    url = f"/org/{world.org_a}/invitations/{pending}"
    page = post(client, url + "/resend", {"current_password": PASSWORD})
    assert page.status == 400 and any("You can send it again in" in text for text in flashes(page))
    with app.app_context():
        db.session.get(Invitation, pending).sent_at = utcnow() - timedelta(minutes=2)
        db.session.commit()
    page = post(client, url + "/resend", {"current_password": PASSWORD})
    assert page.location.endswith("#invitations")
    second = invitation_token(outbox, "+380671000051")
    assert second != first
    assert client.get(f"/invite/{first}").status_code == 404  # the old link died
    page = post(client, url + "/withdraw", {"current_password": PASSWORD})
    assert page.location.endswith("#invitations")
    assert client.get(f"/invite/{second}").status_code == 410
    page = post(client, url + "/withdraw", {"current_password": PASSWORD})
    assert page.status == 400 and "This invitation was already used or withdrawn." in flashes(page)
    with app.app_context():
        assert db.session.get(Invitation, pending).withdrawn_at is not None


def test_change_a_colleagues_role_and_revoke_it(app, client, world, outbox):
    from flask.testing import FlaskClient

    colleague_browser: FlaskClient = app.test_client()
    sign_in(colleague_browser, world.colleague.phone)
    sign_in(client, world.owner.phone)
    colleague = link_id(app, world.colleague, A1)
    page = post(
        client, f"/org/{world.org_a}/access/{colleague}/role", {"role": VIEWER, "current_password": PASSWORD}
    )
    assert page.location.endswith("#accounts")
    with app.app_context():
        assert db.session.get(ServiceLink, colleague).role == VIEWER
    assert not is_signed_in(colleague_browser)  # a lower role ends their sessions
    sign_in(colleague_browser, world.colleague.phone)
    page = post(
        client,
        f"/org/{world.org_a}/access/{colleague}/revoke",
        {"reason": "left the company", "current_password": PASSWORD},
    )
    assert page.location.endswith("#accounts")
    assert link_id(app, world.colleague, A1) is None
    assert not is_signed_in(colleague_browser)
    assert outbox.last("colleague@example.com", "access_revoked")
    text = client.get(f"/org/{world.org_a}").get_data(as_text=True)
    assert "no longer has access to account +7 (926) 025-07-30" in text
    assert "Access taken away" in text and "Reason: left the company" in text


def test_make_an_administrator_and_remove_a_member(app, client, world):
    sign_in(client, world.owner.phone)
    member = member_id(app, world.org_a, world.viewer)
    page = post(
        client, f"/org/{world.org_a}/members/{member}/role", {"role": ORG_ADMIN, "current_password": PASSWORD}
    )
    assert page.location.endswith("#people")
    with app.app_context():
        assert db.session.get(Membership, member).role == ORG_ADMIN
    page = post(
        client,
        f"/org/{world.org_a}/members/{member}/remove",
        {"reason": "left", "current_password": PASSWORD},
    )
    assert page.location.endswith("#people")
    with app.app_context():
        assert db.session.get(Membership, member) is None
    assert link_id(app, world.viewer, A1) is None
    text = client.get(f"/org/{world.org_a}").get_data(as_text=True)
    assert "was removed from the organisation" in text and "Person removed from the organisation" in text


@pytest.mark.parametrize(("choice", "old_role"), [("keep", USER), ("lose", None)])
def test_transfer_the_ownership(app, client, world, choice, old_role):
    sign_in(client, world.admin.phone)
    colleague = member_id(app, world.org_a, world.colleague)
    url = f"/org/{world.org_a}/accounts/{world.accounts[A1]}/transfer"
    form = client.get(url).get_data(as_text=True)
    assert "colleague@example.com" in form and "owner@example.com" not in form.split("<form")[1]
    page = post(
        client,
        url,
        {"new_owner": str(colleague), "old_owner": choice, "reason": "left", "current_password": PASSWORD},
    )
    assert page.location.endswith("#accounts")
    with app.app_context():
        assert find_link(world.colleague.id, "multifon", A1).role == OWNER
        old = find_link(world.owner.id, "multifon", A1)
        assert (old.role if old else None) == old_role


def test_the_new_owner_of_a_large_organisation_s_account_is_found_by_a_search(app, client, world, users):
    made = _many_members(app, users, world.org_a, 60)
    sign_in(client, world.admin.phone)
    url = f"/org/{world.org_a}/accounts/{world.accounts[A1]}/transfer"
    form = client.get(url).get_data(as_text=True)
    assert len(re.findall(r"<option ", form)) == 50  # a page of people, the owner left out
    assert "The list holds the first 50 of 64 people" in form and 'name="q"' in form
    wanted = made[57]
    found = client.get(url + "?q=staff57@").get_data(as_text=True)
    assert re.findall(r"<option ", found) == ["<option "] and "staff57@koval.example" in found
    nobody = client.get(url + "?q=nobody-here").get_data(as_text=True)
    assert "Nobody here matches “nobody-here”." in nobody and "<option " not in nobody
    member = member_id(app, world.org_a, wanted)
    # Someone the search did not find is not a choice: nothing changes.
    page = post(
        client,
        url + "?q=staff1@",
        {"new_owner": str(member), "old_owner": "keep", "reason": "left", "current_password": PASSWORD},
        page=url + "?q=staff1@",
    )
    assert page.status == 200 and page.errors == ["Choose one of the organisation's people."]
    with app.app_context():
        assert find_link(world.owner.id, "multifon", A1).role == OWNER
    page = post(
        client,
        url + "?q=staff57@",
        {"new_owner": str(member), "old_owner": "keep", "reason": "left", "current_password": PASSWORD},
        page=url + "?q=staff57@",
    )
    assert page.location.endswith("#accounts")
    with app.app_context():
        assert find_link(wanted.id, "multifon", A1).role == OWNER


def test_an_account_owner_invites_to_their_account_and_revokes(app, client, world, outbox, users):
    sign_in(client, world.account_owner.phone)
    page = post(
        client,
        f"/org/{world.org_a}/invite",
        {
            "channel": "sms",
            "address": "+380671000060",
            "accounts": str(world.accounts[A3]),
            "role": USER,
            "language": "en",
            "current_password": PASSWORD,
        },
    )
    assert page.location.endswith("#invitations")
    helper = users.create(phone="+380671000061")
    _link(app, helper, A3, VIEWER)
    page = post(
        client,
        f"/org/{world.org_a}/access/{link_id(app, helper, A3)}/revoke",
        {"reason": "done", "current_password": PASSWORD},
    )
    assert page.location.endswith("#accounts") and link_id(app, helper, A3) is None


# --- the colleague's page -------------------------------------------------------------------------


def test_the_invitation_page_before_signing_in(app, client, world, outbox):
    invite_as(app, world.owner, world.org_a, A1, "+380671000070", VIEWER)
    token = invitation_token(outbox, "+380671000070")
    response = client.get(f"/invite/{token}")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    text = response.get_data(as_text=True)
    assert "Invitation to Koval and Partners" in text and "Olena Koval invites you" in text
    assert "+7 (926) 025-07-30" in text and "Your role: viewer." in text
    assert "data-invitation-accept" not in text
    signin = (
        re.search(r'href="([^"]+)" *>', text.split("data-invitation-signin")[1])
        .group(1)
        .replace("&amp;", "&")
    )
    register = (
        re.search(r'href="([^"]+)"', text.split("data-invitation-register")[1]).group(1).replace("&amp;", "&")
    )
    assert f"next=/invite/{token}" in signin and f"next=/invite/{token}" in register
    assert "phone=%2B380671000070" in register
    assert client.get(signin).headers["Referrer-Policy"] == "no-referrer"
    # The sign-in comes back to the invitation.
    from urllib.parse import urlsplit

    colleague = invitation_holder(app, "+380671000070")
    page = post(client, signin, {"identifier": colleague.phone, "password": PASSWORD}, page=signin)
    assert urlsplit(page.location).path == f"/invite/{token}"
    assert "data-invitation-accept" in client.get(f"/invite/{token}").get_data(as_text=True)


def invitation_holder(app, phone: str) -> Profile:
    from tests.helpers.records import Users

    return Users(app).create(phone=phone, email="holder@example.com")


def test_accept_and_see_the_accounts_at_home(app, client, world, outbox):
    invite_as(app, world.owner, world.org_a, A2, "+380671000071", USER)
    token = invitation_token(outbox, "+380671000071")
    colleague = invitation_holder(app, "+380671000071")
    sign_in(client, colleague.phone)
    page = post(client, f"/invite/{token}", page=f"/invite/{token}")
    assert page.location == "/"
    home = client.get("/").get_data(as_text=True)
    assert "You now have access to +7 (926) 025-07-31 of Koval and Partners." in home
    assert 'data-service-card="multifon"' in home
    assert find_link_role(app, colleague, A2) == USER
    assert outbox.last("owner@example.com", "invitation_accepted")
    used = client.get(f"/invite/{token}")
    assert used.status_code == 410 and "This invitation was already used." in used.get_data(as_text=True)
    page = post(client, f"/invite/{token}", page="/security")
    assert page.location == f"/invite/{token}"


def find_link_role(app, profile: Profile, number: str) -> str | None:
    with app.app_context():
        row = find_link(profile.id, "multifon", number)
        return row.role if row else None


def test_another_profile_is_told_and_may_switch(app, client, world, outbox):
    invite_as(app, world.owner, world.org_a, A2, "+380671000072")
    token = invitation_token(outbox, "+380671000072")
    sign_in(client, world.viewer.phone)
    text = client.get(f"/invite/{token}").get_data(as_text=True)
    assert "which is not the phone number of your profile" in text
    assert "data-invitation-accept" not in text
    page = post(client, f"/invite/{token}", page=f"/invite/{token}")
    assert page.location == f"/invite/{token}"
    assert find_link_role(app, world.viewer, A2) is None
    page = post(client, f"/invite/{token}/switch", page=f"/invite/{token}")
    assert page.location.startswith("/signin?next=/invite/")
    assert not is_signed_in(client)


def test_an_email_invitation_needs_the_profile_of_that_address(app, client, world, outbox, users):
    invite_as(app, world.owner, world.org_a, A2, "Colleague.Two@example.com", VIEWER)
    token = invitation_token(outbox, "colleague.two@example.com")
    wrong = users.create(phone="+380671000073", email="someone@example.com")
    sign_in(client, wrong.phone)
    assert "which is not the e-mail address of your profile" in client.get(f"/invite/{token}").get_data(
        as_text=True
    )
    client.post("/signout", data={"csrf_token": csrf_token(client, "/security")})
    right = users.create(phone="+380671000074", email="colleague.two@example.com")
    sign_in(client, right.phone)
    assert post(client, f"/invite/{token}", page=f"/invite/{token}").location == "/"
    assert find_link_role(app, right, A2) == VIEWER


@pytest.mark.parametrize("state", ["withdrawn", "expired", "unknown"])
def test_dead_links_say_why(app, client, world, outbox, state):
    pending = invite_as(app, world.owner, world.org_a, A2, "+380671000075")
    token = invitation_token(outbox, "+380671000075")
    with app.app_context():
        row = db.session.get(Invitation, pending)
        if state == "withdrawn":
            row.withdrawn_at = utcnow()
        elif state == "expired":
            row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response = client.get(f"/invite/{token if state != 'unknown' else 'x' * 43}")
    expected = {
        "withdrawn": (410, "This invitation was withdrawn. Ask the person who invited you."),
        "expired": (410, "This invitation has expired. Ask the person who invited you to send it again."),
        "unknown": (
            404,
            "This invitation link is not valid. It may have been sent again: use the newest message.",
        ),
    }[state]
    assert response.status_code == expected[0]
    assert expected[1] in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_token_never_reaches_a_log_line_or_a_row(app, client, world, outbox):
    invite_as(app, world.owner, world.org_a, A2, "+380671000076")
    token = invitation_token(outbox, "+380671000076")
    for line in (
        f"GET /invite/{token} HTTP/1.1",
        f"GET /register?next=/invite/{token}&phone=%2B380671000076 HTTP/1.1",
        f"GET /signin?login_hint=%2B380671000076&next=/invite/{token} HTTP/1.1",
        f"POST /invite/{token}/switch HTTP/1.1",
    ):
        assert token not in redact(line), line
    holder = invitation_holder(app, "+380671000076")
    sign_in(client, holder.phone)
    assert post(client, f"/invite/{token}", page=f"/invite/{token}").location == "/"
    with app.app_context():
        from idp.audit.models import AuditEvent

        assert not [row.event for row in db.session.scalars(db.select(AuditEvent)) if token in row.details]
        assert db.session.scalar(db.select(Invitation)).token_hash != token


# --- confirming with an SMS code instead of the password --------------------------------------------


def test_confirm_with_an_sms_code_instead_of_the_password(app, client, world, outbox):
    sign_in(client, world.owner.phone)
    colleague = link_id(app, world.colleague, A1)
    url = f"/org/{world.org_a}/access/{colleague}/revoke"
    assert "data-org-by-sms" in client.get(url).get_data(as_text=True)
    page = post(client, url, {"reason": "left the company", "by_sms": "1"})
    assert page.status == 200 and 'name="code"' in page.text
    assert "left the company" in page.text  # the form comes back as it was filled in
    assert "We sent a code by SMS to +380 67 100 0001." in flashes(page)
    code = outbox.code(world.owner.phone)
    wrong = "000000" if code != "000000" else "111111"
    page = post(client, url, {"reason": "left the company", "code": wrong}, page=url)
    assert page.status == 200 and page.errors and link_id(app, world.colleague, A1) == colleague
    # The code confirms this page's action only.
    other = f"/org/{world.org_a}/members/{member_id(app, world.org_a, world.viewer)}/remove"
    page = post(client, other, {"reason": "left", "code": code}, page=other)
    assert page.errors == ["Fill in this field."]
    with app.app_context():
        assert membership(world.org_a, world.viewer.id) is not None
    page = post(client, url, {"reason": "left the company", "code": code}, page=url)
    assert page.location.endswith("#accounts")
    assert link_id(app, world.colleague, A1) is None
    # Used: the page asks for the password again.
    assert 'name="code"' not in client.get(
        url.replace(str(colleague), str(link_id(app, world.viewer, A1)))
    ).get_data(as_text=True)


def test_a_spent_confirmation_code_is_followed_by_a_new_one_on_the_same_page(
    app, client, world, outbox, time_machine
):
    from datetime import UTC, datetime

    start = datetime.now(UTC)
    time_machine.move_to(start, tick=False)
    sign_in(client, world.owner.phone)
    colleague = link_id(app, world.colleague, A1)
    url = f"/org/{world.org_a}/access/{colleague}/revoke"
    post(client, url, {"reason": "left the company", "by_sms": "1"})
    code = outbox.code(world.owner.phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        page = post(client, url, {"reason": "left the company", "code": wrong}, page=url)
    assert "data-code-spent" in page.text and 'name="code"' not in page.text
    assert 'name="current_password"' in page.text  # the password still confirms instead
    assert "Send a new code" in page.text
    page = post(client, url, {"reason": "left the company"}, page=url)  # neither: the password is asked
    assert page.errors == ["Fill in this field."] and link_id(app, world.colleague, A1) == colleague
    time_machine.move_to(start + timedelta(seconds=61), tick=False)
    page = post(client, url, {"reason": "left the company", "by_sms": "1"}, page=url)
    assert "We sent a new code." in flashes(page) and 'name="code"' in page.text
    page = post(client, url, {"reason": "left the company", "code": outbox.code(world.owner.phone)}, page=url)
    assert page.location.endswith("#accounts") and link_id(app, world.colleague, A1) is None


NAMES = ["Шевченко", "Франко", "Українка", "Стус", "Костенко"]


def _many_members(app, users, org_id: int, count: int) -> list[Profile]:
    """``count`` more members of organisation ``org_id``, named after five poets in turn."""
    made = [
        users.create(phone=f"+38050{3_000_000 + n}", email=f"staff{n}@koval.example", last_name=NAMES[n % 5])
        for n in range(count)
    ]
    with app.app_context():
        org = db.session.get(Organisation, org_id)
        for profile in made:
            add_member(org, db.session.get(Profile, profile.id), ORG_MEMBER)
    return made


def _members_shown(text: str) -> list[str]:
    return re.findall(r'data-member="([^"]+)"', text.split("data-people>")[1].split("data-accounts")[0])


def test_a_large_organisation_s_people_come_a_page_at_a_time_and_are_found_by_name_phone_or_e_mail(
    app, client, world, users
):
    _many_members(app, users, world.org_a, 110)  # and the five before: three pages of 50
    sign_in(client, world.owner.phone)
    first = client.get(f"/org/{world.org_a}").get_data(as_text=True)
    shown = _members_shown(first)
    assert len(shown) == 50 and shown[:2] == [world.owner.phone, world.admin.phone]  # owner, then admins
    assert "Page 1 of 3 · 115 people" in first and "data-people-previous" not in first
    following = re.search(r'href="([^"]+)" data-people-next', first).group(1)
    assert html.unescape(following) == f"/org/{world.org_a}?page=2#people"
    third = client.get(f"/org/{world.org_a}?page=3").get_data(as_text=True)
    assert len(_members_shown(third)) == 15 and "data-people-next" not in third
    everyone = {
        p
        for n in (1, 2, 3)
        for p in _members_shown(client.get(f"/org/{world.org_a}?page={n}").get_data(as_text=True))
    }
    assert len(everyone) == 115
    assert _members_shown(client.get(f"/org/{world.org_a}?page=99").get_data(as_text=True)) == _members_shown(
        third
    )
    # Found by a name in any case (Cyrillic too), the name the other way round, a phone as typed, an e-mail.
    stus = client.get(f"/org/{world.org_a}", query_string={"q": "стус"}).get_data(as_text=True)
    assert len(_members_shown(stus)) == 22 and "data-people-pager" not in stus
    assert (
        len(
            _members_shown(
                client.get(f"/org/{world.org_a}", query_string={"q": "Шевченко Olena"}).get_data(as_text=True)
            )
        )
        == 22
    )
    by_phone = client.get(f"/org/{world.org_a}", query_string={"q": "050 300 0007"}).get_data(as_text=True)
    assert _members_shown(by_phone) == ["+380503000007"]
    by_mail = client.get(f"/org/{world.org_a}", query_string={"q": "STAFF17@KOVAL"}).get_data(as_text=True)
    assert _members_shown(by_mail) == ["+380503000017"]
    nobody = client.get(f"/org/{world.org_a}", query_string={"q": "Zz%_"}).get_data(as_text=True)
    assert _members_shown(nobody) == [] and "Nobody here matches “Zz%_”." in html.unescape(nobody)
