"""Organisations, their accounts and people, and who may manage what (idp.orgs.services).

The ``world`` fixture (imported by the other modules of this package) is two organisations:

- A, ЄДРПОУ 32855961: ``owner`` (its owner, owner of MF1), ``admin``, ``member`` (``user`` on MF1),
  ``viewer`` (``viewer`` on MF1), ``acc_owner`` (a plain member who owns MF2); MF4 has no owner.
- B, ИНН 7707083893: ``b_owner`` (its owner, owner of MF3) and ``b_admin``.

Besides them: ``outsider`` (no organisation) and the operator's staff ``manager``, ``support`` and
``security``; ``operator`` is the command line.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask

from idp.audit.models import AuditEvent
from idp.connectors.contract import VerifiedAccount
from idp.connectors.links import link
from idp.connectors.models import OWNER, USER, VIEWER, ServiceLink
from idp.extensions import db
from idp.orgs.models import (
    ORG_ADMIN,
    ORG_MEMBER,
    ORG_OWNER,
    SUSPENDED,
    Membership,
    OrgAccount,
    Organisation,
)
from idp.orgs.services import (
    Actor,
    OrgError,
    add_member,
    assign_account,
    assign_to_organisation,
    create_organisation,
    grant_staff,
    grantable_roles,
    may_manage_account,
    may_manage_org,
    may_read_org,
    membership,
    organisation_of,
    set_member_role,
)
from idp.profiles.models import Profile

MF1, MF2, MF3, MF4, MF5 = (f"+7926025073{n}" for n in range(5))
SIP_PASSWORD = "SipPassw0rd"
ORG_A = ("UA", "32855961", "TOV Romashka")
ORG_B = ("RU", "7707083893", "OOO Vasilek")

PEOPLE = {  # name: (phone, e-mail)
    "owner": ("+380671000001", "owner@example.com"),
    "admin": ("+380671000002", "admin@example.com"),
    "member": ("+380671000003", "member@example.com"),
    "viewer": ("+380671000004", "viewer@example.com"),
    "acc_owner": ("+380671000005", "acc.owner@example.com"),
    "outsider": ("+380671000006", "outsider@example.com"),
    "b_owner": ("+380671000007", "b.owner@example.com"),
    "b_admin": ("+380671000008", "b.admin@example.com"),
    "manager": ("+380671000009", "manager@example.com"),
    "support": ("+380671000010", "support@example.com"),
    "security": ("+380671000011", "security@example.com"),
}


@dataclass
class World:
    """Ids of what the ``world`` fixture made, and how to load them in an app context."""

    app: Flask
    ids: dict[str, int]
    org_a: int
    org_b: int

    def profile(self, name: str) -> Profile:
        return db.session.get(Profile, self.ids[name])

    def actor(self, name: str) -> Actor:
        """``operator`` is the command line; staff act with their role, others as persons."""
        return Actor.operator() if name == "operator" else Actor.staff(self.profile(name))

    def org(self, which: str = "a") -> Organisation:
        return db.session.get(Organisation, self.org_a if which == "a" else self.org_b)

    def link(self, name: str, account: str, connector: str = "multifon") -> ServiceLink | None:
        return db.session.scalar(
            db.select(ServiceLink).where(
                ServiceLink.profile_id == self.ids[name],
                ServiceLink.connector == connector,
                ServiceLink.account == account,
            )
        )

    def member(self, name: str, which: str = "a") -> Membership | None:
        return membership(self.org_a if which == "a" else self.org_b, self.ids[name])

    def access(self) -> set[tuple[str, str, str]]:
        """Every (person, account, role) there is, by the people's names."""
        names = {v: k for k, v in self.ids.items()}
        return {
            (names.get(row.profile_id, str(row.profile_id)), row.account, row.role)
            for row in db.session.scalars(db.select(ServiceLink))
        }

    def members(self) -> set[tuple[str, str, str]]:
        """Every (org a|b, person, role) there is."""
        names = {v: k for k, v in self.ids.items()}
        orgs = {self.org_a: "a", self.org_b: "b"}
        return {
            (orgs.get(row.org_id, str(row.org_id)), names.get(row.profile_id, str(row.profile_id)), row.role)
            for row in db.session.scalars(db.select(Membership))
        }

    def events(self, event: str) -> list[AuditEvent]:
        return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == event)))


