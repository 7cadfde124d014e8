"""Organisations, their people and their service accounts, and who may manage what.

Every page, command and (later) API acts through an ``Actor``: a signed-in person, an operator's
staff member with a role, or the operator's own command line. The functions here check what the
actor may do themselves, so no caller can forget it; a refusal is an ``OrgError`` whose message is
meant for people, in the page's language.

Who may manage an organisation: its owner and administrators, the operator's managers and the
command line. Who may manage access to an account: its owner (a link with the ``owner`` role) and
whoever may manage the organisation the account belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.audit.services import record
from idp.connectors import registry
from idp.connectors.links import account_linked, account_links, owner_of
from idp.connectors.models import ACCOUNT_ROLES, OWNER, ServiceLink
from idp.delivery.kinds import register_kind
from idp.extensions import db
from idp.orgs.models import (
    ACTIVE,
    MANAGER,
    ORG_ADMIN,
    ORG_MEMBER,
    ORG_OWNER,
    ORG_ROLES,
    STAFF_ROLES,
    Membership,
    OrgAccount,
    Organisation,
    StaffMember,
)
from idp.orgs.numbers import parse
from idp.profiles.models import Profile


class OrgError(Exception):
    """A refused organisation action; ``str(error)`` says why, for people."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (``profile``), a staff member (``profile`` and ``staff_role``) or the
    operator's command line (neither)."""

    profile: Profile | None = None
    staff_role: str | None = None
    client_id: str | None = None  # a machine: a provisioning API client, or "scim:<token id>"
    org_id: int | None = None  # a machine bound to one organisation acts on that one alone

    @classmethod
    def person(cls, profile: Profile) -> Actor:
        return cls(profile=profile)

    @classmethod
    def staff(cls, profile: Profile) -> Actor:
        """A staff member by their role (``idp staff grant``); a person when they have none."""
        return cls(profile=profile, staff_role=staff_role(profile.id))

    @classmethod
    def operator(cls) -> Actor:
        return cls()

    @classmethod
    def machine(cls, client_id: str, org_id: int | None = None) -> Actor:
        """A provisioning API client or an organisation's SCIM token; ``org_id`` binds it."""
        return cls(client_id=client_id, org_id=org_id)

    @property
    def id(self) -> int | None:
        """The profile id audit records name as the actor (None for the command line)."""
        return self.profile.id if self.profile is not None else None

    @property
    def kind(self) -> str:
        if self.client_id is not None:
            return "client"
        if self.profile is None:
            return "operator"
        return "staff" if self.staff_role else "person"

    @property
    def operator_side(self) -> bool:
        """The command line, an unbound machine client, or a staff manager: may act on any customer."""
        return (self.profile is None and self.org_id is None) or self.staff_role == MANAGER


# --- organisations ----------------------------------------------------------------------------


def create_organisation(country: str, number: str, name: str, actor: Actor | None = None) -> Organisation:
    """Register a business customer; raise InvalidNumber or OrgError (already registered)."""
    parsed = parse(country, number)
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise OrgError(_("Give the organisation's name (at most 200 characters)."))
    if find_organisation(parsed.country, parsed.number) is not None:
        raise OrgError(_("An organisation with %(number)s is already registered.", number=parsed.label))
    org = Organisation(country=parsed.country, number_kind=parsed.kind, number=parsed.number, name=name)
    db.session.add(org)
    db.session.flush()
    record("org.created", None, (actor or Actor.operator()).id, org=org.id, number=parsed.label)
    db.session.commit()
    return org


def find_organisation(country: str, number: str) -> Organisation | None:
    """The organisation with this registration number (digits only) in ``country``."""
    org: Organisation | None = db.session.scalar(
        db.select(Organisation).where(Organisation.country == country.upper(), Organisation.number == number)
    )
    return org


def get_organisation(org_id: int) -> Organisation | None:
    return db.session.get(Organisation, org_id)


