"""Taking access away at once, everywhere (J8), with the whole cascade asserted on real tokens:
the link, the browser sessions, every grant (online and offline), refresh, introspection and
userinfo, the back-channel logout in the outbox, the notice, the audit; and the other steps of
idp.orgs.revocation, and who may take them (role escalation and IDOR between organisations)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.auth import recovery_codes, totp
from idp.connectors.models import OWNER, USER, VIEWER
from idp.delivery.models import QUEUED, SENT, Message
from idp.extensions import db
from idp.oauth.models import Grant
from idp.orgs.invitations import SMS, invite, resend, withdraw
from idp.orgs.models import ORG_ADMIN
from idp.orgs.revocation import (
    change_role,
    disable_profile,
    enable_profile,
    end_all_sessions,
    remove_member,
    reset_second_factor,
    revoke_access,
    transfer_ownership,
)
from idp.orgs.services import OrgError, add_member, set_member_role
from idp.profiles.models import Profile
from idp.security.crypto import decrypt
from idp.sessions.models import WebSession
from tests.delivery.worker_helpers import work_until
from tests.helpers.pages import is_signed_in, sign_in
from tests.helpers.records import db_rows
from tests.oauth.helpers import (
    AuthorizationRequest,
    RegisteredClient,
    authorize,
    exchange,
    introspect,
    refresh,
    register_client,
    userinfo,
)
from tests.oauth.test_logout import Receiver
from tests.orgs import test_services as core
from tests.orgs.test_services import MF1, MF2, MF3, MF4, PEOPLE, give

world = core.world  # the fixture

TABLES = ("service_links", "org_memberships", "org_invitations", "messages", "profiles", "web_sessions")
REASON = "Left the company"
TICKET = "INC-4242"


@dataclass
class Signed:
    """A person signed in in a browser of their own, with an online and an offline grant of the RP."""

    name: str
    http: FlaskClient
    online: dict
    offline: dict

    @property
    def tokens(self) -> tuple[dict, dict]:
        return self.online, self.offline


def _tokens(http: FlaskClient, rp: RegisteredClient, scope: str) -> dict:
    request = AuthorizationRequest(rp, scope=scope)
    response = exchange(http, request, authorize(http, request)["code"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def rp(app, receiver) -> RegisteredClient:
    """The demo PBX portal: a relying service with a back-channel logout URI."""
    return register_client(app, backchannel_logout_uri=receiver.uri)


@pytest.fixture
def sign(app, rp):
    """``sign(name)``: that person signed in, with both grants of the RP."""

    def signed(name: str) -> Signed:
        http = app.test_client()
        assert sign_in(http, PEOPLE[name][0]).location == "/"
        return Signed(
            name,
            http,
            _tokens(http, rp, "openid profile services"),
            _tokens(http, rp, "openid offline_access services"),
        )

    return signed


def assert_cut_off(app, rp: RegisteredClient, signed: Signed) -> None:
    """Every session of the person ended and nothing of their grants works any more."""
    http = app.test_client()  # the relying service
    assert not is_signed_in(signed.http)
    with app.app_context():
        profile_id = _id(signed.name)
        assert _open_sessions(profile_id) == 0
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(Grant)
                .where(Grant.profile_id == profile_id, Grant.revoked_at.is_(None))
            )
            == 0
        )
    for tokens in signed.tokens:
        assert introspect(http, rp, tokens["access_token"])["active"] is False
        assert userinfo(http, tokens["access_token"]).status_code == 401
        answer = refresh(http, rp, tokens["refresh_token"])
        assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_grant"


def assert_untouched(app, rp: RegisteredClient, signed: Signed) -> None:
    http = app.test_client()
    assert is_signed_in(signed.http)
    for tokens in signed.tokens:
        assert introspect(http, rp, tokens["access_token"])["active"] is True
        assert userinfo(http, tokens["access_token"]).status_code == 200


def _id(name: str) -> int:
    return db.session.scalar(db.select(Profile.id).where(Profile.phone == PEOPLE[name][0]))


def _open_sessions(profile_id: int) -> int:
    return db.session.scalar(
        db.select(db.func.count())
        .select_from(WebSession)
        .where(WebSession.profile_id == profile_id, WebSession.ended_at.is_(None))
    )


def _logouts(app) -> list[dict]:
    with app.app_context():
        db.session.expire_all()
        return [
            {
                "to": m.recipient,
                "profile": m.profile_id,
                "state": m.state,
                **json.loads(decrypt(m.body_encrypted)),
            }
            for m in db.session.scalars(
                db.select(Message).where(Message.channel == "http").order_by(Message.id)
            )
        ]


def _services(http: FlaskClient, rp: RegisteredClient) -> set[tuple[str, str]]:
    """(account, role) of the ``services`` claim of a fresh sign-in's tokens."""
    claims = userinfo(http, _tokens(http, rp, "openid services")["access_token"]).get_json()
    return {(entry["account"], entry["role"]) for entry in claims["services"]}


