"""SCIM Groups: the access roles on an organisation's service accounts, derived, not stored.

One Group per (account, role) of the organisation's accounts and the roles ``user`` and
``viewer``; not ``owner``: an account's ownership is handed on only by people (a transfer on the
organisation page). A Group's members are the organisation's SCIM Users who hold that role on the
account (the owner counts as a member of the ``user`` Group: an owner may do what a user does),
and those the directory put in it before accepting their invitation (``ScimGroupWant``).

Adding a member gives the role (a ``ServiceLink``, audited ``access.granted`` by the SCIM token;
a higher role already held is kept, the owner's link is never touched); a pending person gets it
when they accept. Removing a member takes the access away with the whole J8 cascade.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from idp.audit.services import record
from idp.connectors.links import find_link
from idp.connectors.models import OWNER, USER, VIEWER, ServiceLink, role_allows
from idp.delivery.services import send
from idp.extensions import db
from idp.orgs.models import Organisation
from idp.orgs.revocation import change_role, revoke_access
from idp.orgs.services import Actor, account_label, accounts_of, membership
from idp.profiles.models import Profile
from idp.scim.models import ScimGroupWant, ScimUser

GROUP_ROLES = (USER, VIEWER)
REMOVED = "SCIM: removed from the group by the directory"
SAFE = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class AccessGroup:
    """One role on one of the organisation's accounts."""

    connector: str
    account: str
    role: str

    @property
    def id(self) -> str:
        """Stable and URL-safe: ``multifon.79260250730.user``, or a digest for other accounts."""
        account = self.account.lstrip("+")
        if not SAFE.fullmatch(account):
            account = "h" + hashlib.sha256(self.account.encode()).hexdigest()[:24]
        return f"{self.connector}.{account}.{self.role}"

    @property
    def display_name(self) -> str:
        return f"{account_label(self.connector, self.account)} — {self.role}"


def groups_of(org: Organisation) -> list[AccessGroup]:
    """Every Group of the organisation, by account and role."""
    return [AccessGroup(row.connector, row.account, role) for row in accounts_of(org) for role in GROUP_ROLES]


def group_of(org: Organisation, group_id: str) -> AccessGroup | None:
    """The organisation's Group with this id; None for another organisation's, or none."""
    return next((group for group in groups_of(org) if group.id == group_id), None)


def _holds(link: ServiceLink, role: str) -> bool:
    return link.role == role or (role == USER and link.role == OWNER)


def member_ids(org: Organisation, group: AccessGroup) -> list[str]:
    """The SCIM ids of the Group's members: holders of its role linked to a SCIM User of the
    organisation, then the pending people the directory put in it."""
    holders = {
        link.profile_id
        for link in db.session.scalars(
            db.select(ServiceLink).where(
                ServiceLink.connector == group.connector, ServiceLink.account == group.account
            )
        )
        if _holds(link, group.role)
    }
    users = db.session.scalars(db.select(ScimUser).where(ScimUser.org_id == org.id).order_by(ScimUser.id))
    held = [user.id for user in users if user.profile_id in holders]
    return held + [want.scim_user_id for want in _wants(org, group) if want.scim_user_id not in held]


def _wants(org: Organisation, group: AccessGroup) -> list[ScimGroupWant]:
    return list(
        db.session.scalars(
            db.select(ScimGroupWant).where(
                ScimGroupWant.org_id == org.id,
                ScimGroupWant.connector == group.connector,
                ScimGroupWant.account == group.account,
                ScimGroupWant.role == group.role,
            )
        )
    )


def add_member(actor: Actor, org: Organisation, group: AccessGroup, user: ScimUser) -> None:
    """Give the Group's role to a member with a profile now; remember it for a pending person."""
    profile = db.session.get(Profile, user.profile_id) if user.profile_id is not None else None
    if profile is None or membership(org.id, profile.id) is None:
        if not any(want.scim_user_id == user.id for want in _wants(org, group)):
            db.session.add(
                ScimGroupWant(
                    org_id=org.id,
                    scim_user_id=user.id,
                    connector=group.connector,
                    account=group.account,
                    role=group.role,
                )
            )
        db.session.commit()
        return
    grant(actor, profile, group)


def grant(actor: Actor, profile: Profile, group: AccessGroup) -> None:
    """The role on the account: a new link, or a higher role on the person's own (never lower,
    never the owner's link changed); audited ``access.granted``, the person told. Commits."""
    link = find_link(profile.id, group.connector, group.account)
    if link is not None and role_allows(link.role, group.role):
        return
    if link is not None:
        change_role(actor, link, group.role)  # a viewer becomes a user (commits)
    else:
        link = ServiceLink(
            profile_id=profile.id,
            connector=group.connector,
            account=group.account,
            label=account_label(group.connector, group.account),
            role=group.role,
        )
        db.session.add(link)
        db.session.flush()
    record(
        "access.granted",
        profile.id,
        actor.id,
        by=actor.kind,
        client=actor.client_id,
        connector=group.connector,
        account=group.account,
        role=group.role,
    )
    db.session.commit()
    if profile.email:
        label = account_label(group.connector, group.account)
        send(
            "access_granted",
            profile.email,
            profile.locale,
            profile.id,
            profile=profile,
            accounts=[label],
            role=group.role,
        )


def remove_member(actor: Actor, org: Organisation, group: AccessGroup, user: ScimUser) -> None:
    """Forget a pending wish, or take the access away with the J8 cascade; raise OrgError (the
    account's owner leaves it only by handing its ownership on)."""
    for want in _wants(org, group):
        if want.scim_user_id == user.id:
            db.session.delete(want)
    db.session.commit()
    link = find_link(user.profile_id, group.connector, group.account) if user.profile_id else None
    if link is None or not _holds(link, group.role):
        return
    revoke_access(actor, link, REMOVED)  # commits; refuses the owner's link


def apply_wants(org_id: int, user: ScimUser, profile: Profile) -> None:
    """The person accepted their invitation: give them the roles the directory put them in."""
    org = db.session.get(Organisation, org_id)
    rows = list(db.session.scalars(db.select(ScimGroupWant).where(ScimGroupWant.scim_user_id == user.id)))
    wanted = [AccessGroup(row.connector, row.account, row.role) for row in rows]
    for row in rows:
        db.session.delete(row)
    db.session.commit()
    still = set(groups_of(org)) if org is not None else set()  # the account may have left meanwhile
    actor = Actor.machine("scim", org_id=org_id)
    for group in wanted:
        if group in still:
            grant(actor, profile, group)