def give(profile_id: int, account: str, role: str, connector: str = "multifon") -> ServiceLink:
    """A link with ``role`` made straight in the table (as an accepted invitation makes it)."""
    row = ServiceLink(profile_id=profile_id, connector=connector, account=account, label=account, role=role)
    db.session.add(row)
    db.session.commit()
    return row


def build_world(app: Flask, users) -> World:
    from connectors.multifon.store import provision

    ids = {name: users.create(phone=phone, email=email).id for name, (phone, email) in PEOPLE.items()}
    with app.app_context():
        for number in (MF1, MF2, MF3, MF4, MF5):
            provision(number, SIP_PASSWORD)
        a = create_organisation(*ORG_A)
        b = create_organisation(*ORG_B)
        for number in (MF1, MF2, MF4):
            assign_account(a, "multifon", number)
        assign_account(b, "multifon", MF3)
        profiles = {name: db.session.get(Profile, pid) for name, pid in ids.items()}
        for name, role in (("owner", ORG_OWNER), ("admin", ORG_ADMIN), ("member", ORG_MEMBER)):
            add_member(a, profiles[name], role)
        add_member(b, profiles["b_owner"], ORG_OWNER)
        add_member(b, profiles["b_admin"], ORG_ADMIN)
        for name, number in (("owner", MF1), ("acc_owner", MF2), ("b_owner", MF3)):
            link(profiles[name], "multifon", VerifiedAccount(number, number))  # by its credentials
        give(ids["member"], MF1, USER)
        give(ids["viewer"], MF1, VIEWER)
        add_member(a, profiles["viewer"], ORG_MEMBER)
        for name in ("manager", "support", "security"):
            grant_staff(profiles[name], name)
        return World(app, ids, a.id, b.id)


@pytest.fixture
def world(app, users) -> World:
    return build_world(app, users)


@pytest.fixture
def ctx(app):
    """An app context for the whole test (service-level tests only: no test client inside)."""
    with app.test_request_context():
        yield


# --- the world itself -------------------------------------------------------------------------


def test_the_world_is_as_described(world, ctx):
    assert world.members() == {
        ("a", "owner", ORG_OWNER),
        ("a", "admin", ORG_ADMIN),
        ("a", "member", ORG_MEMBER),
        ("a", "viewer", ORG_MEMBER),
        ("a", "acc_owner", ORG_MEMBER),  # joined by linking MF2 with its credentials
        ("b", "b_owner", ORG_OWNER),
        ("b", "b_admin", ORG_ADMIN),
    }
    assert world.access() == {
        ("owner", MF1, OWNER),
        ("member", MF1, USER),
        ("viewer", MF1, VIEWER),
        ("acc_owner", MF2, OWNER),
        ("b_owner", MF3, OWNER),
    }


# --- service accounts -------------------------------------------------------------------------


def _org_accounts() -> set[tuple[int, str, str]]:
    return {(r.org_id, r.connector, r.account) for r in db.session.scalars(db.select(OrgAccount))}


def test_assigning_an_account_of_an_unknown_service_is_refused(world, ctx):
    before = _org_accounts()
    with pytest.raises(OrgError) as refused:
        assign_account(world.org(), "nope", MF5)
    assert str(refused.value) == "There is no service nope."
    assert _org_accounts() == before


def test_another_organisations_account_is_not_taken_over(world, ctx):
    before, members = _org_accounts(), world.members()
    with pytest.raises(OrgError) as refused:
        assign_account(world.org("a"), "multifon", MF3)
    assert str(refused.value) == "This account belongs to another organisation."
    assert _org_accounts() == before and world.members() == members
    assert organisation_of("multifon", MF3).id == world.org_b


def test_assigning_an_account_again_to_its_organisation_changes_nothing(world, ctx):
    before = _org_accounts()
    assert assign_account(world.org(), "multifon", MF1).org_id == world.org_a
    assert _org_accounts() == before


def test_those_holding_an_account_become_members_when_it_is_assigned(world, ctx):
    give(world.ids["outsider"], MF5, OWNER)
    give(world.ids["admin"], MF5, VIEWER)
    give(world.ids["b_admin"], MF5, USER)
    assign_account(world.org("a"), "multifon", MF5)
    members = world.members()
    assert ("a", "outsider", ORG_MEMBER) in members
    assert ("a", "admin", ORG_ADMIN) in members  # an administrator stays one
    assert ("a", "b_admin", ORG_MEMBER) in members and ("b", "b_admin", ORG_ADMIN) in members
    assert world.events("org.account_assigned")[-1].actor_profile_id is None


