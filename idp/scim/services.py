"""What a directory's provisioning does to the organisation: a SCIM User becomes a member when the
person registers their own profile and accepts the invitation sent to them; ``active: false``
and DELETE remove them with the whole J8 cascade; ``active: true`` again restores the membership
(not the sessions or tokens that were revoked, nor the access to accounts).

Every function acts as the organisation's SCIM token (``Actor.machine("scim:<id>", org_id)``), and
a refusal of the organisation's services (the owner cannot be removed by a directory) comes back
as an ``OrgError``, which the storage turns into a SCIM error.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from idp.audit.services import record
from idp.config import LANGUAGES
from idp.extensions import db
from idp.orgs import invitations
from idp.orgs.models import ORG_MEMBER, Invitation, Organisation
from idp.orgs.revocation import remove_member
from idp.orgs.services import Actor, OrgError, add_member, membership
from idp.profiles.models import Profile
from idp.profiles.services import find_by_phone, find_by_verified_email
from idp.scim import groups
from idp.scim.models import ScimUser

DEPROVISIONED = "SCIM: deprovisioned by the directory"


def actor_of(token_id: int, org_id: int) -> Actor:
    """Who a SCIM request acts as: the organisation's token, bound to the organisation."""
    return Actor.machine(f"scim:{token_id}", org_id=org_id)


def contact_of(resource: dict[str, Any]) -> list[tuple[str, str]]:
    """Where to send the invitation, best first: the phone numbers (mobile, primary first), then
    the e-mail addresses (work, primary first) and the userName when it is an address."""
    phones = sorted(
        resource.get("phoneNumbers") or [],
        key=lambda p: (p.get("type") != "mobile", not p.get("primary"), p.get("type") != "work"),
    )
    emails = sorted(
        resource.get("emails") or [], key=lambda e: (e.get("type") != "work", not e.get("primary"))
    )
    found = [(invitations.SMS, str(p["value"])) for p in phones if p.get("value")]
    found += [(invitations.EMAIL, str(e["value"])) for e in emails if e.get("value")]
    user_name = str(resource.get("userName") or "")
    if "@" in user_name:
        found.append((invitations.EMAIL, user_name))
    return found


def _locale(resource: dict[str, Any]) -> str:
    for key in ("preferredLanguage", "locale"):
        code = str(resource.get(key) or "").replace("_", "-").split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return str(current_app.config["IDP_DEFAULT_LOCALE"])


def _member_with(org: Organisation, contacts: list[tuple[str, str]]) -> Profile | None:
    """A member of ``org`` already holding one of the phone numbers or confirmed addresses."""
    for channel, text in contacts:
        try:
            address = invitations.read_address(channel, text)
        except OrgError:
            continue
        profile = find_by_phone(address) if channel == invitations.SMS else find_by_verified_email(address)
        if profile is not None and membership(org.id, profile.id) is not None:
            return profile
    return None


def provision(actor: Actor, org: Organisation, user: ScimUser, resource: dict[str, Any]) -> None:
    """A new SCIM User (added to the session, not committed): link it to the member who already
    holds its phone number or address, or invite the person; this commits."""
    known = _member_with(org, contact_of(resource))
    if known is not None:
        user.profile_id = known.id
        record("scim.user_linked", known.id, actor.id, by=actor.kind, org=org.id, scim_user=user.id)
    elif user.active:
        ensure_invited(actor, org, user, resource)
    db.session.commit()


def ensure_invited(actor: Actor, org: Organisation, user: ScimUser, resource: dict[str, Any]) -> None:
    """Invite an active person who has not joined and has no pending invitation, by the first
    valid phone number or address; one without either waits until the directory gives one."""
    if not user.active or user.profile_id is not None:
        return
    invitation = db.session.get(Invitation, user.invitation_id) if user.invitation_id else None
    if invitation is not None and (invitation.pending or invitation.accepted_at is not None):
        return
    for channel, text in contact_of(resource):
        try:
            invitations.read_address(channel, text)
        except OrgError:
            continue
        locale = _locale(resource)
        made = invitations.invite(actor, org, channel, text, [], "user", locale, membership_only=True)
        user.invitation_id = made.id
        return


def deactivate(actor: Actor, org: Organisation, user: ScimUser) -> None:
    """``active: false`` or DELETE: the person leaves the organisation with the J8 cascade, or
    their pending invitation is withdrawn; raise OrgError (the owner, an account owner)."""
    member = membership(org.id, user.profile_id) if user.profile_id is not None else None
    if member is not None:
        remove_member(actor, org, member, DEPROVISIONED)  # commits
    elif user.invitation_id is not None:
        invitation = db.session.get(Invitation, user.invitation_id)
        if invitation is not None and invitation.accepted_at is None and invitation.withdrawn_at is None:
            invitations.withdraw(actor, invitation, reason=DEPROVISIONED)  # commits


def reactivate(actor: Actor, org: Organisation, user: ScimUser) -> None:
    """``active: true`` again: a person who had joined is a member again (their revoked sessions
    and tokens stay revoked); one who had not is invited again by the storage (``ensure_invited``)."""
    if user.profile_id is None:
        return
    profile = db.session.get(Profile, user.profile_id)
    if profile is not None and membership(org.id, profile.id) is None:
        add_member(org, profile, ORG_MEMBER, actor)  # commits


def link_on_accept(app: Flask, invitation: Invitation, profile: Profile, **_extra: Any) -> None:
    """The person accepted the invitation the directory sent: the SCIM User is theirs now, with
    the roles the directory's Groups gave them meanwhile."""
    user = db.session.scalar(db.select(ScimUser).where(ScimUser.invitation_id == invitation.id))
    if user is None:
        return
    user.profile_id = profile.id
    record("scim.user_linked", profile.id, None, org=user.org_id, scim_user=user.id)
    db.session.commit()
    groups.apply_wants(user.org_id, user, profile)


def init_app(app: Flask) -> None:
    """Link SCIM Users to the profiles that accept their invitations."""
    invitations.invitation_accepted.connect(link_on_accept, sender=app, weak=False)