# --- the cascade ------------------------------------------------------------------------------


def test_revoking_access_takes_everything_away_at_once(app, world, sign, rp, receiver, outbox):
    member, viewer = sign("member"), sign("viewer")
    second_browser = app.test_client()
    sign_in(second_browser, PEOPLE["member"][0])
    assert _services(member.http, rp) == {(MF1, USER)}
    with app.test_request_context():
        done = revoke_access(world.actor("owner"), world.link("member", MF1), REASON, ticket=TICKET)
        assert world.link("member", MF1) is None
        assert world.member("member") is not None  # still in the organisation
        assert done.accounts == ["+7 (926) 025-07-30"] and done.sessions_ended == 2
    assert_cut_off(app, rp, member)
    assert not is_signed_in(second_browser)
    with app.app_context():  # each grant says why it ended, the online ones too
        reasons = db.session.scalars(
            db.select(Grant.revoked_reason).where(Grant.profile_id == world.ids["member"])
        )
        assert set(reasons) == {"access_revoked"}
    assert_untouched(app, rp, viewer)  # nobody else's
    # one back-channel logout for the session the grants began in (not one per grant), queued
    logouts = _logouts(app)
    assert len(logouts) == 1, logouts
    assert all(n["to"] == receiver.uri and n["state"] == QUEUED for n in logouts)
    assert logouts[0]["client_id"] == rp.client_id and logouts[0]["sid"]
    with app.app_context():
        member_subject = db.session.get(Profile, world.ids["member"]).subject
        assert {n["sub"] for n in logouts} == {member_subject}
        assert {n["profile"] for n in logouts} == {world.ids["member"]}
    notice = outbox.last(PEOPLE["member"][1], "access_revoked")
    assert notice.subject == "Your access to service accounts was taken away"
    assert "+7 (926) 025-07-30" in notice.text and "Your sessions were ended" in notice.text
    with app.app_context():
        (event,) = world.events("access.revoked")
        details = json.loads(event.details)
        assert event.profile_id == world.ids["member"] and event.actor_profile_id == world.ids["owner"]
        assert details["reason"] == REASON and details["ticket"] == TICKET and details["by"] == "person"
        assert details["connector"] == "multifon" and details["account"] == MF1
        assert details["sessions_ended"] == 2
    # signing in again works, and relying services get the claims without the account
    assert sign_in(member.http, PEOPLE["member"][0]).location == "/"
    assert _services(member.http, rp) == set()


def test_the_relying_service_receives_the_logout_token(app, world, sign, rp, receiver, client):
    member = sign("member")
    with app.app_context():
        revoke_access(world.actor("admin"), world.link("member", MF1), REASON)
        subject = db.session.get(Profile, world.ids["member"]).subject
    receiver.start()
    work_until(
        app, lambda states: bool(states) and all(s == SENT for s in states.values() if s != "delivered")
    )
    assert all(n["state"] == SENT for n in _logouts(app))
    assert receiver.posts
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    for post in receiver.posts:
        claims = jwt.decode(post["form"]["logout_token"], keys, algorithms=["ES256", "RS256"]).claims
        assert claims["aud"] == rp.client_id and claims["sub"] == subject
        assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]
    assert not is_signed_in(member.http)


