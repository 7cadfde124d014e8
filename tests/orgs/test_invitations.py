"""Giving a colleague access (J7) through idp.orgs.invitations: every refusal changes nothing,
the link in the SMS or letter works once, and sending draws on the budgets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from idp.connectors.models import OWNER, USER, VIEWER
from idp.extensions import db
from idp.orgs import invitations
from idp.orgs.invitations import EMAIL, SMS, accept, by_token, invite, pending_of, refusal, resend, withdraw
from idp.orgs.models import ORG_MEMBER, SUSPENDED, Invitation
from idp.orgs.services import OrgError, membership
from idp.profiles.models import Profile
from tests.helpers.records import db_rows
from tests.orgs import test_services as core
from tests.orgs.test_services import MF1, MF2, MF3, MF4, PEOPLE, World, give

world = core.world  # the fixture
ctx = core.ctx  # the fixture

TABLES = ("org_invitations", "messages", "service_links", "org_memberships", "profiles")
NEW_PHONE = "+380671009999"
NEW_EMAIL = "colleague@example.com"
LINK = re.compile(r"https?://[^/\s]+/invite/([A-Za-z0-9_-]+)")


def _invite(world: World, actor: str = "admin", address: str = NEW_PHONE, **options) -> Invitation:
    channel = options.pop("channel", EMAIL if "@" in address else SMS)
    which = options.pop("org", "a")
    accounts = options.pop("accounts", [("multifon", MF1)])
    role = options.pop("role", USER)
    return invite(world.actor(actor), world.org(which), channel, address, accounts, role, "en")


def _token(outbox, to: str, kind: str) -> str:
    return LINK.search(outbox.last(to, kind).text).group(1)


def _new_profile(users, phone: str = NEW_PHONE, email: str = NEW_EMAIL, **changes) -> int:
    return users.create(phone=phone, email=email, **changes).id


# --- refused invitations ----------------------------------------------------------------------

REFUSED = [
    # actor, address, options, message
    ("admin", PEOPLE["admin"][0], {}, "You cannot invite yourself."),
    ("admin", PEOPLE["admin"][1].upper(), {}, "You cannot invite yourself."),
    ("acc_owner", "+380 67 100 0005", {"accounts": [("multifon", MF2)]}, "You cannot invite yourself."),
    ("admin", PEOPLE["member"][0], {}, "This person already has access to account +7 (926) 025-07-30."),
    ("admin", PEOPLE["viewer"][1], {}, "This person already has access to account +7 (926) 025-07-30."),
    (
        "admin",
        PEOPLE["owner"][0],
        {"accounts": [("multifon", MF4), ("multifon", MF1)]},
        "This person already has access to account +7 (926) 025-07-30.",
    ),
    (
        "member",  # a user of MF1
        NEW_PHONE,
        {},
        "Only the owner of account +7 (926) 025-07-30 or an administrator can give access to it.",
    ),
    (
        "viewer",
        NEW_PHONE,
        {"role": VIEWER},
        "Only the owner of account +7 (926) 025-07-30 or an administrator can give access to it.",
    ),
    (
        "acc_owner",  # owns MF2 only
        NEW_PHONE,
        {},
        "Only the owner of account +7 (926) 025-07-30 or an administrator can give access to it.",
    ),
    (
        "acc_owner",
        NEW_PHONE,
        {"accounts": [("multifon", MF2)], "role": OWNER},
        "You cannot give the role owner on account +7 (926) 025-07-31.",
    ),
    ("admin", NEW_PHONE, {"role": OWNER}, "You cannot give the role owner on account +7 (926) 025-07-30."),
    ("owner", NEW_PHONE, {"role": OWNER}, "You cannot give the role owner on account +7 (926) 025-07-30."),
    ("manager", NEW_PHONE, {"role": OWNER}, "You cannot give the role owner on account +7 (926) 025-07-30."),
    ("admin", NEW_PHONE, {"role": "admin"}, "You cannot give the role admin on account +7 (926) 025-07-30."),
    # another organisation's account (IDOR), named with either organisation
    (
        "admin",
        NEW_PHONE,
        {"accounts": [("multifon", MF3)]},
        "Account +79260250732 is not one of this organisation's.",
    ),
    (
        "admin",
        NEW_PHONE,
        {"accounts": [("multifon", MF3)], "org": "b"},
        "Only the owner of account +7 (926) 025-07-32 or an administrator can give access to it.",
    ),
    (
        "b_admin",
        NEW_PHONE,
        {"accounts": [("multifon", MF1)]},
        "Only the owner of account +7 (926) 025-07-30 or an administrator can give access to it.",
    ),
    (
        "b_admin",
        NEW_PHONE,
        {"accounts": [("multifon", MF3), ("multifon", MF1)], "org": "b"},
        "Account +79260250730 is not one of this organisation's.",
    ),
    (
        "support",
        NEW_PHONE,
        {},
        "Only the owner of account +7 (926) 025-07-30 or an administrator can give access to it.",
    ),
    ("admin", NEW_PHONE, {"accounts": []}, "Choose at least one account."),
    ("admin", NEW_PHONE, {"channel": "fax"}, "Choose SMS or e-mail."),
    ("admin", "12345", {"channel": SMS}, "Enter a valid phone number, e.g. +380 44 123 45 67."),
    ("admin", "not-an-email", {"channel": EMAIL}, "Enter a valid e-mail address."),
    ("admin", NEW_EMAIL, {"channel": SMS}, "Enter a valid phone number, e.g. +380 44 123 45 67."),
]


@pytest.mark.parametrize(("actor", "address", "options", "message"), REFUSED)
def test_a_refused_invitation_changes_nothing(app, world, ctx, actor, address, options, message):
    before = db_rows(app, TABLES)
    with pytest.raises(OrgError) as refused:
        _invite(world, actor, address, **options)
    assert str(refused.value) == message
    assert db_rows(app, TABLES) == before


def test_inviting_the_same_person_to_the_same_account_twice_is_refused(app, world, ctx):
    _invite(world, address=NEW_PHONE, accounts=[("multifon", MF1), ("multifon", MF4)])
    before = db_rows(app, TABLES)
    for accounts in ([("multifon", MF1)], [("multifon", MF4), ("multifon", MF2)]):
        with pytest.raises(OrgError) as refused:
            _invite(world, "owner", "+380 (67) 100-99-99", accounts=accounts)
        assert str(refused.value) == (
            "This person is already invited to this account. Send the invitation again instead."
        )
    assert db_rows(app, TABLES) == before
    _invite(world, address=NEW_PHONE, accounts=[("multifon", MF2)])  # another account is fine
    assert len(pending_of(world.org())) == 2


def test_an_expired_or_withdrawn_invitation_does_not_stop_a_new_one(world, ctx, time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    withdraw(world.actor("admin"), _invite(world))
    assert _invite(world).pending
    time_machine.shift(timedelta(days=8))
    assert _invite(world).pending


def test_a_suspended_organisation_invites_nobody_and_its_invitations_wait(app, world, ctx, outbox):
    invitation = _invite(world)
    world.org().status = SUSPENDED
    db.session.commit()
    token = _token(outbox, NEW_PHONE, "invitation_sms")
    assert refusal(by_token(token)) == "This organisation is suspended."
    before = db_rows(app, TABLES)
    with pytest.raises(OrgError) as refused:
        _invite(world, address="+380671009998")
    assert str(refused.value) == "This organisation is suspended."
    assert db_rows(app, TABLES) == before
    assert invitation.pending  # kept for when the organisation is active again


# --- what is sent, and taking it --------------------------------------------------------------


def test_an_sms_invitation_is_sent_and_its_link_gives_the_access(app, world, ctx, users, outbox):
    invitation = _invite(world, "admin", "+380 67 100 99 99", accounts=[("multifon", MF1), ("multifon", MF4)])
    assert invitation.address == NEW_PHONE and invitation.pending
    sms = outbox.last(NEW_PHONE, "invitation_sms")
    assert "Olena Koval invites you to the accounts of TOV Romashka" in sms.text
    token = _token(outbox, NEW_PHONE, "invitation_sms")
    assert by_token(token).id == invitation.id and refusal(by_token(token)) is None
    colleague = db.session.get(Profile, _new_profile(users))
    accepted = accept(token, colleague)
    assert accepted.accepted_by == colleague.id and accepted.state == "accepted"
    assert {(a, r) for n, a, r in world.access() if n == str(colleague.id)} == {(MF1, USER), (MF4, USER)}
    assert membership(world.org_a, colleague.id).role == ORG_MEMBER
    notice = outbox.last(PEOPLE["admin"][1], "invitation_accepted")
    assert "accepted your invitation to TOV Romashka" in notice.text
    assert "+7 (926) 025-07-30" in notice.text and "+7 (926) 025-07-33" in notice.text
    assert "/org" in notice.text
    events = [e.event for e in world.events("invitation.accepted") + world.events("access.granted")]
    assert events == ["invitation.accepted", "access.granted", "access.granted"]
    assert world.events("invitation.accepted")[0].actor_profile_id == world.ids["admin"]


def test_an_email_invitation_verifies_the_address_of_the_profile_that_takes_it(world, ctx, users, outbox):
    _invite(world, "owner", "Colleague@Example.com", role=VIEWER)
    letter = outbox.last(NEW_EMAIL, "invitation_email")
    assert letter.subject == "You are invited to work with your organisation's accounts"
    assert "TOV Romashka" in letter.text and "Your role:" in letter.text
    assert LINK.search(letter.html).group(1) == _token(outbox, NEW_EMAIL, "invitation_email")
    colleague_id = _new_profile(users, email="colleague@example.com", email_verified_at=None)
    colleague = db.session.get(Profile, colleague_id)
    assert colleague.email_verified_at is None
    accept(_token(outbox, NEW_EMAIL, "invitation_email"), colleague)
    db.session.expire_all()
    assert db.session.get(Profile, colleague_id).email_verified_at is not None
    assert world.link("owner", MF1).role == OWNER
    assert (str(colleague_id), MF1, VIEWER) in world.access()
    assert "accepted your invitation" in outbox.last(PEOPLE["owner"][1], "invitation_accepted").text


def _refused_accept(app, token: str, profile_id: int, message: str) -> None:
    before = db_rows(app, TABLES)
    with pytest.raises(OrgError) as refused:
        accept(token, db.session.get(Profile, profile_id))
    assert str(refused.value) == message
    assert db_rows(app, TABLES) == before


def test_an_expired_invitation_is_refused(app, world, ctx, users, outbox, time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    _invite(world)
    colleague = _new_profile(users)
    time_machine.shift(timedelta(days=7, seconds=1))
    token = _token(outbox, NEW_PHONE, "invitation_sms")
    message = "This invitation has expired. Ask the person who invited you to send it again."
    assert refusal(by_token(token)) == message
    _refused_accept(app, token, colleague, message)


@pytest.mark.idp_settings(IDP_INVITATION_DAYS=2)
def test_the_lifetime_is_configurable(world, ctx, outbox, time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    invitation = _invite(world, address=NEW_EMAIL)
    assert invitation.expires_at - invitation.created_at == timedelta(days=2)
    assert "The invitation is valid for 2 days and works once." in outbox.last(NEW_EMAIL).text
    time_machine.shift(timedelta(days=2))
    assert invitation.state == "expired"


def test_an_invitation_works_once(app, world, ctx, users, outbox):
    _invite(world)
    token = _token(outbox, NEW_PHONE, "invitation_sms")
    colleague = _new_profile(users)
    accept(token, db.session.get(Profile, colleague))
    _refused_accept(app, token, colleague, "This invitation was already used.")
    assert len(world.events("access.granted")) == 1


def test_a_withdrawn_invitation_is_refused(app, world, ctx, users, outbox):
    invitation = _invite(world)
    withdraw(world.actor("owner"), invitation)
    token = _token(outbox, NEW_PHONE, "invitation_sms")
    _refused_accept(
        app, token, _new_profile(users), "This invitation was withdrawn. Ask the person who invited you."
    )
    assert pending_of(world.org()) == []
    with pytest.raises(OrgError) as again:
        withdraw(world.actor("admin"), by_token(token))
    assert str(again.value) == "This invitation was already used or withdrawn."


def test_a_resent_invitation_kills_the_old_link_and_the_new_one_works(
    app, world, ctx, users, outbox, time_machine
):
    time_machine.move_to(datetime.now(UTC), tick=False)
    invitation = _invite(world)
    old = _token(outbox, NEW_PHONE, "invitation_sms")
    time_machine.shift(timedelta(days=6))
    resend(world.actor("admin"), invitation)
    new = _token(outbox, NEW_PHONE, "invitation_sms")
    assert new != old and invitation.sends == 2
    time_machine.shift(timedelta(days=3))  # past the first sending's lifetime: a resend renews it
    colleague = _new_profile(users)
    _refused_accept(
        app,
        old,
        colleague,
        "This invitation link is not valid. It may have been sent again: use the newest message.",
    )
    accept(new, db.session.get(Profile, colleague))
    assert (str(colleague), MF1, USER) in world.access()


def test_resending_within_a_minute_is_refused(app, world, ctx, outbox, time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    invitation = _invite(world)
    time_machine.shift(timedelta(seconds=45))
    before = db_rows(app, TABLES)
    with pytest.raises(OrgError) as refused:
        resend(world.actor("admin"), invitation)
    assert str(refused.value) == "The invitation was sent a moment ago. You can send it again in 15 s."
    db.session.rollback()
    assert db_rows(app, TABLES) == before
    time_machine.shift(timedelta(seconds=15))
    resend(world.actor("admin"), invitation)
    assert len([m for m in outbox.messages(NEW_PHONE) if m.kind == "invitation_sms"]) == 2


def test_a_used_invitation_is_not_resent(world, ctx, users, outbox, time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    invitation = _invite(world)
    accept(_token(outbox, NEW_PHONE, "invitation_sms"), db.session.get(Profile, _new_profile(users)))
    time_machine.shift(timedelta(minutes=5))
    with pytest.raises(OrgError) as refused:
        resend(world.actor("admin"), invitation)
    assert str(refused.value) == "This invitation was already used or withdrawn."


def test_the_invited_phone_must_be_the_profiles(app, world, ctx, users, outbox):
    _invite(world)
    token = _token(outbox, NEW_PHONE, "invitation_sms")
    someone = _new_profile(users, phone="+380671008888", email="someone@example.com")
    message = (
        "This invitation was sent to +380 67 100 9999, which is not the phone number of your profile. "
        "Sign in with the profile of that number, or register one with it."
    )
    _refused_accept(app, token, someone, message)
    assert refusal(by_token(token)) is None  # still open for the right person


def test_the_invited_address_must_be_the_profiles(app, world, ctx, users, outbox):
    _invite(world, address=NEW_EMAIL)
    token = _token(outbox, NEW_EMAIL, "invitation_email")
    someone = _new_profile(users, email="someone@example.com")
    message = (
        "This invitation was sent to colleague@example.com, which is not the e-mail address of your "
        "profile. Sign in with the profile of that address, or register one with it."
    )
    _refused_accept(app, token, someone, message)


def test_an_address_another_profile_confirmed_is_not_taken_over(app, world, ctx, users, outbox):
    _new_profile(users)  # has confirmed NEW_EMAIL
    _invite(world, address=NEW_EMAIL, accounts=[("multifon", MF4)])
    impostor = _new_profile(users, phone="+380671008888", email="impostor@example.com")
    row = db.session.get(Profile, impostor)
    row.email, row.email_verified_at = NEW_EMAIL, None  # typed the address, never confirmed it
    db.session.commit()
    token = _token(outbox, NEW_EMAIL, "invitation_email")
    _refused_accept(app, token, impostor, "Another profile has confirmed this e-mail address.")


def test_an_owner_invitation_gives_user_when_somebody_owns_the_account_meanwhile(world, ctx, users, outbox):
    _invite(world, "admin", role=OWNER, accounts=[("multifon", MF4)])
    give(world.ids["outsider"], MF4, OWNER)
    colleague = _new_profile(users)
    accept(_token(outbox, NEW_PHONE, "invitation_sms"), db.session.get(Profile, colleague))
    assert (str(colleague), MF4, USER) in world.access() and ("outsider", MF4, OWNER) in world.access()


def test_an_owner_invitation_on_an_account_without_owner_makes_the_owner(world, ctx, users, outbox):
    _invite(world, "admin", role=OWNER, accounts=[("multifon", MF4)])
    colleague = _new_profile(users)
    accept(_token(outbox, NEW_PHONE, "invitation_sms"), db.session.get(Profile, colleague))
    assert (str(colleague), MF4, OWNER) in world.access()


def test_an_account_owner_invites_to_their_own_account(world, ctx, users, outbox):
    _invite(world, "acc_owner", accounts=[("multifon", MF2)], role=VIEWER)
    colleague = _new_profile(users)
    accept(_token(outbox, NEW_PHONE, "invitation_sms"), db.session.get(Profile, colleague))
    assert (str(colleague), MF2, VIEWER) in world.access()
    assert "accepted your invitation" in outbox.last(PEOPLE["acc_owner"][1], "invitation_accepted").text


# --- who may resend and withdraw --------------------------------------------------------------


@pytest.mark.parametrize("name", ["member", "viewer", "outsider", "b_owner", "b_admin", "support"])
def test_only_those_who_may_give_the_access_handle_an_invitation(app, world, ctx, time_machine, name):
    time_machine.move_to(datetime.now(UTC), tick=False)
    invitation = _invite(world)
    time_machine.shift(timedelta(minutes=2))
    before = db_rows(app, TABLES)
    for act in (resend, withdraw):
        with pytest.raises(OrgError) as refused:
            act(world.actor(name), invitation)
        assert str(refused.value) == "You cannot manage this invitation."
    assert db_rows(app, TABLES) == before


@pytest.mark.parametrize("name", ["admin", "owner", "manager", "operator"])
def test_those_who_manage_the_organisation_handle_its_invitations(world, ctx, time_machine, name):
    time_machine.move_to(datetime.now(UTC), tick=False)
    invitation = _invite(world, "acc_owner", accounts=[("multifon", MF2)])
    time_machine.shift(timedelta(minutes=2))
    resend(world.actor(name), invitation)
    withdraw(world.actor(name), invitation)
    assert invitation.state == "withdrawn"


def test_an_inviter_who_lost_the_right_to_give_access_cannot_resend(world, ctx, time_machine):
    """An administrator demoted (or removed) must not keep sending the organisation's invitations."""
    from idp.orgs.services import set_member_role

    time_machine.move_to(datetime.now(UTC), tick=False)
    invitation = _invite(world, "admin")
    set_member_role(world.actor("owner"), world.org(), world.member("admin"), ORG_MEMBER)
    time_machine.shift(timedelta(minutes=2))
    with pytest.raises(OrgError) as refused:
        resend(world.actor("admin"), invitation)
    assert str(refused.value) == "You cannot manage this invitation."
    assert invitation.sends == 1


