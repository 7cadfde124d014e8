"""The operator's staff console (/staff): who gets in, the re-confirmation every 15 minutes, what
each role may do, the search, the views of a profile and an organisation, every action with its
mandatory reason, and the audit log with its filters, pages and CSV export.

The ``world`` of tests/orgs/test_services.py is used: organisation A (``owner``, ``admin``,
``member`` a user of MF1, ``viewer``, ``acc_owner`` who owns MF2), organisation B, and the staff
``manager``, ``support`` and ``security``, who here have SMS codes on as their second factor.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pyotp
import pytest
from flask.testing import FlaskClient

from idp.audit.models import AuditEvent
from idp.audit.services import record
from idp.auth import totp
from idp.connectors.models import OWNER, USER, ServiceLink
from idp.extensions import db
from idp.i18n import LANG_COOKIE
from idp.orgs.audit_log import safe_cell
from idp.orgs.invitations import SMS, invite
from idp.orgs.models import ORG_MEMBER, Invitation, OrgAccount, Organisation
from idp.orgs.services import Actor, add_member, grant_staff, membership
from idp.profiles.models import Profile
from idp.sessions.models import WebSession
from tests.helpers.pages import Page, csrf_token, is_signed_in, sign_in, submit
from tests.helpers.records import PASSWORD, db_rows
from tests.orgs.test_services import MF1, MF2, PEOPLE, World, build_world

STAFF = ("manager", "support", "security")
TABLES = ("service_links", "org_memberships", "org_invitations", "profiles")
REASON = {"reason": "The customer's director asked by phone", "ticket": "SR-1042"}


@pytest.fixture
def world(app, users) -> World:
    built = build_world(app, users)
    with app.app_context():
        for name in STAFF:
            built.profile(name).sms_2fa_enabled = True
        db.session.commit()
    return built


def _signed_in(app, outbox, name: str) -> FlaskClient:
    """A browser signed in as ``name`` (with the SMS code when the profile has it on)."""
    client = app.test_client()
    phone = PEOPLE[name][0]
    page = sign_in(client, phone)
    if page.location == "/signin/verify":
        page = submit(client, "/signin/verify", {"code": outbox.code(phone)})
    assert page.status == 302 and page.location != "/signin/verify", page.errors
    return client


def _confirm(client: FlaskClient, outbox, name: str) -> Page:
    page = submit(client, "/staff/confirm", {"current_password": PASSWORD})
    assert page.location == "/staff/confirm/code", page.errors
    return submit(client, "/staff/confirm/code", {"code": outbox.code(PEOPLE[name][0])})


def _staff(app, outbox, name: str) -> FlaskClient:
    """A staff member's browser, signed in and confirmed."""
    client = _signed_in(app, outbox, name)
    assert _confirm(client, outbox, name).location == "/staff"
    return client


def _text(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.headers.get("Location"))
    return response.get_data(as_text=True)


def _events(app, event: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == event)))


def _link_id(app, world: World, name: str, account: str = MF1) -> int:
    with app.app_context():
        return world.link(name, account).id


def _member_id(app, world: World, name: str) -> int:
    with app.app_context():
        return world.member(name).id


def _invitation(app, world: World) -> int:
    with app.test_request_context():
        found = invite(
            Actor.person(world.profile("owner")),
            world.org(),
            SMS,
            "+380671009999",
            [("multifon", MF1)],
            USER,
            "en",
        )
        return found.id


def _org_account_id(app, world: World, account: str = MF1) -> int:
    with app.app_context():
        return db.session.scalar(db.select(OrgAccount.id).where(OrgAccount.account == account))


# --- who gets in ----------------------------------------------------------------------------------

PAGES = ["/staff", "/staff/audit", "/staff/audit.csv", "/staff/confirm", "/staff/profiles/1", "/staff/orgs/1"]


@pytest.mark.parametrize("url", PAGES)
def test_a_profile_without_a_staff_role_gets_404(app, world, outbox, url):
    client = _signed_in(app, outbox, "admin")  # an organisation's administrator, not the operator's
    assert client.get(url).status_code == 404


