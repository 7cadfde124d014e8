"""Taking access away at once, everywhere (J8), handing an account's ownership on, and disabling
a profile.

A revocation is one transaction: the access goes; every browser session of the person ends; every
grant of theirs is revoked, so refresh tokens die and their access tokens fail introspection and
userinfo from the commit on (each token names its grant); a back-channel logout for every relying
service that registered one, and a notice to the person, are queued in the delivery outbox with
it (the worker delivers and retries them); the audit log says who, whom, what and why. Their next
sign-in anywhere gets the ``services`` claim without the account. Optionally the SIP password of
each account they could use is replaced and delivered to the account's holder by its connector.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import has_request_context
from flask_babel import gettext as _

from idp.audit.services import record
from idp.auth import recovery_codes, totp
from idp.connectors import registry
from idp.connectors.links import find_link, owner_of
from idp.connectors.models import OWNER, USER, ServiceLink
from idp.delivery.services import send
from idp.extensions import db
from idp.oauth.backchannel import revoke_all
from idp.orgs.models import MANAGER, ORG_OWNER, SECURITY, Membership, Organisation
from idp.orgs.services import (
    Actor,
    OrgError,
    account_label,
    accounts_of,
    may_manage_account,
    may_manage_org,
    membership,
    organisation_of,
)
from idp.profiles.models import Profile
from idp.sessions.services import current_session_row, end_sessions
from idp.timeutil import utcnow

REASON_LIMIT = 500


@dataclass
class Revoked:
    """What a revocation did, for the page or command that asked for it."""

    accounts: list[str] = field(default_factory=list)  # the accounts' labels
    sessions_ended: int = 0
    passwords_replaced: list[str] = field(default_factory=list)  # labels of accounts re-keyed
    to_rekey: list[tuple[str, str]] = field(default_factory=list)  # (connector, account), after the commit


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise OrgError(_("Say why access is taken away: it goes into the audit log."))
    return reason[:REASON_LIMIT]


def revoke_access(
    actor: Actor, link: ServiceLink, reason: str, replace_password: bool = False, ticket: str | None = None
) -> Revoked:
    """Take one person's access to one account away, with the whole cascade."""
    reason = _clean_reason(reason)
    if not may_manage_account(actor, link.connector, link.account):
        raise OrgError(_("You cannot manage access to this account."))
    if link.role == OWNER and not _may_take_ownership(actor, link):
        raise OrgError(_("The owner's access can only be ended by handing the ownership to somebody else."))
    if actor.profile is not None and link.profile_id == actor.profile.id:
        raise OrgError(_("You cannot take away your own access."))
    profile = db.session.get(Profile, link.profile_id)
    assert profile is not None
    done = Revoked()
    _end_link(actor, link, reason, ticket, done, replace_password)
    _end_everything(profile, "access_revoked", done)
    record(
        "access.revoked",
        profile.id,
        actor.id,
        by=actor.kind,
        connector=link.connector,
        account=link.account,
        reason=reason,
        ticket=ticket,
        sessions_ended=done.sessions_ended,
        replace_password=bool(done.to_rekey),
    )
    _notify(profile, done)  # commits the whole revocation with the notice
    _replace_passwords(actor, done)
    return done


def remove_member(
    actor: Actor,
    org: Organisation,
    member: Membership,
    reason: str,
    replace_password: bool = False,
    ticket: str | None = None,
) -> Revoked:
    """Remove a person from an organisation: every access of theirs to its accounts goes too."""
    reason = _clean_reason(reason)
    if member.org_id != org.id or not may_manage_org(actor, org):
        raise OrgError(_("You cannot manage this organisation."))
    if actor.profile is not None and member.profile_id == actor.profile.id:
        raise OrgError(_("You cannot remove yourself from the organisation."))
    if member.role == ORG_OWNER and not actor.operator_side:
        raise OrgError(_("The organisation's owner can only be removed by the operator."))
    profile = member.profile
    held = [find_link(profile.id, row.connector, row.account) for row in accounts_of(org)]
    links = [row for row in held if row is not None]
    _refuse_owned(actor, links)
    done = Revoked()
    for row in links:
        _end_link(actor, row, reason, ticket, done, replace_password)
    db.session.delete(member)
    _end_everything(profile, "access_revoked", done)
    record(
        "org.member_removed",
        profile.id,
        actor.id,
        by=actor.kind,
        org=org.id,
        accounts=len(done.accounts),
        reason=reason,
        ticket=ticket,
        sessions_ended=done.sessions_ended,
    )
    _notify(profile, done, org)
    _replace_passwords(actor, done)
    return done