# --- budgets ----------------------------------------------------------------------------------


@pytest.mark.idp_settings(IDP_SMS_BUDGET_PROFILE="2/hour")
def test_sms_invitations_draw_on_the_inviters_sms_budget(app, world, ctx, outbox):
    _invite(world, address="+380671009991")
    _invite(world, address="+380671009992")
    before = db_rows(app, TABLES)
    with pytest.raises(OrgError) as refused:
        _invite(world, address="+380671009993")
    assert str(refused.value) == "Too many invitations were sent lately. Try again later."
    assert db_rows(app, TABLES) == before
    _invite(world, "owner", address="+380671009993")  # another inviter has a budget of their own


@pytest.mark.idp_settings(IDP_SMS_BUDGET_PROFILE="1/hour")
def test_resending_draws_on_the_budget_too(app, world, ctx, time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    invitation = _invite(world)
    time_machine.shift(timedelta(minutes=2))
    with pytest.raises(OrgError) as refused:
        resend(world.actor("admin"), invitation)
    assert str(refused.value) == "Too many invitations were sent lately. Try again later."
    db.session.rollback()
    assert db.session.get(Invitation, invitation.id).sends == 1


@pytest.mark.idp_settings(IDP_EMAIL_SEND_LIMIT="2/hour")
def test_letters_draw_on_the_inviters_letter_budget(app, world, ctx):
    _invite(world, address="one@example.com")
    _invite(world, address="two@example.com")
    before = db_rows(app, TABLES)
    with pytest.raises(OrgError) as refused:
        _invite(world, address="three@example.com")
    assert str(refused.value) == "Too many invitations were sent lately. Try again later."
    assert db_rows(app, TABLES) == before
    _invite(world, "owner", address="three@example.com")


def test_invitations_are_audited(world, ctx, time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    invitation = _invite(world, accounts=[("multifon", MF1), ("multifon", MF4)])
    time_machine.shift(timedelta(minutes=2))
    resend(world.actor("owner"), invitation)
    withdraw(world.actor("operator"), invitation)
    created, resent, withdrawn = (
        world.events(f"invitation.{e}")[0] for e in ("created", "resent", "withdrawn")
    )
    assert created.actor_profile_id == world.ids["admin"]
    assert '"accounts": ["multifon:+79260250730", "multifon:+79260250733"]' in created.details
    assert resent.actor_profile_id == world.ids["owner"]
    assert withdrawn.actor_profile_id is None and '"by": "operator"' in withdrawn.details


def test_the_invitation_is_sent_in_its_own_language(world, ctx, outbox):
    invite(world.actor("admin"), world.org(), SMS, NEW_PHONE, [("multifon", MF1)], USER, "uk")
    sms = outbox.last(NEW_PHONE, "invitation_sms")
    assert sms.locale == "uk" and "invites you" not in sms.text


def test_a_bad_token_finds_nothing(world, ctx):
    assert by_token("") is None and by_token("x" * 101) is None and by_token("nothing") is None
    assert refusal(None).startswith("This invitation link is not valid.")
    assert invitations.RESEND_SECONDS == 60


def test_the_link_opens_the_invitation_page_and_taking_it_there_gives_the_access(
    app, client, world, users, outbox
):
    from tests.helpers.pages import sign_in, submit

    with app.test_request_context():
        _invite(world)
    path = "/invite/" + _token(outbox, NEW_PHONE, "invitation_sms")
    assert client.get(path).status_code == 200
    colleague = _new_profile(users)
    assert sign_in(client, NEW_PHONE).location == "/"
    page = submit(client, path)
    assert page.location == "/"
    with app.app_context():
        assert (str(colleague), MF1, USER) in world.access()
    assert client.get(path).status_code == 410  # used
    assert client.get("/invite/not-a-token").status_code == 404