def test_nobody_without_a_staff_role_can_act(app, world, outbox):
    client = _signed_in(app, outbox, "owner")
    token = csrf_token(client, "/security")
    before = db_rows(app, TABLES)
    url = f"/staff/access/{_link_id(app, world, 'member')}/revoke"
    response = client.post(url, data={"csrf_token": token, **REASON})
    assert response.status_code == 404
    assert db_rows(app, TABLES) == before


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = client.get("/staff/audit")
    assert response.status_code == 302 and response.headers["Location"] == "/signin?next=/staff/audit"


def test_staff_without_a_second_factor_are_told_to_turn_one_on(app, users, outbox):
    clerk = users.create(phone="+380671005555")
    with app.app_context():
        grant_staff(db.session.get(Profile, clerk.id), "manager")
    client = app.test_client()
    sign_in(client, clerk.phone)
    for url in ("/staff", "/staff/confirm", "/staff/audit"):
        response = client.get(url)
        text = response.get_data(as_text=True)
        assert response.status_code == 403 and "data-second-factor-needed" in text
        assert "Turn on a second factor" in text and 'href="/security#two-step"' in text
    assert submit(client, "/staff/confirm", {"current_password": PASSWORD}, page="/security").status == 403


# --- the confirmation -------------------------------------------------------------------------------


def test_the_console_asks_for_the_password_then_the_sms_code(app, world, outbox):
    client = _signed_in(app, outbox, "support")
    assert client.get("/staff/profiles/1").headers["Location"] == "/staff/confirm?next=/staff/profiles/1"
    wrong = submit(client, "/staff/confirm?next=/staff/profiles/1", {"current_password": "Wr0ngPassword"})
    assert wrong.status == 200 and wrong.errors == ["The password is wrong."]
    page = submit(client, "/staff/confirm?next=/staff/profiles/1", {"current_password": PASSWORD})
    assert page.location == "/staff/confirm/code"
    code_page = _text(client, "/staff/confirm/code")
    assert 'data-staff-confirm-code="sms"' in code_page and "+380 67 100 0010" in code_page
    assert submit(client, "/staff/confirm/code", {"code": "000000"}).errors
    assert client.get("/staff/profiles/1").status_code == 302  # not confirmed yet
    page = submit(client, "/staff/confirm/code", {"code": outbox.code(PEOPLE["support"][0])})
    assert page.location == "/staff/profiles/1"
    assert client.get("/staff/profiles/1").status_code == 200
    [confirmed] = _events(app, "staff.confirmed")
    assert confirmed.profile_id == confirmed.actor_profile_id == world.ids["support"]


def test_the_console_asks_for_the_authenticator_code_when_there_is_one(app, world, outbox):
    client = _signed_in(app, outbox, "security")  # by SMS; the authenticator app is added after
    secret = pyotp.random_base32()
    with app.app_context():
        totp.enable(world.profile("security"), secret, 0)
        db.session.commit()
    page = submit(client, "/staff/confirm", {"current_password": PASSWORD})
    assert page.location == "/staff/confirm/code"
    assert 'data-staff-confirm-code="totp"' in _text(client, "/staff/confirm/code")
    assert submit(client, "/staff/confirm/code", {"code": "123456"}).errors == [
        "The code is wrong or was already used."
    ]
    code = pyotp.TOTP(secret).now()
    assert submit(client, "/staff/confirm/code", {"code": code}).location == "/staff"
    assert json.loads(_events(app, "staff.confirmed")[0].details) == {"method": "totp"}
    submit(client, "/staff/confirm", {"current_password": PASSWORD})
    reused = submit(client, "/staff/confirm/code", {"code": code})
    assert reused.errors == ["This code was already used. Wait for the next code in your authenticator app."]


def test_too_many_wrong_codes_start_the_confirmation_again(app, world, outbox):
    client = _signed_in(app, outbox, "manager")
    submit(client, "/staff/confirm", {"current_password": PASSWORD})
    for _ in range(4):
        assert submit(client, "/staff/confirm/code", {"code": "000000"}).status == 200
    last = submit(client, "/staff/confirm/code", {"code": "000000"}, follow=True)
    assert ("error", "Too many wrong codes. Start the confirmation again.") in last.flashes
    assert client.get("/staff/confirm/code").headers["Location"] == "/staff/confirm"