def test_an_account_owner_takes_away_access_to_their_account(app, world, sign, rp):
    with app.app_context():
        give(world.ids["outsider"], MF2, VIEWER)
    outsider = sign("outsider")
    with app.app_context():
        revoke_access(world.actor("acc_owner"), world.link("outsider", MF2), REASON)
        assert world.link("outsider", MF2) is None
    assert_cut_off(app, rp, outsider)


def test_a_revocation_may_give_the_account_a_new_sip_password(app, world, outbox):
    """The option of J8: the account gets a new SIP password, sent to the service number only."""
    from connectors.multifon.store import ProvisioningStore
    from tests.orgs.test_services import SIP_PASSWORD

    with app.app_context():
        done = revoke_access(
            world.actor("operator"), world.link("member", MF1), REASON, replace_password=True
        )
        assert world.link("member", MF1) is None
        assert done.passwords_replaced == ["+7 (926) 025-07-30"]
        new_password = ProvisioningStore().sip_password(MF1)
        assert new_password != SIP_PASSWORD
        event = world.events("access.revoked")[0]
        assert event.actor_profile_id is None and json.loads(event.details)["by"] == "operator"
        assert json.loads(event.details)["replace_password"] is True
    assert new_password in outbox.last(MF1).text  # an SMS to the account's own number
    assert new_password not in outbox.last(PEOPLE["member"][1], "access_revoked").text


# --- refused revocations ----------------------------------------------------------------------

REFUSED_REVOCATIONS = [
    # actor, whose link, account, message
    (
        "admin",
        "owner",
        MF1,
        "The owner's access can only be ended by handing the ownership to somebody else.",
    ),
    (
        "owner",
        "owner",
        MF1,
        "The owner's access can only be ended by handing the ownership to somebody else.",
    ),
    (
        "admin",
        "acc_owner",
        MF2,
        "The owner's access can only be ended by handing the ownership to somebody else.",
    ),
    ("member", "viewer", MF1, "You cannot manage access to this account."),
    ("viewer", "member", MF1, "You cannot manage access to this account."),
    ("acc_owner", "member", MF1, "You cannot manage access to this account."),
    ("b_owner", "member", MF1, "You cannot manage access to this account."),  # IDOR
    ("b_admin", "viewer", MF1, "You cannot manage access to this account."),
    ("support", "member", MF1, "You cannot manage access to this account."),
    ("security", "member", MF1, "You cannot manage access to this account."),
    ("admin", "b_owner", MF3, "You cannot manage access to this account."),
]


@pytest.mark.parametrize(("actor", "whose", "account", "message"), REFUSED_REVOCATIONS)
def test_a_refused_revocation_changes_nothing(app, world, actor, whose, account, message):
    before = db_rows(app, TABLES)
    with app.app_context():
        with pytest.raises(OrgError) as refused:
            revoke_access(world.actor(actor), world.link(whose, account), REASON)
        assert str(refused.value) == message
    assert db_rows(app, TABLES) == before


def test_nobody_takes_their_own_access_away_here(app, world):
    with app.app_context():
        give(world.ids["admin"], MF1, USER)
        with pytest.raises(OrgError) as refused:
            revoke_access(world.actor("admin"), world.link("admin", MF1), REASON)
        assert str(refused.value) == "You cannot take away your own access."


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_a_reason_is_required(app, world, reason):
    before = db_rows(app, TABLES)
    with app.app_context(), pytest.raises(OrgError) as refused:
        revoke_access(world.actor("owner"), world.link("member", MF1), reason)
    assert str(refused.value) == "Say why access is taken away: it goes into the audit log."
    assert db_rows(app, TABLES) == before


@pytest.mark.parametrize("name", ["operator", "manager"])
def test_the_operator_side_may_end_an_owners_access(app, world, sign, rp, name):
    owner = sign("owner")
    with app.app_context():
        revoke_access(world.actor(name), world.link("owner", MF1), REASON, ticket=TICKET)
        assert world.link("owner", MF1) is None
        assert world.events("access.revoked")[0].actor_profile_id == (
            None if name == "operator" else world.ids["manager"]
        )
    assert_cut_off(app, rp, owner)


