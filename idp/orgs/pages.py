"""What the organisation pages show a person, and which rows they may act on.

An organisation's page opens for its owner and administrators (everything in it) and for the owner
of one of its accounts (those accounts only, their access and invitations). Anybody else gets the
same 404 as for an organisation that does not exist. Every id a URL or a form names is looked up
within that scope, so changing it reaches nothing outside (another organisation, another account).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import abort
from flask_babel import lazy_gettext as _l

from idp.connectors.links import owner_of
from idp.connectors.models import OWNER, ServiceLink
from idp.extensions import db
from idp.orgs import invitations
from idp.orgs.events import EventRow, last_sign_ins, org_events
from idp.orgs.models import ORG_ADMIN, ORG_MEMBER, ORG_OWNER, Invitation, Membership, OrgAccount, Organisation
from idp.orgs.numbers import KINDS
from idp.orgs.people import PeoplePage, people_page
from idp.orgs.search import holders_of_each
from idp.orgs.services import (
    Actor,
    account_label,
    accounts_of,
    grantable_roles,
    may_manage_account,
    may_manage_org,
    memberships_of,
)
from idp.profiles.models import Profile

ORG_ROLE_NAMES = {
    ORG_OWNER: _l("organisation owner"),
    ORG_ADMIN: _l("administrator"),
    ORG_MEMBER: _l("member"),
}
STATUS_NAMES = {"active": _l("active"), "suspended": _l("suspended")}
INVITATION_STATES = {
    "pending": _l("waiting"),
    "expired": _l("expired"),
    "accepted": _l("accepted"),
    "withdrawn": _l("withdrawn"),
}


def org_role_name(role: str) -> str:
    return str(ORG_ROLE_NAMES.get(role, role))


def number_label(org: Organisation) -> str:
    """E.g. "ЄДРПОУ 32855961"."""
    kind = KINDS.get(org.number_kind)
    return f"{kind[0]} {org.number}" if kind else org.number


@dataclass
class Scope:
    """What one person may see and do on one organisation's page."""

    org: Organisation
    me: Profile
    manages: bool  # the organisation's owner or an administrator
    accounts: list[OrgAccount]  # every account for those who manage it, else those they own

    @property
    def actor(self) -> Actor:
        return Actor.person(self.me)

    @property
    def keys(self) -> set[tuple[str, str]]:
        return {(row.connector, row.account) for row in self.accounts}

    def account(self, org_account_id: int) -> OrgAccount:
        """One of the accounts in scope, or 404."""
        found = next((row for row in self.accounts if row.id == org_account_id), None)
        if found is None:
            abort(404)
        return found

    def link(self, link_id: int) -> ServiceLink:
        """Somebody's access to an account in scope, or 404."""
        row = db.session.get(ServiceLink, link_id)
        if row is None or (row.connector, row.account) not in self.keys:
            abort(404)
        return row

    def member(self, membership_id: int) -> Membership:
        """A person of the organisation (for those who manage it), or 404."""
        row = db.session.get(Membership, membership_id)
        if row is None or row.org_id != self.org.id or not self.manages:
            abort(404)
        return row

    def invitation(self, invitation_id: int) -> Invitation:
        """An invitation of the organisation to accounts in scope only, or 404."""
        row = db.session.get(Invitation, invitation_id)
        if row is None or row.org_id != self.org.id or not set(row.accounts) <= self.keys:
            abort(404)
        return row


def load_scope(org_id: int, me: Profile) -> Scope:
    """The scope of ``me`` on organisation ``org_id``; 404 when they may not open its page."""
    org = db.session.get(Organisation, org_id)
    if org is None:
        abort(404)
    scope = _scope(org, me)
    if scope is None:
        abort(404)
    return scope


def _scope(org: Organisation, me: Profile) -> Scope | None:
    manages = may_manage_org(Actor.person(me), org)
    rows = accounts_of(org)
    if not manages:
        rows = [row for row in rows if _owns(me, row)]
        if not rows:
            return None
    return Scope(org, me, manages, rows)


def _owns(me: Profile, row: OrgAccount) -> bool:
    owner = owner_of(row.connector, row.account)
    return owner is not None and owner.profile_id == me.id


@dataclass
class OrgEntry:
    """One organisation on /org: the person's role there and whether its page opens for them."""

    membership: Membership
    opens: bool


def my_organisations(profile: Profile) -> list[OrgEntry]:
    """The organisations ``profile`` belongs to (the home page's card and /org)."""
    return [
        OrgEntry(row, _scope(row.organisation, profile) is not None) for row in memberships_of(profile.id)
    ]


# --- the rows of the organisation page --------------------------------------------------------


@dataclass
class Person:
    membership: Membership
    last_sign_in: datetime | None
    may_change_role: bool
    may_remove: bool


@dataclass
class Access:
    link: ServiceLink
    profile: Profile
    may_change: bool  # change the role or take the access away


@dataclass
class AccountRow:
    account: OrgAccount
    label: str
    access: list[Access] = field(default_factory=list)
    may_transfer: bool = False


@dataclass
class InvitationRow:
    invitation: Invitation
    address: str
    accounts: list[str]
    may_handle: bool


def people(scope: Scope, number: int = 1, query: str = "") -> tuple[PeoplePage | None, list[Person]]:
    """Page ``number`` of the people (for those who manage the organisation), found by ``query``."""
    if not scope.manages:
        return None, []
    listed = people_page(scope.org, number, query)
    rows = listed.rows
    seen = last_sign_ins([row.profile_id for row in rows])
    mine = scope.me.id
    return listed, [
        Person(
            row,
            seen.get(row.profile_id),
            may_change_role=row.role != ORG_OWNER and row.profile_id != mine,
            may_remove=row.role != ORG_OWNER and row.profile_id != mine,
        )
        for row in rows
    ]


def account_rows(scope: Scope) -> list[AccountRow]:
    """Each account in scope with who holds access to it (two queries for all of them)."""
    actor = scope.actor
    holders = holders_of_each(scope.keys)
    result = []
    for row in scope.accounts:
        # Those who manage the organisation manage each of its accounts.
        manages = scope.manages or may_manage_account(actor, row.connector, row.account)
        entry = AccountRow(row, account_label(row.connector, row.account), may_transfer=scope.manages)
        for held in holders.get((row.connector, row.account), []):
            may = manages and held.link.role != OWNER and held.link.profile_id != scope.me.id
            entry.access.append(Access(held.link, held.profile, may))
        result.append(entry)
    return result


def invitation_rows(scope: Scope) -> list[InvitationRow]:
    keys = scope.keys
    return [
        InvitationRow(
            row,
            invitations.shown_address(row),
            [account_label(c, a) for c, a in row.accounts],
            may_handle=scope.manages or all(grantable_roles(scope.actor, c, a) for c, a in row.accounts),
        )
        for row in invitations.pending_of(scope.org)
        if set(row.accounts) <= keys
    ]


def may_invite(scope: Scope) -> bool:
    """Whether ``scope.me`` may give access to any account (asked of the accounts until one says yes)."""
    actor = scope.actor
    return any(grantable_roles(actor, row.connector, row.account) for row in scope.accounts)


def invitable(scope: Scope) -> list[tuple[OrgAccount, list[str]]]:
    """The accounts ``scope.me`` may give access to, each with the roles they may give on it."""
    actor = scope.actor
    pairs = [(row, grantable_roles(actor, row.connector, row.account)) for row in scope.accounts]
    return [(row, roles) for row, roles in pairs if roles]


def events(scope: Scope) -> list[EventRow]:
    return org_events(scope.org, sorted(scope.keys), whole_org=scope.manages)