def test_the_confirmation_lasts_15_minutes_then_the_next_action_asks_again_and_changes_nothing(
    app, world, outbox, time_machine
):
    time_machine.move_to(datetime.now(UTC), tick=False)
    client = _staff(app, outbox, "manager")
    url = f"/staff/access/{_link_id(app, world, 'member')}/revoke"
    token = csrf_token(client, url)

    time_machine.shift(timedelta(minutes=14, seconds=50))
    assert client.get("/staff").status_code == 200
    time_machine.shift(timedelta(seconds=20))  # 15 minutes and 10 seconds after the confirmation
    before = db_rows(app, TABLES)
    response = client.post(url, data={"csrf_token": token, **REASON})
    assert response.status_code == 302 and response.headers["Location"] == f"/staff/confirm?next={url}"
    assert db_rows(app, TABLES) == before and not _events(app, "access.revoked")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Confirm that it is you again: your last confirmation is more than 15 minutes old." in page
    assert client.get("/staff").headers["Location"] == "/staff/confirm?next=/staff"

    _confirm(client, outbox, "manager")
    assert submit(client, url, REASON).location == f"/staff/profiles/{world.ids['member']}"
    assert _events(app, "access.revoked")


@pytest.mark.idp_settings(IDP_STAFF_CONFIRM_MINUTES=5)
def test_the_confirmation_time_is_the_setting(app, world, outbox, time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    client = _staff(app, outbox, "support")
    assert "confirmed until" in _text(client, "/staff")
    time_machine.shift(timedelta(minutes=5, seconds=1))
    assert client.get("/staff").status_code == 302


# --- what each role may do ------------------------------------------------------------------------


def _action_urls(app, world: World) -> dict[str, str]:
    member = world.ids["member"]
    return {
        "revoke": f"/staff/access/{_link_id(app, world, 'member')}/revoke",
        "remove": f"/staff/members/{_member_id(app, world, 'member')}/remove",
        "transfer": f"/staff/accounts/{_org_account_id(app, world)}/transfer",
        "resend": f"/staff/invitations/{_invitation(app, world)}/resend",
        "end_sessions": f"/staff/profiles/{member}/sessions/end",
        "disable": f"/staff/profiles/{member}/disable",
        "reset": f"/staff/profiles/{member}/second-factor/reset",
    }


ALLOWED = {
    "support": set(),
    "manager": {"revoke", "remove", "transfer", "resend", "end_sessions"},
    "security": {"end_sessions", "disable", "reset"},
}


@pytest.mark.parametrize("role", STAFF)
def test_each_role_may_open_only_its_own_actions_and_the_others_change_nothing(app, world, outbox, role):
    with app.app_context():
        world.profile("member").sms_2fa_enabled = True  # so that its reset may be offered
        db.session.commit()
    urls = _action_urls(app, world)
    client = _staff(app, outbox, role)
    token = csrf_token(client, "/security")
    before = db_rows(app, TABLES)
    for action, url in urls.items():
        if action in ALLOWED[role]:
            assert client.get(url).status_code == 200, action
        else:
            assert client.get(url).status_code == 403, action
            data = {"csrf_token": token, "identity_checked": "y", "new_owner": world.ids["owner"], **REASON}
            assert client.post(url, data=data).status_code == 403, action
    assert db_rows(app, TABLES) == before


@pytest.mark.parametrize("role", STAFF)
def test_the_pages_show_only_the_controls_the_role_may_use(app, world, outbox, role):
    with app.app_context():
        world.profile("member").sms_2fa_enabled = True
        db.session.commit()
    _invitation(app, world)
    client = _staff(app, outbox, role)
    pages = _text(client, f"/staff/profiles/{world.ids['member']}") + _text(
        client, f"/staff/orgs/{world.org_a}"
    )
    shown = set(re.findall(r'data-staff-action="(\w+)"', pages))
    expected = {
        "support": set(),
        "manager": {"revoke", "remove", "transfer", "invitation", "end_sessions"},
        "security": {"end_sessions", "disable", "reset_second_factor"},
    }[role]
    assert shown == expected


def test_security_cannot_revoke_access_even_past_the_page(app, world, outbox):
    """The service refuses as well: security's actor is not the operator's side."""
    client = _staff(app, outbox, "security")
    before = db_rows(app, TABLES)
    token = csrf_token(client, "/security")
    response = client.post(
        f"/staff/access/{_link_id(app, world, 'member')}/revoke", data={"csrf_token": token, **REASON}
    )
    assert response.status_code == 403 and db_rows(app, TABLES) == before


# --- the actions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_every_action_needs_a_reason(app, world, outbox, reason):
    client = _staff(app, outbox, "manager")
    before = db_rows(app, TABLES)
    url = f"/staff/access/{_link_id(app, world, 'member')}/revoke"
    page = submit(client, url, {"reason": reason, "ticket": "SR-1"})
    assert page.status == 200 and page.errors == ["Fill in this field."]
    page = submit(client, f"/staff/profiles/{world.ids['member']}/sessions/end", {"reason": reason})
    assert page.errors == ["Fill in this field."]
    assert db_rows(app, TABLES) == before and not _events(app, "access.revoked")


def test_a_ticket_number_of_odd_characters_is_refused(app, world, outbox):
    client = _staff(app, outbox, "manager")
    page = submit(
        client, f"/staff/access/{_link_id(app, world, 'member')}/revoke", {**REASON, "ticket": "<b>"}
    )
    assert page.errors == ["Use letters, digits and - # / . : only."]
    assert _link_id(app, world, "member")


def test_a_manager_takes_access_away_with_the_whole_cascade(app, world, outbox):
    employee = _signed_in(app, outbox, "member")
    client = _staff(app, outbox, "manager")
    url = f"/staff/access/{_link_id(app, world, 'member')}/revoke?next=/staff/orgs/{world.org_a}"
    form = _text(client, url)
    assert "Olena Koval (+380 67 100 0003) has the role user on MultiFon Business +7 (926) 025-07-30." in form
    page = submit(client, url, {**REASON, "replace_password": "y"}, follow=True)
    assert page.flashes[0][0] == "success"
    assert "no longer has access to +7 (926) 025-07-30. Sessions ended: 1." in page.flashes[0][1]
    assert 'data-staff-org="' in page.text  # back where it started
    with app.app_context():
        assert world.link("member", MF1) is None
        assert membership(world.org_a, world.ids["member"]) is not None  # still in the organisation
    assert not is_signed_in(employee)
    [revoked] = _events(app, "access.revoked")
    details = json.loads(revoked.details)
    assert revoked.profile_id == world.ids["member"] and revoked.actor_profile_id == world.ids["manager"]
    assert (
        details["by"] == "staff" and details["reason"] == REASON["reason"] and details["ticket"] == "SR-1042"
    )
    assert "A new SIP password was sent to the account&#39;s holder." in page.flashes[0][1]
    assert outbox.last(MF1, "multifon_sip_password_replaced")  # by SMS to the service number
    assert outbox.last(PEOPLE["member"][1], "access_revoked")


def test_a_manager_removes_a_person_from_an_organisation(app, world, outbox):
    client = _staff(app, outbox, "manager")
    page = submit(client, f"/staff/members/{_member_id(app, world, 'viewer')}/remove", REASON, follow=True)
    assert page.flashes == [("success", "Olena Koval is no longer in TOV Romashka. Accounts taken away: 1.")]
    with app.app_context():
        assert world.member("viewer") is None and world.link("viewer", MF1) is None
    [removed] = _events(app, "org.member_removed")
    assert (
        removed.actor_profile_id == world.ids["manager"]
        and json.loads(removed.details)["ticket"] == "SR-1042"
    )


def test_a_manager_hands_an_accounts_ownership_on(app, world, outbox):
    client = _staff(app, outbox, "manager")
    url = f"/staff/accounts/{_org_account_id(app, world)}/transfer"
    form = _text(client, url)
    assert f'value="{world.ids["owner"]}"' not in form  # the present owner is not offered
    refused = submit(client, url, {**REASON, "new_owner": world.ids["b_owner"], "old_owner": "keep"})
    assert refused.errors == ["Choose one of the organisation's people."]
    page = submit(client, url, {**REASON, "new_owner": world.ids["admin"], "old_owner": "keep"}, follow=True)
    assert page.flashes == [("success", "Olena Koval now owns +7 (926) 025-07-30.")]
    with app.app_context():
        assert world.link("admin", MF1).role == OWNER and world.link("owner", MF1).role == USER


def test_a_manager_finds_the_new_owner_among_many_people_by_a_search(app, world, outbox, users):
    made = [users.create(phone=f"+38050{3_100_000 + n}", email=f"many{n}@koval.example") for n in range(60)]
    account_id = _org_account_id(app, world)
    with app.app_context():
        org = db.session.get(OrgAccount, account_id).organisation
        for profile in made:
            add_member(org, db.session.get(Profile, profile.id), ORG_MEMBER)
    client = _staff(app, outbox, "manager")
    url = f"/staff/accounts/{account_id}/transfer"
    form = _text(client, url)
    assert len(re.findall(r"<option ", form)) == 50 and "The list holds the first 50 of" in form
    found = _text(client, url + "?q=many42@")
    assert re.findall(r'<option value="(\d+)"', found) == [str(made[42].id)]
    page = submit(
        client,
        url + "?q=many42@",
        {**REASON, "new_owner": str(made[42].id), "old_owner": "keep"},
        follow=True,
    )
    assert page.flashes == [("success", "Olena Koval now owns +7 (926) 025-07-30.")]
    with app.app_context():
        owner = db.session.scalar(
            db.select(ServiceLink).where(ServiceLink.account == MF1, ServiceLink.role == OWNER)
        )
        assert owner.profile_id == made[42].id


def test_a_manager_resends_and_withdraws_an_invitation_with_the_reason_audited(
    app, world, outbox, time_machine
):
    invitation = _invitation(app, world)
    time_machine.move_to(datetime.now(UTC) + timedelta(minutes=2))  # past the wait between sendings
    client = _staff(app, outbox, "manager")
    page = submit(client, f"/staff/invitations/{invitation}/resend", REASON, follow=True)
    assert page.flashes == [("success", "The invitation was sent again to +380 67 100 9999.")]
    page = submit(client, f"/staff/invitations/{invitation}/withdraw", REASON, follow=True)
    assert page.flashes[0][0] == "success"
    again = submit(client, f"/staff/invitations/{invitation}/withdraw", REASON)
    assert "This invitation was already used or withdrawn." in again.text
    with app.app_context():
        assert db.session.get(Invitation, invitation).withdrawn_at is not None
    for event in ("invitation.resent", "invitation.withdrawn"):
        [row] = _events(app, event)
        assert row.actor_profile_id == world.ids["manager"]
        assert json.loads(row.details)["reason"] == REASON["reason"]


@pytest.mark.parametrize("role", ["manager", "security"])
def test_manager_and_security_end_every_session(app, world, outbox, role):
    employee = _signed_in(app, outbox, "member")
    client = _staff(app, outbox, role)
    page = submit(client, f"/staff/profiles/{world.ids['member']}/sessions/end", REASON, follow=True)
    assert page.flashes == [("success", "Sessions of Olena Koval ended: 1.")]
    assert not is_signed_in(employee)
    with app.app_context():
        assert world.link("member", MF1) is not None  # the access stays
    assert _events(app, "staff.sessions_ended")[0].actor_profile_id == world.ids[role]


def test_security_disables_a_profile_which_cannot_sign_in_until_enabled_again(app, world, outbox):
    employee = _signed_in(app, outbox, "member")
    client = _staff(app, outbox, "security")
    page = submit(client, f"/staff/profiles/{world.ids['member']}/disable", REASON, follow=True)
    assert page.flashes == [("success", "The profile of Olena Koval is disabled.")]
    assert "data-disabled" in page.text and not is_signed_in(employee)

    refused = sign_in(app.test_client(), PEOPLE["member"][0])
    assert refused.status == 200 and refused.errors == ["This profile is disabled. Contact your operator."]
    wrong = sign_in(app.test_client(), PEOPLE["member"][0], "Wr0ngPassword")
    assert wrong.errors == ["The phone number, e-mail or password is wrong."]  # nothing told without it

    page = submit(client, f"/staff/profiles/{world.ids['member']}/enable", REASON, follow=True)
    assert page.flashes == [("success", "The profile of Olena Koval is enabled again.")]
    assert sign_in(app.test_client(), PEOPLE["member"][0]).location == "/"
    assert [e.event for e in _events(app, "profile.disabled") + _events(app, "profile.enabled")] == [
        "profile.disabled",
        "profile.enabled",
    ]


def test_a_session_of_a_disabled_profile_is_nobodys(app, world, outbox):
    """current_profile ignores a disabled profile even if a session of it were still open."""
    employee = _signed_in(app, outbox, "member")
    with app.app_context():
        world.profile("member").disabled_at = datetime.now(UTC).replace(tzinfo=None)
        db.session.commit()
    assert employee.get("/").headers["Location"].startswith("/signin")


def test_security_cannot_disable_its_own_profile(app, world, outbox):
    client = _staff(app, outbox, "security")
    page = submit(client, f"/staff/profiles/{world.ids['security']}/disable", REASON)
    assert "You cannot disable your own profile." in page.text
    with app.app_context():
        assert not world.profile("security").disabled


def test_resetting_a_second_factor_needs_the_identity_check(app, world, outbox):
    with app.app_context():
        world.profile("member").sms_2fa_enabled = True
        db.session.commit()
    client = _staff(app, outbox, "security")
    url = f"/staff/profiles/{world.ids['member']}/second-factor/reset"
    assert (
        "I checked the person&#39;s identity: they are Olena Koval and hold the phone +380 67 100 0003"
        in _text(client, url)
    )
    page = submit(client, url, REASON)
    assert page.errors == ["Confirm that you checked the person's identity."]
    with app.app_context():
        assert world.profile("member").sms_2fa_enabled
    page = submit(client, url, {**REASON, "identity_checked": "y"}, follow=True)
    assert page.flashes[0][0] == "success"
    with app.app_context():
        assert not world.profile("member").two_factor_enabled
    [reset] = _events(app, "two_factor.reset_by_staff")
    assert (
        reset.actor_profile_id == world.ids["security"] and json.loads(reset.details)["ticket"] == "SR-1042"
    )
    assert outbox.last(PEOPLE["member"][1], "two_factor_changed")


def test_ids_that_name_nothing_are_404(app, world, outbox):
    client = _staff(app, outbox, "manager")
    for url in (
        "/staff/profiles/999",
        "/staff/orgs/999",
        "/staff/access/999/revoke",
        "/staff/members/999/remove",
    ):
        assert client.get(url).status_code == 404, url


# --- search and views -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "+380671000003",
        "+380 67 100 0003",
        "380671000003",
        "0671000003",
        "(067) 100-00-03",
        "+380-67-100-00-03",
    ],
)
def test_search_finds_a_profile_by_its_phone_in_any_format(app, world, outbox, typed):
    client = _staff(app, outbox, "support")
    text = _text(client, "/staff?" + f"q={typed}".replace("+", "%2B").replace(" ", "+"))
    assert re.findall(r'data-result-profile="(\d+)"', text) == [str(world.ids["member"])]