# --- removing a person from the organisation --------------------------------------------------


def test_removing_a_member_ends_every_access_in_that_organisation_only(app, world, sign, rp, outbox):
    with app.app_context():
        give(world.ids["member"], MF4, VIEWER)
        give(world.ids["member"], MF3, USER)  # org B's account
        add_member(world.org("b"), db.session.get(Profile, world.ids["member"]))
    member = sign("member")
    with app.app_context():
        done = remove_member(
            world.actor("admin"), world.org("a"), world.member("member"), REASON, ticket=TICKET
        )
        assert sorted(done.accounts) == ["+7 (926) 025-07-30", "+7 (926) 025-07-33"]
        assert {(a, r) for n, a, r in world.access() if n == "member"} == {(MF3, USER)}
        assert world.member("member", "a") is None and world.member("member", "b") is not None
        (event,) = world.events("org.member_removed")
        details = json.loads(event.details)
        assert event.actor_profile_id == world.ids["admin"] and details["accounts"] == 2
        assert details["reason"] == REASON and details["ticket"] == TICKET
        assert len(world.events("service.unlinked")) == 2
    assert_cut_off(app, rp, member)
    notice = outbox.last(PEOPLE["member"][1], "access_revoked")
    assert "You were removed from TOV Romashka." in notice.text
    assert sign_in(member.http, PEOPLE["member"][0]).location == "/"
    assert _services(member.http, rp) == {(MF3, USER)}


REFUSED_REMOVALS = [
    # actor, whose membership, org named, message
    ("admin", "admin", "a", "You cannot remove yourself from the organisation."),
    ("admin", "owner", "a", "The organisation's owner can only be removed by the operator."),
    (
        "admin",
        "acc_owner",
        "a",
        "This person owns account +7 (926) 025-07-31: hand its ownership on to somebody else first.",
    ),
    ("member", "viewer", "a", "You cannot manage this organisation."),
    ("acc_owner", "member", "a", "You cannot manage this organisation."),
    ("support", "member", "a", "You cannot manage this organisation."),
    ("b_admin", "member", "a", "You cannot manage this organisation."),  # IDOR
    ("b_admin", "member", "b", "You cannot manage this organisation."),  # A's membership, B named
]


@pytest.mark.parametrize(("actor", "whose", "which", "message"), REFUSED_REMOVALS)
def test_a_refused_removal_changes_nothing(app, world, actor, whose, which, message):
    before = db_rows(app, TABLES)
    with app.app_context():
        with pytest.raises(OrgError) as refused:
            remove_member(world.actor(actor), world.org(which), world.member(whose, "a"), REASON)
        assert str(refused.value) == message
    assert db_rows(app, TABLES) == before


def test_the_operator_removes_an_owner_with_their_accounts(app, world):
    with app.app_context():
        remove_member(world.actor("manager"), world.org(), world.member("acc_owner"), REASON)
        assert world.link("acc_owner", MF2) is None and world.member("acc_owner") is None
        remove_member(world.actor("operator"), world.org(), world.member("owner"), REASON)
        assert world.link("owner", MF1) is None and world.member("owner") is None


# --- ownership --------------------------------------------------------------------------------


def test_a_transfer_keeps_the_old_owner_as_user(app, world, sign, rp, outbox):
    owner, member = sign("owner"), sign("member")
    with app.app_context():
        transfer_ownership(
            world.actor("admin"), "multifon", MF1, world.profile("member"), True, REASON, ticket=TICKET
        )
        assert world.link("owner", MF1).role == USER and world.link("member", MF1).role == OWNER
        (event,) = world.events("access.ownership_transferred")
        details = json.loads(event.details)
        assert event.profile_id == world.ids["member"] and event.actor_profile_id == world.ids["admin"]
        assert details["previous_owner"] == world.ids["owner"] and details["previous_owner_keeps"] is True
    assert_cut_off(app, rp, owner)  # their tokens named them the owner
    assert_untouched(app, rp, member)
    letter = outbox.last(PEOPLE["member"][1], "access_granted")
    assert "+7 (926) 025-07-30" in letter.text
    sign_in(owner.http, PEOPLE["owner"][0])
    assert _services(owner.http, rp) == {(MF1, USER)}


