"""Give a colleague access (J7): an invitation by SMS or e-mail, for accounts, with a role.

The colleague opens the link, signs in or registers their own profile, and must hold the invited
phone number (their profile's, proven by SMS when it was registered) or e-mail address (the link
came to it, so opening it proves the address). Then the access exists. An invitation works once
(a conditional update), expires (``IDP_INVITATION_DAYS`` from its last sending), can be sent again
(a new link; the old one dies) and withdrawn. Sending draws on the SMS and letter budgets.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any, cast

from blinker import Namespace
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import CursorResult

from idp.audit.services import record
from idp.connectors.cabinet import role_name
from idp.connectors.links import find_link, owner_of
from idp.connectors.models import OWNER, USER, ServiceLink, role_allows
from idp.delivery.services import send
from idp.extensions import db
from idp.links import external_url
from idp.orgs.models import Invitation, Organisation
from idp.orgs.services import (
    Actor,
    OrgError,
    _ensure_member,
    account_label,
    account_of,
    grantable_roles,
    may_manage_org,
)
from idp.otp.budgets import PROVEN, spend, spend_letter_budget, spend_machine_invitation
from idp.otp.errors import BudgetExceeded, BudgetUnavailable, OtpError
from idp.profiles.models import Profile
from idp.profiles.services import find_by_phone, find_by_verified_email
from idp.security.crypto import token_digest
from idp.security.emails import normalise_email
from idp.security.phones import InvalidPhone, display_phone, normalize_phone
from idp.timeutil import utcnow

SMS, EMAIL = "sms", "email"
RESEND_SECONDS = 60

# Sent with ``invitation`` and ``profile`` once an invitation is accepted (committed); a directory
# sync (idp.scim) links the person it provisioned to the profile that accepted.
invitation_accepted = Namespace().signal("invitation-accepted")


def read_address(channel: str, text: str) -> str:
    """The invited phone number in E.164 or e-mail address in lower case; raise OrgError."""
    text = (text or "").strip()
    if channel == SMS:
        try:
            return normalize_phone(text)
        except InvalidPhone as exc:
            raise OrgError(_("Enter a valid phone number, e.g. +380 44 123 45 67.")) from exc
    if channel == EMAIL:
        try:
            return normalise_email(validate_email(text, check_deliverability=False).normalized)
        except EmailNotValidError as exc:
            raise OrgError(_("Enter a valid e-mail address.")) from exc
    raise OrgError(_("Choose SMS or e-mail."))


def shown_address(invitation: Invitation) -> str:
    return display_phone(invitation.address) if invitation.channel == SMS else invitation.address


def invite(
    actor: Actor,
    org: Organisation,
    channel: str,
    address_text: str,
    accounts: list[tuple[str, str]],
    role: str,
    locale: str,
    membership_only: bool = False,
) -> Invitation:
    """Invite a colleague to ``accounts`` of ``org`` with ``role``, and send the link; or, with
    ``membership_only`` (a directory's provisioning: no accounts), to the organisation alone."""
    if not org.active:
        raise OrgError(_("This organisation is suspended."))
    address = read_address(channel, address_text)
    if membership_only:
        if accounts or not may_manage_org(actor, org):
            raise OrgError(_("You cannot manage this organisation."))
    else:
        _check_accounts(actor, org, accounts, role)
    _check_invitee(actor, org, channel, address, accounts)
    _spend_budget(actor, channel, address, org.id)
    now = utcnow()
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        org_id=org.id,
        inviter_id=actor.id,
        channel=channel,
        address=address,
        role=role,
        accounts_json=json.dumps([list(pair) for pair in accounts]),
        locale=locale,
        token_hash=token_digest(token),
        created_at=now,
        sent_at=now,
        expires_at=now + _lifetime(),
    )
    db.session.add(invitation)
    db.session.flush()
    record(
        "invitation.created",
        None,
        actor.id,
        by=actor.kind,
        org=org.id,
        invitation=invitation.id,
        channel=channel,
        role=role,
        accounts=[f"{c}:{a}" for c, a in accounts],
    )
    _send(invitation, token)  # commits
    return invitation