@pytest.mark.parametrize(
    ("typed", "marker"),
    [
        ("MEMBER@example.com", "data-result-profile"),
        ("32855961", "data-result-org"),
        ("romashka", "data-result-org"),
        ("+7 (926) 025-07-31", "data-result-account"),
        ("79260250730", "data-result-account"),
        ("8 (926) 025-07-30", "data-result-account"),  # as people in Russia type a MultiFon number
    ],
)
def test_search_by_email_organisation_and_service_account(app, world, outbox, typed, marker):
    client = _staff(app, outbox, "support")
    text = _text(client, "/staff?q=" + typed.replace("+", "%2B").replace(" ", "+"))
    assert marker in text
    if marker == "data-result-account":
        assert "TOV Romashka" in text


def test_search_that_finds_nothing_says_so(app, world, outbox):
    client = _staff(app, outbox, "support")
    assert "Nothing found for “nobody-here”." in _text(client, "/staff?q=nobody-here")


def test_a_profiles_view_shows_everything_about_it(app, world, outbox):
    _signed_in(app, outbox, "member")
    _invitation(app, world)  # to +380671009999: not the member's
    with app.app_context():
        invite(
            Actor.person(world.profile("acc_owner")),
            world.org(),
            SMS,
            PEOPLE["member"][0],
            [("multifon", MF2)],
            USER,
            "en",
        )
    client = _staff(app, outbox, "support")
    text = _text(client, f"/staff/profiles/{world.ids['member']}")
    assert "member@example.com" in text and "+380 67 100 0003" in text
    assert "TOV Romashka" in text and "member · ЄДРПОУ 32855961" in text
    assert 'data-account="multifon:+79260250730"' in text and ">user<" in text
    assert len(re.findall(r'data-session="\d+"', text)) == 1
    assert len(re.findall(r'data-invitation="\d+"', text)) == 1
    assert 'data-event="signin.succeeded"' in text