def test_a_transfer_may_end_the_old_owners_access(app, world, sign, rp, outbox):
    acc_owner = sign("acc_owner")
    with app.app_context():
        transfer_ownership(world.actor("owner"), "multifon", MF2, world.profile("admin"), False, REASON)
        assert world.link("acc_owner", MF2) is None and world.link("admin", MF2).role == OWNER
    assert_cut_off(app, rp, acc_owner)
    assert "+7 (926) 025-07-31" in outbox.last(PEOPLE["acc_owner"][1], "access_revoked").text


def test_a_transfer_gives_an_account_without_owner_its_owner(app, world):
    with app.app_context():
        transfer_ownership(world.actor("manager"), "multifon", MF4, world.profile("viewer"), True, REASON)
        assert world.link("viewer", MF4).role == OWNER


REFUSED_TRANSFERS = [
    # actor, account, new owner, message
    ("admin", MF1, "outsider", "The new owner must be a member of the organisation."),
    ("operator", MF1, "b_owner", "The new owner must be a member of the organisation."),
    ("admin", MF1, "owner", "This person already owns the account."),
    (
        "acc_owner",
        MF2,
        "member",
        "Only an administrator of the account's organisation can hand its ownership on.",
    ),
    (
        "member",
        MF1,
        "member",
        "Only an administrator of the account's organisation can hand its ownership on.",
    ),
    (
        "support",
        MF1,
        "member",
        "Only an administrator of the account's organisation can hand its ownership on.",
    ),
    (
        "b_admin",
        MF1,
        "member",
        "Only an administrator of the account's organisation can hand its ownership on.",
    ),
    (
        "admin",
        MF3,
        "b_admin",
        "Only an administrator of the account's organisation can hand its ownership on.",
    ),
]


@pytest.mark.parametrize(("actor", "account", "new", "message"), REFUSED_TRANSFERS)
def test_a_refused_transfer_changes_nothing(app, world, actor, account, new, message):
    before = db_rows(app, TABLES)
    with app.app_context():
        with pytest.raises(OrgError) as refused:
            transfer_ownership(world.actor(actor), "multifon", account, world.profile(new), True, REASON)
        assert str(refused.value) == message
    assert db_rows(app, TABLES) == before


# --- another role on an account ---------------------------------------------------------------


def test_less_access_ends_the_sessions_and_more_does_not(app, world, sign, rp):
    member, viewer = sign("member"), sign("viewer")
    with app.app_context():
        change_role(world.actor("admin"), world.link("member", MF1), VIEWER)
        change_role(world.actor("owner"), world.link("viewer", MF1), USER)
        assert world.link("member", MF1).role == VIEWER and world.link("viewer", MF1).role == USER
        assert len(world.events("access.role_changed")) == 2
    assert_cut_off(app, rp, member)
    assert_untouched(app, rp, viewer)
    sign_in(member.http, PEOPLE["member"][0])
    assert _services(member.http, rp) == {(MF1, VIEWER)}


REFUSED_ROLES = [
    # actor, whose link, account, role, message
    ("admin", "member", MF1, OWNER, "Hand the ownership on instead."),
    ("admin", "member", MF1, "admin", "Hand the ownership on instead."),
    ("admin", "owner", MF1, USER, "The owner's role changes only when the ownership is handed on."),
    ("member", "member", MF1, VIEWER, "You cannot manage access to this account."),  # a user, their own
    ("viewer", "viewer", MF1, USER, "You cannot manage access to this account."),  # escalation
    ("member", "viewer", MF1, USER, "You cannot manage access to this account."),
    ("acc_owner", "member", MF1, VIEWER, "You cannot manage access to this account."),
    ("b_admin", "member", MF1, VIEWER, "You cannot manage access to this account."),  # IDOR
    ("support", "member", MF1, VIEWER, "You cannot manage access to this account."),
]