def resend(
    actor: Actor, invitation: Invitation, reason: str | None = None, ticket: str | None = None
) -> None:
    """Send the invitation again with a new link (the old one stops working) and a new lifetime;
    ``reason`` and ``ticket`` (the staff console's) go into the audit log."""
    _check_may_handle(actor, invitation)
    if invitation.accepted_at is not None or invitation.withdrawn_at is not None:
        raise OrgError(_("This invitation was already used or withdrawn."))
    wait = RESEND_SECONDS - int((utcnow() - invitation.sent_at).total_seconds())
    if wait > 0:
        raise OrgError(
            _("The invitation was sent a moment ago. You can send it again in %(seconds)s s.", seconds=wait)
        )
    token = secrets.token_urlsafe(32)
    _claim_sending(invitation, token)
    try:
        _spend_budget(actor, invitation.channel, invitation.address, invitation.org_id)
    except OrgError:
        db.session.rollback()  # the claim too: nothing was sent
        raise
    record(
        "invitation.resent",
        None,
        actor.id,
        by=actor.kind,
        org=invitation.org_id,
        invitation=invitation.id,
        **_why(reason, ticket),
    )
    _send(invitation, token)


def _claim_sending(invitation: Invitation, token: str) -> None:
    """Give the invitation its new link and lifetime by an update conditional on its last sending,
    so that of simultaneous resends one goes out and the others are told to wait."""
    now = utcnow()
    result = cast(
        "CursorResult[Any]",
        db.session.execute(
            db.update(Invitation)
            .where(
                Invitation.id == invitation.id,
                Invitation.sent_at == invitation.sent_at,
                Invitation.accepted_at.is_(None),
                Invitation.withdrawn_at.is_(None),
            )
            .values(
                token_hash=token_digest(token),
                sent_at=now,
                expires_at=now + _lifetime(),
                sends=Invitation.sends + 1,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise OrgError(
            _(
                "The invitation was sent a moment ago. You can send it again in %(seconds)s s.",
                seconds=RESEND_SECONDS,
            )
        )
    db.session.refresh(invitation)


def withdraw(
    actor: Actor, invitation: Invitation, reason: str | None = None, ticket: str | None = None
) -> None:
    """Withdraw a pending invitation: its link stops working (``reason`` and ``ticket``: as in
    ``resend``)."""
    _check_may_handle(actor, invitation)
    result = cast(
        "CursorResult[Any]",
        db.session.execute(
            db.update(Invitation)
            .where(
                Invitation.id == invitation.id,
                Invitation.accepted_at.is_(None),
                Invitation.withdrawn_at.is_(None),
            )
            .values(withdrawn_at=utcnow())
        ),
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise OrgError(_("This invitation was already used or withdrawn."))
    record(
        "invitation.withdrawn",
        None,
        actor.id,
        by=actor.kind,
        org=invitation.org_id,
        invitation=invitation.id,
        **_why(reason, ticket),
    )
    db.session.commit()


def _why(reason: str | None, ticket: str | None) -> dict[str, str]:
    """The reason and ticket of an audit record, when given."""
    given = {"reason": " ".join((reason or "").split()), "ticket": (ticket or "").strip()}
    return {key: value for key, value in given.items() if value}


def by_token(token: str) -> Invitation | None:
    """The invitation a link names (its newest link only), whatever its state."""
    if not token or len(token) > 100:
        return None
    found: Invitation | None = db.session.scalar(
        db.select(Invitation).where(Invitation.token_hash == token_digest(token))
    )
    return found


def refusal(invitation: Invitation | None) -> str | None:
    """Why an invitation link cannot be used any more, or None while it can."""
    if invitation is None:
        return _("This invitation link is not valid. It may have been sent again: use the newest message.")
    if invitation.accepted_at is not None:
        return _("This invitation was already used.")
    if invitation.withdrawn_at is not None:
        return _("This invitation was withdrawn. Ask the person who invited you.")
    if invitation.expires_at <= utcnow():
        return _("This invitation has expired. Ask the person who invited you to send it again.")
    if not invitation.organisation.active:
        return _("This organisation is suspended.")
    return None


def holder_refusal(invitation: Invitation, profile: Profile) -> str | None:
    """Why ``profile`` cannot take this invitation (it was sent to another number or address)."""
    if invitation.channel == SMS and profile.phone != invitation.address:
        return _(
            "This invitation was sent to %(address)s, which is not the phone number of your profile. "
            "Sign in with the profile of that number, or register one with it.",
            address=display_phone(invitation.address),
        )
    if invitation.channel == EMAIL:
        if normalise_email(profile.email) != invitation.address:
            return _(
                "This invitation was sent to %(address)s, which is not the e-mail address of your profile. "
                "Sign in with the profile of that address, or register one with it.",
                address=invitation.address,
            )
        owner = find_by_verified_email(invitation.address)
        if owner is not None and owner.id != profile.id:
            return _("Another profile has confirmed this e-mail address.")
    return None


def accept(token: str, profile: Profile) -> Invitation:
    """Take the invitation as ``profile``: the access exists, the inviter is told; raise OrgError."""
    invitation = by_token(token)
    why = refusal(invitation) or (holder_refusal(invitation, profile) if invitation else None)
    if why is not None or invitation is None:
        raise OrgError(why)
    now = utcnow()
    result = cast(
        "CursorResult[Any]",
        db.session.execute(
            db.update(Invitation)
            .where(
                Invitation.id == invitation.id,
                Invitation.token_hash == token_digest(token),
                Invitation.accepted_at.is_(None),
                Invitation.withdrawn_at.is_(None),
                Invitation.expires_at > now,
            )
            .values(accepted_at=now, accepted_by=profile.id)
        ),
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise OrgError(_("This invitation was already used."))
    if invitation.channel == EMAIL and profile.email_verified_at is None:
        profile.email_verified_at = now  # the link came to the address
    _ensure_member(invitation.org_id, profile.id)
    granted = [
        _grant(invitation, profile, connector_id, account) for connector_id, account in invitation.accounts
    ]
    record(
        "invitation.accepted",
        profile.id,
        invitation.inviter_id,
        org=invitation.org_id,
        invitation=invitation.id,
        accounts=[f"{row.connector}:{row.account}" for row in granted],
        role=invitation.role,
    )
    db.session.commit()
    inviter = db.session.get(Profile, invitation.inviter_id) if invitation.inviter_id else None
    if inviter is not None:
        send(
            "invitation_accepted",
            inviter.email,
            inviter.locale,
            inviter.id,
            profile=inviter,
            colleague=profile.full_name,
            organisation=invitation.organisation.name,
            accounts=[row.label for row in granted],
        )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    invitation_accepted.send(app, invitation=invitation, profile=profile)
    return invitation


def pending_of(org: Organisation) -> list[Invitation]:
    """The organisation's invitations not used or withdrawn (expired ones too, to send again)."""
    return list(
        db.session.scalars(
            db.select(Invitation)
            .where(
                Invitation.org_id == org.id,
                Invitation.accepted_at.is_(None),
                Invitation.withdrawn_at.is_(None),
            )
            .order_by(Invitation.id.desc())
        )
    )


def invitations_to(profile: Profile) -> list[Invitation]:
    """Pending invitations to the profile's phone number or e-mail address (the staff console)."""
    return list(
        db.session.scalars(
            db.select(Invitation)
            .where(
                Invitation.address.in_([profile.phone, normalise_email(profile.email)]),
                Invitation.accepted_at.is_(None),
                Invitation.withdrawn_at.is_(None),
            )
            .order_by(Invitation.id.desc())
        )
    )


# --- the checks -------------------------------------------------------------------------------


def _check_accounts(actor: Actor, org: Organisation, accounts: list[tuple[str, str]], role: str) -> None:
    if not accounts:
        raise OrgError(_("Choose at least one account."))
    for connector_id, account in accounts:
        if account_of(org, connector_id, account) is None:
            raise OrgError(_("Account %(account)s is not one of this organisation's.", account=account))
        roles = grantable_roles(actor, connector_id, account)
        if not roles:
            raise OrgError(
                _(
                    "Only the owner of account %(account)s or an administrator can give access to it.",
                    account=account_label(connector_id, account),
                )
            )
        if role not in roles:
            raise OrgError(
                _(
                    "You cannot give the role %(role)s on account %(account)s.",
                    role=role_name(role),
                    account=account_label(connector_id, account),
                )
            )


def _check_invitee(
    actor: Actor, org: Organisation, channel: str, address: str, accounts: list[tuple[str, str]]
) -> None:
    me = actor.profile
    if me is not None and address in (me.phone, normalise_email(me.email)):
        raise OrgError(_("You cannot invite yourself."))
    invitee = find_by_phone(address) if channel == SMS else find_by_verified_email(address)
    if invitee is not None:
        for connector_id, account in accounts:
            if find_link(invitee.id, connector_id, account) is not None:
                raise OrgError(
                    _(
                        "This person already has access to account %(account)s.",
                        account=account_label(connector_id, account),
                    )
                )
    wanted = {f"{c}:{a}" for c, a in accounts}
    for other in pending_of(org):
        if other.address == address and other.pending and wanted & {f"{c}:{a}" for c, a in other.accounts}:
            raise OrgError(
                _("This person is already invited to this account. Send the invitation again instead.")
            )


def _check_may_handle(actor: Actor, invitation: Invitation) -> None:
    """Whoever manages the organisation, or may give access to every account of it, now: an
    inviter who lost that right (an administrator demoted or removed) no longer sends its link."""
    if may_manage_org(actor, invitation.organisation):
        return
    if all(grantable_roles(actor, c, a) for c, a in invitation.accounts):
        return
    raise OrgError(_("You cannot manage this invitation."))


def _spend_budget(actor: Actor, channel: str, address: str, org_id: int) -> None:
    """A person's invitations draw on their SMS and letter budgets; a machine's (the API, SCIM)
    on the organisation's ``IDP_MACHINE_INVITATION_BUDGET``, so that a directory's first sync of
    a few hundred people goes through while no client can send without bound."""
    try:
        if actor.client_id is not None:
            if not spend_machine_invitation(org_id):
                raise BudgetExceeded()
        elif channel == SMS:
            spend(address, PROVEN, actor.id if actor.id is not None else 0)
        elif not spend_letter_budget(f"invitations:{actor.id if actor.id is not None else actor.kind}"):
            raise BudgetExceeded()
    except BudgetExceeded as exc:
        raise OrgError(_("Too many invitations were sent lately. Try again later.")) from exc
    except (BudgetUnavailable, OtpError) as exc:
        raise OrgError(_("We cannot send invitations right now. Try again in a few minutes.")) from exc


def _lifetime() -> timedelta:
    return timedelta(days=current_app.config["IDP_INVITATION_DAYS"])


def _send(invitation: Invitation, token: str) -> None:
    """Send the invitation's link in the language it was made in (this commits)."""
    inviter = invitation.inviter
    context: dict[str, Any] = {
        "url": external_url("orgs.invitation", token=token),
        "inviter": inviter.full_name if inviter is not None else None,
        "organisation": invitation.organisation.name,
        "accounts": [account_label(c, a) for c, a in invitation.accounts],
        "role": invitation.role,
        "days": current_app.config["IDP_INVITATION_DAYS"],
    }
    kind = "invitation_sms" if invitation.channel == SMS else "invitation_email"
    send(kind, invitation.address, invitation.locale, None, **context)


def _grant(invitation: Invitation, profile: Profile, connector_id: str, account: str) -> ServiceLink:
    """The invited access on one account: a new link, or a higher role on the profile's own."""
    role = invitation.role
    if role == OWNER and owner_of(connector_id, account) is not None:
        role = USER  # somebody became its owner meanwhile: there is one owner per account
    row = find_link(profile.id, connector_id, account)
    if row is None:
        row = ServiceLink(
            profile_id=profile.id,
            connector=connector_id,
            account=account,
            label=account_label(connector_id, account),
            role=role,
        )
        db.session.add(row)
    elif not role_allows(row.role, role):
        row.role = role
    db.session.flush()
    record(
        "access.granted",
        profile.id,
        invitation.inviter_id,
        connector=connector_id,
        account=account,
        role=role,
        invitation=invitation.id,
    )
    return row