def test_an_organisations_view_shows_people_accounts_and_invitations(app, world, outbox):
    invitation = _invitation(app, world)
    client = _staff(app, outbox, "manager")
    text = _text(client, f"/staff/orgs/{world.org_a}")
    assert len(re.findall(r'data-member="\d+"', text)) == 5
    assert len(re.findall(r'data-org-account="\d+"', text)) == 3
    assert len(re.findall(r'data-holder="\d+"', text)) == 4  # MF1: owner, user, viewer; MF2: owner
    assert f'data-invitation="{invitation}"' in text and "+380 67 100 9999" in text


def test_a_large_organisation_s_people_come_a_page_at_a_time_in_the_console(app, world, users, outbox):
    with app.app_context():
        org = db.session.get(Organisation, world.org_a)
        for n in range(50):
            made = users.create(phone=f"+38050{4_000_000 + n}", email=f"p{n}@example.com", last_name="Стус")
            add_member(org, db.session.get(Profile, made.id), ORG_MEMBER)
    client = _staff(app, outbox, "support")
    first = _text(client, f"/staff/orgs/{world.org_a}")
    assert len(re.findall(r'data-member="\d+"', first)) == 50 and "Page 1 of 2 · 55 people" in first
    second = _text(client, f"/staff/orgs/{world.org_a}?page=2")
    assert len(re.findall(r'data-member="\d+"', second)) == 5 and "data-people-previous" in second
    found = _text(client, f"/staff/orgs/{world.org_a}?q=%D1%81%D1%82%D1%83%D1%81")  # "стус"
    assert len(re.findall(r'data-member="\d+"', found)) == 50 and 'value="стус"' in found