@pytest.mark.parametrize(("actor", "whose", "account", "role", "message"), REFUSED_ROLES)
def test_a_refused_role_change_changes_nothing(app, world, actor, whose, account, role, message):
    before = db_rows(app, TABLES)
    with app.app_context():
        with pytest.raises(OrgError) as refused:
            change_role(world.actor(actor), world.link(whose, account), role)
        assert str(refused.value) == message
    assert db_rows(app, TABLES) == before


def test_an_administrator_cannot_lower_their_own_role_on_an_account(app, world):
    with app.app_context():
        give(world.ids["admin"], MF1, USER)
        with pytest.raises(OrgError) as refused:
            change_role(world.actor("admin"), world.link("admin", MF1), VIEWER)
        assert str(refused.value) == "You cannot change your own role."


# --- the staff's steps ------------------------------------------------------------------------


def test_a_disabled_profile_is_cut_off_and_cannot_sign_in_until_enabled(app, world, sign, rp):
    member = sign("member")
    with app.app_context():
        disable_profile(world.actor("security"), world.profile("member"), REASON, ticket=TICKET)
        assert world.profile("member").disabled
        assert world.link("member", MF1) is not None  # kept for when it is enabled again
        event = world.events("profile.disabled")[0]
        assert event.actor_profile_id == world.ids["security"] and TICKET in event.details
    assert_cut_off(app, rp, member)
    page = sign_in(member.http, PEOPLE["member"][0])
    assert page.location is None and page.errors == ["This profile is disabled. Contact your operator."]
    assert not is_signed_in(member.http)
    with app.app_context():
        enable_profile(world.actor("security"), world.profile("member"), "Identity checked")
        assert not world.profile("member").disabled
    assert sign_in(member.http, PEOPLE["member"][0]).location == "/"
    assert _services(member.http, rp) == {(MF1, USER)}


def test_authenticate_refuses_a_disabled_profile_after_the_right_password(app, world):
    from idp.auth.errors import Disabled
    from idp.auth.services import authenticate
    from tests.helpers.records import PASSWORD

    with app.test_request_context():
        disable_profile(world.actor("operator"), world.profile("member"), REASON)
        with pytest.raises(Disabled):
            authenticate(PEOPLE["member"][0], PASSWORD)
        assert world.events("signin.refused_disabled")


@pytest.mark.parametrize(
    ("name", "step", "message"),
    [
        ("manager", disable_profile, "Only the operator's security staff can disable a profile."),
        ("support", disable_profile, "Only the operator's security staff can disable a profile."),
        ("admin", disable_profile, "Only the operator's security staff can disable a profile."),
        ("manager", reset_second_factor, "Only the operator's security staff can reset a second factor."),
        ("owner", reset_second_factor, "Only the operator's security staff can reset a second factor."),
        ("support", end_all_sessions, None),
        ("admin", end_all_sessions, None),
    ],
)
def test_staff_steps_are_for_their_roles(app, world, sign, rp, name, step, message):
    member = sign("member")
    before = db_rows(app, TABLES)
    with app.app_context():
        with pytest.raises(OrgError) as refused:
            step(world.actor(name), world.profile("member"), REASON)
        if message:
            assert str(refused.value) == message
    assert db_rows(app, TABLES) == before
    assert_untouched(app, rp, member)


def test_security_cannot_disable_themselves(app, world):
    with app.app_context(), pytest.raises(OrgError) as refused:
        disable_profile(world.actor("security"), world.profile("security"), REASON)
    assert str(refused.value) == "You cannot disable your own profile."


@pytest.mark.parametrize("name", ["manager", "security"])
def test_staff_end_every_session_of_a_profile(app, world, sign, rp, name):
    member = sign("member")
    with app.app_context():
        assert end_all_sessions(world.actor(name), world.profile("member"), REASON, ticket=TICKET) == 1
        assert world.events("staff.sessions_ended")[0].actor_profile_id == world.ids[name]
        assert world.link("member", MF1) is not None
    assert_cut_off(app, rp, member)