def test_the_org_option_of_provisioning_takes_an_id_or_a_registration_number(world, ctx):
    assert assign_to_organisation("7707083893", "multifon", MF5).id == world.org_b
    assert organisation_of("multifon", MF5).id == world.org_b
    with pytest.raises(OrgError) as refused:
        assign_to_organisation(str(world.org_a), "multifon", MF5)
    assert str(refused.value) == "This account belongs to another organisation."
    with pytest.raises(OrgError) as unknown:
        assign_to_organisation("99999999", "multifon", "+79260259999")
    assert str(unknown.value) == "There is no organisation 99999999."
    assert organisation_of("multifon", "+79260259999") is None


def test_linking_an_organisations_account_makes_its_holder_a_member(world, ctx):
    link(world.profile("outsider"), "multifon", VerifiedAccount(MF4, MF4))
    assert ("a", "outsider", ORG_MEMBER) in world.members()


def test_linking_an_account_of_no_organisation_joins_none(world, ctx):
    link(world.profile("outsider"), "multifon", VerifiedAccount(MF5, MF5))
    assert not any(name == "outsider" for _, name, _ in world.members())


def test_linking_an_account_of_a_suspended_organisation_joins_none(world, ctx):
    world.org("a").status = SUSPENDED
    db.session.commit()
    link(world.profile("outsider"), "multifon", VerifiedAccount(MF4, MF4))
    assert world.member("outsider") is None


def test_linking_by_the_accounts_credentials_through_the_pages_makes_a_member(app, client, world):
    from tests.connectors.test_linking import link_by_signing_in

    page = link_by_signing_in(client, PEOPLE["outsider"][0], MF4)
    assert page.location == "/services/multifon/cabinet"
    with app.app_context():
        assert world.link("outsider", MF4).role == OWNER
        assert ("a", "outsider", ORG_MEMBER) in world.members()


# --- who may manage what ----------------------------------------------------------------------

BOTH = [VIEWER, USER]
ALL = [VIEWER, USER, OWNER]
# name: may manage org A, may manage MF1, grantable on MF1 (has an owner), on MF2 (owned by
# acc_owner), on MF4 (no owner), on MF3 (org B's)
RIGHTS = {
    "owner": (True, True, BOTH, BOTH, ALL, []),
    "admin": (True, True, BOTH, BOTH, ALL, []),
    "member": (False, False, [], [], [], []),
    "viewer": (False, False, [], [], [], []),
    "acc_owner": (False, False, [], BOTH, [], []),
    "outsider": (False, False, [], [], [], []),
    "b_owner": (False, False, [], [], [], BOTH),
    "b_admin": (False, False, [], [], [], BOTH),
    "manager": (True, True, BOTH, BOTH, ALL, BOTH),
    "support": (False, False, [], [], [], []),
    "security": (False, False, [], [], [], []),
    "operator": (True, True, BOTH, BOTH, ALL, BOTH),
}


@pytest.mark.parametrize("name", list(RIGHTS))
def test_who_may_manage_what(world, ctx, name):
    org, mf1, on_mf1, on_mf2, on_mf4, on_mf3 = RIGHTS[name]
    actor = world.actor(name)
    assert may_manage_org(actor, world.org("a")) is org
    assert may_manage_account(actor, "multifon", MF1) is mf1
    assert grantable_roles(actor, "multifon", MF1) == on_mf1
    assert grantable_roles(actor, "multifon", MF2) == on_mf2
    assert grantable_roles(actor, "multifon", MF4) == on_mf4
    assert grantable_roles(actor, "multifon", MF3) == on_mf3


@pytest.mark.parametrize(
    ("name", "reads"),
    [("owner", True), ("admin", True), ("member", False), ("b_admin", False), ("support", True)]
    + [("security", True), ("manager", True), ("operator", True)],
)
def test_who_may_read_an_organisation(world, ctx, name, reads):
    assert may_read_org(world.actor(name), world.org("a")) is reads