# --- the audit log -----------------------------------------------------------------------------------


def _ids(text: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-audit-id="(\d+)"', text)]


def _all_ids(app, **where) -> list[int]:
    with app.app_context():
        query = db.select(AuditEvent.id).order_by(AuditEvent.id.desc())
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        return list(db.session.scalars(query))


def test_the_audit_log_filters_by_profile_actor_organisation_account_and_event(app, world, outbox):
    client = _staff(app, outbox, "manager")
    submit(client, f"/staff/access/{_link_id(app, world, 'viewer')}/revoke", REASON)
    member = world.ids["member"]
    assert _ids(_text(client, "/staff/audit?profile=%2B380671000003")) == _all_ids(app, profile_id=member)
    assert _ids(_text(client, "/staff/audit?profile=MEMBER@example.com")) == _all_ids(app, profile_id=member)
    by_manager = _text(client, "/staff/audit?actor=0671000009")
    assert set(re.findall(r'data-audit-event="([\w.]+)"', by_manager)) >= {
        "access.revoked",
        "service.unlinked",
    }
    assert _ids(by_manager) == _all_ids(app, actor_profile_id=world.ids["manager"])
    revoked = _text(client, "/staff/audit?event=access.revoked&account=%2B7+(926)+025-07-30")
    assert re.findall(r'data-audit-event="([\w.]+)"', revoked) == ["access.revoked"]
    assert "Reason: The customer&#39;s director asked by phone · ticket SR-1042" in revoked
    org_a = set(
        re.findall(r'data-audit-event="([\w.]+)"', _text(client, "/staff/audit?organisation=32855961"))
    )
    assert {
        "org.created",
        "org.account_assigned",
        "org.member_added",
        "access.revoked",
        "service.linked",
    } <= org_a
    org_b = set(
        re.findall(r'data-audit-event="([\w.]+)"', _text(client, "/staff/audit?organisation=7707083893"))
    )
    assert "access.revoked" not in org_b and "org.created" in org_b
    prefix = set(re.findall(r'data-audit-event="([\w.]+)"', _text(client, "/staff/audit?event=org.*")))
    assert prefix == {"org.created", "org.account_assigned", "org.member_added"}
    assert "Access taken away" in revoked  # the event's label


def test_the_audit_log_filters_by_time_and_pages_back_by_id(app, world, outbox):
    with app.test_request_context():
        for n in range(40):
            record("test.filler", world.ids["outsider"], None, n=n)
        db.session.commit()
    client = _staff(app, outbox, "support")
    # The filter's dates are days where the staff are (IDP_TIMEZONE), not in UTC: near midnight
    # they differ.
    today = datetime.now(ZoneInfo(app.config["IDP_TIMEZONE"])).date()
    everything = _all_ids(app)
    assert _ids(_text(client, f"/staff/audit?since={today}&until={today}")) == everything[:50]
    assert _ids(_text(client, f"/staff/audit?until={today - timedelta(days=2)}")) == []
    assert "No events match these filters." in _text(
        client, f"/staff/audit?since={today + timedelta(days=2)}"
    )
    assert len(everything) > 50
    first = _text(client, "/staff/audit")
    assert _ids(first) == everything[:50]
    older = re.search(r'href="([^"]+)" data-audit-older', first).group(1).replace("&amp;", "&")
    assert older == f"/staff/audit?before={everything[49]}"
    assert _ids(_text(client, older)) == everything[50:100]
    backwards = _text(client, f"/staff/audit?since={today}&until={today - timedelta(days=1)}")
    assert "The end of the period is before its start." in backwards and _ids(backwards) == []


def test_the_audit_log_says_when_a_filter_names_nobody(app, world, outbox):
    client = _staff(app, outbox, "support")
    text = _text(client, "/staff/audit?profile=%2B380509999999")
    assert "There is no profile with this phone number or e-mail." in text and _ids(text) == []
    text = _text(client, "/staff/audit?organisation=11111111")
    assert "There is no organisation with this registration number." in text
    assert "Choose an event from the list." in _text(client, "/staff/audit?event=%3Cscript%3E")


def _csv(client: FlaskClient, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_csv_export_has_the_filtered_log(app, world, outbox):
    client = _staff(app, outbox, "manager")
    submit(client, f"/staff/access/{_link_id(app, world, 'member')}/revoke", REASON)
    rows = _csv(client, "/staff/audit.csv?event=access.revoked")
    assert len(rows) == 1
    [row] = rows
    assert row["event"] == "access.revoked" and row["label"] == "Access taken away"
    assert row["profile_phone"] == "'+380671000003" and row["actor_phone"] == "'+380671000009"
    assert (
        row["actor_name"] == "Olena Koval"
        and row["reason"] == REASON["reason"]
        and row["ticket"] == "SR-1042"
    )
    assert json.loads(row["details"])["account"] == MF1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["time_utc"])
    everything = _csv(client, "/staff/audit.csv")
    assert [int(r["id"]) for r in everything] == _all_ids(app)  # every event, not a page


@pytest.mark.parametrize("reason", ['=HYPERLINK("http://evil")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"])
def test_the_csv_export_quotes_what_a_spreadsheet_would_run(app, world, outbox, reason):
    client = _staff(app, outbox, "manager")
    page = submit(
        client, f"/staff/access/{_link_id(app, world, 'member')}/revoke", {"reason": reason, "ticket": "-1"}
    )
    assert page.status == 302, page.errors
    [row] = _csv(client, "/staff/audit.csv?event=access.revoked")
    assert row["reason"] == "'" + reason and row["ticket"] == "'-1"
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@")), value


def test_safe_cell_leaves_other_text_alone():
    assert safe_cell("Olena") == "Olena" and safe_cell(None) == "" and safe_cell(5) == "5"
    assert safe_cell("\t=1") == "'\t=1" and safe_cell("a=1") == "a=1"


def test_the_staff_pages_are_in_the_three_languages(app, world, outbox):
    client = _staff(app, outbox, "manager")
    expected = {"uk": "Знайти клієнта", "ru": "Найти клиента", "en": "Find a customer"}
    for lang, heading in expected.items():
        client.set_cookie(LANG_COOKIE, lang)
        text = _text(client, "/staff")
        assert f"<h1>{heading}</h1>" in text, lang


def test_the_sessions_table_is_untouched_by_reading(app, world, outbox):
    """Reading the console changes nothing but the staff member's own session."""
    client = _staff(app, outbox, "support")
    with app.app_context():
        others = db.session.scalar(
            db.select(db.func.count())
            .select_from(WebSession)
            .where(WebSession.profile_id != world.ids["support"])
        )
    before = db_rows(app, ("service_links", "org_memberships", "profiles"))
    for url in (
        "/staff?q=32855961",
        f"/staff/profiles/{world.ids['member']}",
        f"/staff/orgs/{world.org_a}",
        "/staff/audit",
    ):
        _text(client, url)
    assert db_rows(app, ("service_links", "org_memberships", "profiles")) == before
    with app.app_context():
        assert others == db.session.scalar(
            db.select(db.func.count())
            .select_from(WebSession)
            .where(WebSession.profile_id != world.ids["support"])
        )