def resolve_organisation(ref: str) -> Organisation | None:
    """An organisation by its id, or by its registration number (8 digits or more); None when the
    number is registered in both countries (the id says which)."""
    ref = ref.strip()
    if not ref.isdigit():
        return None
    if len(ref) < 8:
        return get_organisation(int(ref))
    found = list(db.session.scalars(db.select(Organisation).where(Organisation.number == ref).limit(2)))
    return found[0] if len(found) == 1 else None


def assign_to_organisation(org_ref: str, connector_id: str, account: str) -> Organisation:
    """The ``--org`` option of a connector's provisioning command: the account belongs to the
    organisation ``org_ref`` (its id or registration number); raise OrgError."""
    org = resolve_organisation(org_ref)
    if org is None:
        raise OrgError(_("There is no organisation %(ref)s.", ref=org_ref))
    assign_account(org, connector_id, account)
    return org


def search_organisations(text: str, limit: int = 20) -> list[Organisation]:
    """Organisations whose registration number is ``text`` (digits) or whose name contains it."""
    text = text.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    query = db.select(Organisation)
    if digits and len(digits) >= 8 and digits == text.replace(" ", "").replace("-", ""):
        query = query.where(Organisation.number == digits)
    elif text:
        query = query.where(Organisation.name.ilike(f"%{_escape_like(text)}%", escape="\\"))
    return list(db.session.scalars(query.order_by(Organisation.name).limit(limit)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def rename_organisation(org: Organisation, name: str, actor: Actor) -> None:
    """Give the organisation its new name (those who manage it)."""
    if not may_manage_org(actor, org):
        raise OrgError(_("You cannot manage this organisation."))
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise OrgError(_("Give the organisation's name (at most 200 characters)."))
    if name == org.name:
        return
    org.name = name
    record("org.renamed", None, actor.id, by=actor.kind, org=org.id)
    db.session.commit()


def set_status(org: Organisation, status: str, actor: Actor) -> None:
    """Suspend an organisation or make it active again (the operator's side only)."""
    if not actor.operator_side:
        raise OrgError(_("Only the operator can suspend an organisation."))
    org.status = status
    record("org.status_changed", None, actor.id, org=org.id, status=status)
    db.session.commit()


# --- service accounts -------------------------------------------------------------------------


def assign_account(
    org: Organisation, connector_id: str, account: str, actor: Actor | None = None
) -> OrgAccount:
    """Say that ``account`` of ``connector_id`` belongs to ``org`` (the operator's provisioning).

    Those who already hold access to it become members of the organisation. An account that
    belongs to another organisation is refused (an account changes hands only by the operator
    reassigning it in the database, which is not offered yet).
    """
    if registry.get(connector_id) is None:
        raise OrgError(_("There is no service %(service)s.", service=connector_id))
    existing: OrgAccount | None = db.session.scalar(
        db.select(OrgAccount).where(OrgAccount.connector == connector_id, OrgAccount.account == account)
    )
    if existing is not None:
        if existing.org_id == org.id:
            return existing
        raise OrgError(_("This account belongs to another organisation."))
    assigned = OrgAccount(org_id=org.id, connector=connector_id, account=account)
    db.session.add(assigned)
    for held in account_links(connector_id, account):
        _ensure_member(org.id, held.profile_id)
    record(
        "org.account_assigned",
        None,
        (actor or Actor.operator()).id,
        org=org.id,
        connector=connector_id,
        account=account,
    )
    db.session.commit()
    return assigned


def organisation_of(connector_id: str, account: str) -> Organisation | None:
    """The organisation an account belongs to, or None (an account without one works as before)."""
    row = db.session.scalar(
        db.select(OrgAccount).where(OrgAccount.connector == connector_id, OrgAccount.account == account)
    )
    return row.organisation if row is not None else None


def accounts_of(org: Organisation) -> list[OrgAccount]:
    """The organisation's service accounts, by service and account."""
    return list(
        db.session.scalars(
            db.select(OrgAccount)
            .where(OrgAccount.org_id == org.id)
            .order_by(OrgAccount.connector, OrgAccount.account)
        )
    )


def account_of(org: Organisation, connector_id: str, account: str) -> OrgAccount | None:
    """The organisation's own account, or None when it is not one of the organisation's."""
    row: OrgAccount | None = db.session.scalar(
        db.select(OrgAccount).where(
            OrgAccount.org_id == org.id, OrgAccount.connector == connector_id, OrgAccount.account == account
        )
    )
    return row


def account_label(connector_id: str, account: str) -> str:
    """How people recognise an account (the connector's label)."""
    connector = registry.get(connector_id)
    return connector.account_label(account) if connector is not None else account


def access_to(connector_id: str, account: str) -> list[ServiceLink]:
    """Who holds access to an account, the owner first."""
    return sorted(account_links(connector_id, account), key=_owner_first)


def access_to_each(accounts: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[ServiceLink]]:
    """Who holds access to each of ``accounts`` (connector, account), the owner first, in one query."""
    wanted = set(accounts)
    found: dict[tuple[str, str], list[ServiceLink]] = {}
    if not wanted:
        return found
    rows = db.session.scalars(
        db.select(ServiceLink)
        .where(ServiceLink.account.in_({account for _connector, account in wanted}))
        .order_by(ServiceLink.id)
    )
    for row in rows:
        if (row.connector, row.account) in wanted:
            found.setdefault((row.connector, row.account), []).append(row)
    return {key: sorted(links, key=_owner_first) for key, links in found.items()}


def _owner_first(row: ServiceLink) -> tuple[int, int]:
    return (-ACCOUNT_ROLES.index(row.role) if row.role in ACCOUNT_ROLES else 0, row.id)


# --- people -----------------------------------------------------------------------------------


def membership(org_id: int, profile_id: int) -> Membership | None:
    found: Membership | None = db.session.scalar(
        db.select(Membership).where(Membership.org_id == org_id, Membership.profile_id == profile_id)
    )
    return found


def members_of(org: Organisation) -> list[Membership]:
    """The organisation's people: the owner first, then administrators, then members, by name."""
    rows = list(db.session.scalars(db.select(Membership).where(Membership.org_id == org.id)))
    return sorted(rows, key=lambda m: (-ORG_ROLES.index(m.role), m.profile.last_name, m.profile.first_name))


def memberships_of(profile_id: int) -> list[Membership]:
    """The organisations a profile belongs to, with its role in each."""
    return list(
        db.session.scalars(
            db.select(Membership).where(Membership.profile_id == profile_id).order_by(Membership.id)
        )
    )


def add_member(
    org: Organisation, profile: Profile, role: str = ORG_MEMBER, actor: Actor | None = None
) -> Membership:
    """Put ``profile`` into ``org`` with ``role`` (the command line and the operator's staff)."""
    if role not in ORG_ROLES:
        raise OrgError(_("Unknown role."))
    if actor is not None and not may_manage_org(actor, org):
        raise OrgError(_("You cannot manage this organisation."))
    row = _ensure_member(org.id, profile.id)
    if row.role != role:
        row.role = role
    record("org.member_added", profile.id, (actor or Actor.operator()).id, org=org.id, role=role)
    db.session.commit()
    return row


def _ensure_member(org_id: int, profile_id: int) -> Membership:
    """The profile's membership of the organisation, made a plain member's when there was none."""
    row = membership(org_id, profile_id)
    if row is None:
        row = Membership(org_id=org_id, profile_id=profile_id, role=ORG_MEMBER)
        db.session.add(row)
        db.session.flush()
    return row


def set_member_role(actor: Actor, org: Organisation, member: Membership, role: str) -> None:
    """Make a member an administrator or a plain member (or the owner: the owner or the operator)."""
    if role not in ORG_ROLES or member.org_id != org.id:
        raise OrgError(_("Unknown role."))
    if not may_manage_org(actor, org):
        raise OrgError(_("You cannot manage this organisation."))
    if (role == ORG_OWNER or member.role == ORG_OWNER) and not (
        actor.operator_side or _org_role(actor, org) == ORG_OWNER
    ):
        raise OrgError(_("Only the organisation's owner can change who owns it."))
    if actor.profile is not None and member.profile_id == actor.profile.id and not actor.operator_side:
        raise OrgError(_("You cannot change your own role."))
    before = member.role
    member.role = role
    record(
        "org.role_changed", member.profile_id, actor.id, org=org.id, before=before, after=role, by=actor.kind
    )
    db.session.commit()


def _org_role(actor: Actor, org: Organisation) -> str | None:
    if actor.profile is None:
        return None
    row = membership(org.id, actor.profile.id)
    return row.role if row is not None else None


def may_manage_org(actor: Actor, org: Organisation) -> bool:
    """The organisation's owner and administrators, the operator's managers, the command line, and
    a machine bound to it."""
    if actor.org_id is not None:
        return actor.org_id == org.id
    return actor.operator_side or _org_role(actor, org) in (ORG_OWNER, ORG_ADMIN)


def may_read_org(actor: Actor, org: Organisation) -> bool:
    """Those who manage it, and every staff member (support reads)."""
    return may_manage_org(actor, org) or actor.staff_role in STAFF_ROLES


def may_manage_account(actor: Actor, connector_id: str, account: str) -> bool:
    """The account's owner, and whoever may manage its organisation."""
    if actor.operator_side:
        return True
    owner = owner_of(connector_id, account)
    if owner is not None and actor.profile is not None and owner.profile_id == actor.profile.id:
        return True
    org = organisation_of(connector_id, account)
    return org is not None and may_manage_org(actor, org)


def grantable_roles(actor: Actor, connector_id: str, account: str) -> list[str]:
    """The roles ``actor`` may give on an account, lowest first: none but to those who manage it;
    ``owner`` only where the account has no owner yet, and not by its owner (who holds it)."""
    if not may_manage_account(actor, connector_id, account):
        return []
    roles = [role for role in ACCOUNT_ROLES if role != OWNER]
    org = organisation_of(connector_id, account)
    manages_org = actor.operator_side or (org is not None and may_manage_org(actor, org))
    if manages_org and owner_of(connector_id, account) is None:
        roles.append(OWNER)
    return roles


# --- the operator's staff ---------------------------------------------------------------------


def staff_role(profile_id: int) -> str | None:
    row = db.session.get(StaffMember, profile_id)
    return row.role if row is not None else None


def grant_staff(profile: Profile, role: str) -> StaffMember:
    """Give a profile a staff role (``idp staff grant``); it must have a second factor to use it."""
    if role not in STAFF_ROLES:
        raise OrgError(_("Unknown role."))
    row = db.session.get(StaffMember, profile.id)
    if row is None:
        row = StaffMember(profile_id=profile.id, role=role)
        db.session.add(row)
    row.role = role
    record("staff.granted", profile.id, None, role=role)
    db.session.commit()
    return row


def revoke_staff(profile: Profile) -> bool:
    """Take a profile's staff role away; False when it had none."""
    row = db.session.get(StaffMember, profile.id)
    if row is None:
        return False
    db.session.delete(row)
    record("staff.revoked", profile.id, None, role=row.role)
    db.session.commit()
    return True


def staff_members() -> list[StaffMember]:
    return list(db.session.scalars(db.select(StaffMember).order_by(StaffMember.granted_at)))


# --- hooks ------------------------------------------------------------------------------------


def _on_account_linked(app: Flask, link: ServiceLink) -> None:
    """Whoever links an organisation's account (by its own credentials) joins the organisation."""
    org_account = db.session.scalar(
        db.select(OrgAccount).where(
            OrgAccount.connector == link.connector, OrgAccount.account == link.account
        )
    )
    if org_account is not None and org_account.organisation.status == ACTIVE:
        _ensure_member(org_account.org_id, link.profile_id)
        db.session.commit()


def init_app(app: Flask) -> None:
    """Make the holders of an organisation's accounts its members when they link them, and
    register the messages of invitations and revocations."""
    account_linked.connect(_on_account_linked, sender=app, weak=False)
    register_kind("invitation_sms", "sms")
    register_kind(
        "invitation_email", "email", _l("You are invited to work with your organisation's accounts")
    )
    register_kind("invitation_accepted", "email", _l("Your colleague accepted the invitation"))
    register_kind("access_revoked", "email", _l("Your access to service accounts was taken away"))
    register_kind("access_granted", "email", _l("You were given access to service accounts"))