def test_the_owner_of_an_account_without_organisation_manages_it_alone(world, ctx):
    give(world.ids["outsider"], MF5, OWNER)
    assert grantable_roles(world.actor("outsider"), "multifon", MF5) == BOTH
    assert grantable_roles(world.actor("admin"), "multifon", MF5) == []
    assert grantable_roles(world.actor("operator"), "multifon", MF5) == BOTH


def test_staff_roles_and_people_are_told_apart(world, ctx):
    assert world.actor("manager").kind == "staff" and world.actor("manager").operator_side
    assert world.actor("support").kind == "staff" and not world.actor("support").operator_side
    assert world.actor("owner").kind == "person" and world.actor("owner").id == world.ids["owner"]
    assert world.actor("operator").kind == "operator" and world.actor("operator").id is None


# --- roles in the organisation ----------------------------------------------------------------


def test_an_administrator_makes_a_member_an_administrator_and_back(world, ctx):
    admin = world.actor("admin")
    set_member_role(admin, world.org(), world.member("member"), ORG_ADMIN)
    assert world.member("member").role == ORG_ADMIN
    set_member_role(admin, world.org(), world.member("member"), ORG_MEMBER)
    assert world.member("member").role == ORG_MEMBER
    events = world.events("org.role_changed")
    assert [e.actor_profile_id for e in events] == [world.ids["admin"]] * 2


REFUSED_ROLE_CHANGES = [
    # actor, whose membership, in org, new role, message
    ("admin", "member", "a", ORG_OWNER, "Only the organisation's owner can change who owns it."),
    ("admin", "owner", "a", ORG_ADMIN, "Only the organisation's owner can change who owns it."),
    ("admin", "admin", "a", ORG_MEMBER, "You cannot change your own role."),
    ("owner", "owner", "a", ORG_ADMIN, "You cannot change your own role."),
    ("member", "member", "a", ORG_ADMIN, "You cannot manage this organisation."),
    ("member", "viewer", "a", ORG_ADMIN, "You cannot manage this organisation."),
    ("acc_owner", "acc_owner", "a", ORG_ADMIN, "You cannot manage this organisation."),
    ("support", "member", "a", ORG_ADMIN, "You cannot manage this organisation."),
    ("b_owner", "member", "a", ORG_ADMIN, "You cannot manage this organisation."),  # IDOR
    ("admin", "member", "a", "superuser", "Unknown role."),
]


@pytest.mark.parametrize(("actor", "whose", "which", "role", "message"), REFUSED_ROLE_CHANGES)
def test_refused_role_changes_change_nothing(world, ctx, actor, whose, which, role, message):
    before = world.members()
    with pytest.raises(OrgError) as refused:
        set_member_role(world.actor(actor), world.org(which), world.member(whose, which), role)
    assert str(refused.value) == message
    db.session.rollback()
    assert world.members() == before
    assert world.events("org.role_changed") == []


def test_a_membership_of_another_organisation_is_refused_with_this_one(world, ctx):
    """An administrator of B naming their own organisation with A's membership (IDOR)."""
    before = world.members()
    with pytest.raises(OrgError):
        set_member_role(world.actor("b_admin"), world.org("b"), world.member("member", "a"), ORG_ADMIN)
    assert world.members() == before


def test_the_owner_and_the_operator_may_make_an_owner(world, ctx):
    set_member_role(world.actor("owner"), world.org(), world.member("admin"), ORG_OWNER)
    assert world.member("admin").role == ORG_OWNER
    set_member_role(world.actor("operator"), world.org(), world.member("owner"), ORG_MEMBER)
    assert world.member("owner").role == ORG_MEMBER
    set_member_role(world.actor("manager"), world.org(), world.member("member"), ORG_ADMIN)
    assert world.member("member").role == ORG_ADMIN


def test_adding_a_member_is_for_those_who_manage_the_organisation(world, ctx):
    before = world.members()
    for name in ("member", "b_admin", "support"):
        with pytest.raises(OrgError) as refused:
            add_member(world.org("a"), world.profile("outsider"), ORG_ADMIN, actor=world.actor(name))
        assert str(refused.value) == "You cannot manage this organisation."
    assert world.members() == before
    add_member(world.org("a"), world.profile("outsider"), ORG_MEMBER, actor=world.actor("admin"))
    assert ("a", "outsider", ORG_MEMBER) in world.members()