def test_resetting_the_second_factor_removes_every_factor_and_tells_the_person(app, world, sign, rp, outbox):
    with app.app_context():
        profile = world.profile("member")
        totp.enable(profile, totp.new_secret(), step=0)
        profile.sms_2fa_enabled = True
        recovery_codes.generate(profile)
        db.session.commit()
        assert recovery_codes.remaining(profile) > 0
    http = app.test_client()
    assert sign_in(http, PEOPLE["member"][0]).location == "/signin/verify"
    with app.app_context():
        reset_second_factor(world.actor("security"), world.profile("member"), "Lost phone", ticket=TICKET)
        profile = world.profile("member")
        assert not profile.two_factor_enabled and not profile.totp_enabled and not profile.sms_2fa_enabled
        assert profile.totp_secret_encrypted is None
        assert recovery_codes.remaining(profile) == 0
        assert world.events("two_factor.reset_by_staff")[0].actor_profile_id == world.ids["security"]
    assert outbox.last(PEOPLE["member"][1], "two_factor_changed")
    assert sign_in(http, PEOPLE["member"][0]).location == "/"  # the password alone again


# --- role escalation and IDOR between organisations -------------------------------------------


def test_an_administrator_of_one_organisation_can_do_nothing_in_another(app, world, time_machine):
    """Every service refuses org A's administrator on org B's members, accounts and invitations."""
    time_machine.move_to(datetime.now(UTC), tick=False)
    with app.app_context():
        give(world.ids["outsider"], MF3, USER)
        add_member(world.org("b"), world.profile("outsider"))
        b_invitation = invite(
            world.actor("b_admin"), world.org("b"), SMS, "+380671009999", [("multifon", MF3)], VIEWER, "en"
        )
        invitation_id = b_invitation.id
    time_machine.shift(timedelta(minutes=2))
    before = db_rows(app, TABLES)
    with app.app_context():
        admin, b = world.actor("admin"), world.org("b")
        from idp.orgs.models import Invitation

        b_invitation = db.session.get(Invitation, invitation_id)
        attempts = [
            lambda: set_member_role(admin, b, world.member("outsider", "b"), ORG_ADMIN),
            lambda: set_member_role(admin, world.org("a"), world.member("outsider", "b"), ORG_ADMIN),
            lambda: add_member(b, world.profile("admin"), ORG_ADMIN, actor=admin),
            lambda: remove_member(admin, b, world.member("outsider", "b"), REASON),
            lambda: revoke_access(admin, world.link("outsider", MF3), REASON),
            lambda: change_role(admin, world.link("outsider", MF3), VIEWER),
            lambda: transfer_ownership(admin, "multifon", MF3, world.profile("outsider"), True, REASON),
            lambda: invite(admin, b, SMS, "+380671009998", [("multifon", MF3)], VIEWER, "en"),
            lambda: invite(admin, world.org("a"), SMS, "+380671009998", [("multifon", MF3)], VIEWER, "en"),
            lambda: resend(admin, b_invitation),
            lambda: withdraw(admin, b_invitation),
        ]
        for attempt in attempts:
            with pytest.raises(OrgError):
                attempt()
            db.session.rollback()
    assert db_rows(app, TABLES) == before


def test_a_member_cannot_raise_their_own_roles(app, world):
    before = db_rows(app, TABLES)
    with app.app_context():
        member = world.actor("member")
        attempts = [
            lambda: set_member_role(member, world.org(), world.member("member"), ORG_ADMIN),
            lambda: add_member(world.org(), world.profile("member"), ORG_ADMIN, actor=member),
            lambda: change_role(member, world.link("member", MF1), OWNER),
            lambda: transfer_ownership(member, "multifon", MF1, world.profile("member"), True, REASON),
            lambda: invite(member, world.org(), SMS, "+380671009998", [("multifon", MF4)], OWNER, "en"),
        ]
        for attempt in attempts:
            with pytest.raises(OrgError):
                attempt()
            db.session.rollback()
    assert db_rows(app, TABLES) == before