def transfer_ownership(
    actor: Actor,
    connector_id: str,
    account: str,
    new_owner: Profile,
    old_owner_keeps: bool,
    reason: str,
    ticket: str | None = None,
) -> None:
    """Make ``new_owner`` the account's owner (an owner who leaves the company): the old owner's
    access becomes ``user`` (``old_owner_keeps``) or ends with the whole cascade. Only whoever
    manages the account's organisation (or the operator) hands ownership on."""
    reason = _clean_reason(reason)
    org = organisation_of(connector_id, account)
    if not actor.operator_side and (org is None or not may_manage_org(actor, org)):
        raise OrgError(_("Only an administrator of the account's organisation can hand its ownership on."))
    if org is not None and membership(org.id, new_owner.id) is None:
        raise OrgError(_("The new owner must be a member of the organisation."))
    old = owner_of(connector_id, account)
    if old is not None and old.profile_id == new_owner.id:
        raise OrgError(_("This person already owns the account."))
    done = Revoked()
    old_profile = db.session.get(Profile, old.profile_id) if old is not None else None
    if old is not None:
        if old_owner_keeps:
            old.role = USER
        else:
            _end_link(actor, old, reason, ticket, done, replace_password=False)
        db.session.flush()  # one owner per account: the old one steps down first
    target = find_link(new_owner.id, connector_id, account)
    if target is None:
        target = ServiceLink(
            profile_id=new_owner.id,
            connector=connector_id,
            account=account,
            label=account_label(connector_id, account),
        )
        db.session.add(target)
    target.role = OWNER
    # The old owner's tokens carried the old role: they end, but for the session of an old owner
    # who hands the account on themselves (an administrator of its organisation).
    keep = _own_session(actor, old_profile)
    if old_profile is not None and not old_owner_keeps:
        _end_everything(old_profile, "access_revoked", done, keep)
    elif old_profile is not None:
        _end_everything(old_profile, "role_changed", done, keep)
    record(
        "access.ownership_transferred",
        new_owner.id,
        actor.id,
        by=actor.kind,
        connector=connector_id,
        account=account,
        previous_owner=old.profile_id if old is not None else None,
        previous_owner_keeps=old_owner_keeps,
        reason=reason,
        ticket=ticket,
    )
    db.session.commit()
    if old_profile is not None and not old_owner_keeps:
        _notify(old_profile, done)
    send(
        "access_granted",
        new_owner.email,
        new_owner.locale,
        new_owner.id,
        profile=new_owner,
        accounts=[account_label(connector_id, account)],
        role=OWNER,
    )


def change_role(actor: Actor, link: ServiceLink, role: str) -> None:
    """Give a colleague another role on an account (not ``owner``: that is a transfer). Their
    sessions and tokens end, so relying services learn the new role at the next sign-in."""
    if role == OWNER or role not in (USER, "viewer"):
        raise OrgError(_("Hand the ownership on instead."))
    if not may_manage_account(actor, link.connector, link.account):
        raise OrgError(_("You cannot manage access to this account."))
    if link.role == OWNER:
        raise OrgError(_("The owner's role changes only when the ownership is handed on."))
    if actor.profile is not None and link.profile_id == actor.profile.id:
        raise OrgError(_("You cannot change your own role."))
    if link.role == role:
        return
    before = link.role
    link.role = role
    profile = db.session.get(Profile, link.profile_id)
    assert profile is not None
    if before == USER:  # less than before: nothing granted with the old role may go on
        _end_everything(profile, "role_changed", Revoked())
    record(
        "access.role_changed",
        link.profile_id,
        actor.id,
        by=actor.kind,
        connector=link.connector,
        account=link.account,
        before=before,
        after=role,
    )
    db.session.commit()


def end_all_sessions(actor: Actor, profile: Profile, reason: str, ticket: str | None = None) -> int:
    """The staff console's "end sessions": every browser session and grant of a profile."""
    reason = _clean_reason(reason)
    if actor.profile is not None and actor.staff_role not in (MANAGER, SECURITY):
        raise OrgError(_("Only the operator's managers and security staff can end a person's sessions."))
    done = Revoked()
    _end_everything(profile, "ended_by_staff", done)
    record(
        "staff.sessions_ended",
        profile.id,
        actor.id,
        by=actor.kind,
        reason=reason,
        ticket=ticket,
        sessions_ended=done.sessions_ended,
    )
    db.session.commit()
    return done.sessions_ended


def disable_profile(actor: Actor, profile: Profile, reason: str, ticket: str | None = None) -> Revoked:
    """Disable a profile (security staff, the command line): it cannot sign in until it is
    enabled again, and every session and grant of it ends now. Its access to accounts is kept
    for when it is enabled, but no session can use it meanwhile."""
    reason = _clean_reason(reason)
    if actor.profile is not None and actor.staff_role != SECURITY:
        raise OrgError(_("Only the operator's security staff can disable a profile."))
    if actor.profile is not None and actor.profile.id == profile.id:
        raise OrgError(_("You cannot disable your own profile."))
    done = Revoked()
    profile.disabled_at = utcnow()
    _end_everything(profile, "profile_disabled", done)
    record(
        "profile.disabled",
        profile.id,
        actor.id,
        by=actor.kind,
        reason=reason,
        ticket=ticket,
        sessions_ended=done.sessions_ended,
    )
    db.session.commit()
    return done


def enable_profile(actor: Actor, profile: Profile, reason: str, ticket: str | None = None) -> None:
    reason = _clean_reason(reason)
    if actor.profile is not None and actor.staff_role != SECURITY:
        raise OrgError(_("Only the operator's security staff can enable a profile."))
    profile.disabled_at = None
    record("profile.enabled", profile.id, actor.id, by=actor.kind, reason=reason, ticket=ticket)
    db.session.commit()


def reset_second_factor(actor: Actor, profile: Profile, reason: str, ticket: str | None = None) -> None:
    """Turn off a profile's second factors and recovery codes after the staff member checked who
    is asking (the console asks them to confirm it); the person is told by e-mail."""
    reason = _clean_reason(reason)
    if actor.profile is not None and actor.staff_role != SECURITY:
        raise OrgError(_("Only the operator's security staff can reset a second factor."))
    profile.sms_2fa_enabled = False
    totp.disable(profile)
    recovery_codes.discard(profile)
    done = Revoked()
    _end_everything(profile, "second_factor_reset", done)
    record("two_factor.reset_by_staff", profile.id, actor.id, by=actor.kind, reason=reason, ticket=ticket)
    db.session.commit()
    send("two_factor_changed", profile.email, profile.locale, profile.id, profile=profile)


# --- the steps --------------------------------------------------------------------------------


def _may_take_ownership(actor: Actor, link: ServiceLink) -> bool:
    """An owner's access is ended only by the operator's side (a transfer is the customer's way)."""
    return actor.operator_side


def _refuse_owned(actor: Actor, links: list[ServiceLink]) -> None:
    """An account's owner leaves it by a transfer of its ownership, as ``revoke_access`` says;
    only the operator's side ends an owner's access outright."""
    owned = [row for row in links if row.role == OWNER and not _may_take_ownership(actor, row)]
    if owned:
        raise OrgError(
            _(
                "This person owns account %(account)s: hand its ownership on to somebody else first.",
                account=account_label(owned[0].connector, owned[0].account),
            )
        )


def _end_link(
    actor: Actor, link: ServiceLink, reason: str, ticket: str | None, done: Revoked, replace_password: bool
) -> None:
    """Delete one link (its connector is told), and replace the account's SIP password if asked."""
    connector = registry.get(link.connector)
    label = account_label(link.connector, link.account)
    if connector is not None:
        connector.link_revoked(link)
        if replace_password:
            done.to_rekey.append((link.connector, link.account))
    record(
        "service.unlinked",
        link.profile_id,
        actor.id,
        connector=link.connector,
        account=link.account,
        reason="access_revoked",
        why=reason,
        ticket=ticket,
    )
    db.session.delete(link)
    done.accounts.append(label)


def _replace_passwords(actor: Actor, done: Revoked) -> None:
    """After the revocation is committed: have each connector replace the SIP password of the
    accounts asked for and deliver it to the account (the connectors commit their own work)."""
    for connector_id, account in done.to_rekey:
        connector = registry.get(connector_id)
        if connector is not None and connector.replace_password(account):
            done.passwords_replaced.append(account_label(connector_id, account))
            record("access.sip_password_replaced", None, actor.id, connector=connector_id, account=account)
            db.session.commit()


def _own_session(actor: Actor, profile: Profile | None) -> int | None:
    """The browser session of the actor, when ``profile`` is the actor's own (kept going)."""
    row = current_session_row() if has_request_context() else None
    if profile is None or actor.profile is None or actor.profile.id != profile.id or row is None:
        return None
    return row.id


def _end_everything(
    profile: Profile, grant_reason: str, done: Revoked, keep_session: int | None = None
) -> None:
    """Revoke every grant (offline ones too) for ``grant_reason`` and tell each relying service,
    then end every session (but ``keep_session`` and its grants)."""
    revoke_all(profile.id, grant_reason, keep_session)
    done.sessions_ended += end_sessions(profile.id, keep_id=keep_session)


def _notify(profile: Profile, done: Revoked, org: Organisation | None = None) -> None:
    """Tell the person their access was taken away (this commits the revocation with the notice)."""
    if not done.accounts and org is None:
        db.session.commit()
        return
    send(
        "access_revoked",
        profile.email,
        profile.locale,
        profile.id,
        profile=profile,
        accounts=done.accounts,
        organisation=org.name if org is not None else None,
    )
