"""Access to an organisation's accounts and invitations of colleagues (``/api/v1/organisations/<id>/…``).

Every action goes through the same services as the organisation pages and the staff console
(``idp.orgs.invitations``, ``idp.orgs.revocation``), so a revocation here is the whole J8 cascade.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from idp.api import schemas
from idp.api.auth import Caller
from idp.api.common import known_connector, reachable_org, refusals
from idp.api.operations import Reply, check_if_match, operation
from idp.api.organisations import revocation_data
from idp.api.paging import page_of
from idp.api.problems import Problem, field_problem
from idp.connectors.links import find_link
from idp.connectors.models import ServiceLink
from idp.extensions import db
from idp.links import external_url
from idp.orgs import invitations, models, revocation, services
from idp.profiles.models import Profile
from idp.timeutil import utcnow

TAG = "Access"


def _org_account(caller: Caller, org_id: int, connector_id: str, account: str) -> models.OrgAccount:
    org = reachable_org(caller, org_id)
    row = services.account_of(org, known_connector(connector_id), account)
    if row is None:
        raise Problem(404, _("This account is not one of the organisation's."))
    return row


def access_data(link: ServiceLink) -> dict[str, Any]:
    profile = db.session.get(Profile, link.profile_id)
    return {
        "profile_id": link.profile_id,
        "name": profile.full_name if profile is not None else "",
        "role": link.role,
        "since": link.created_at,
    }


def _link(row: models.OrgAccount, profile_id: int) -> ServiceLink:
    link = find_link(profile_id, row.connector, row.account) if 0 < profile_id < 2**31 else None
    if link is None:
        raise Problem(404, _("This person has no access to the account."))
    return link


ACCOUNT = "/organisations/<int:org_id>/accounts/<connector>/<account>"


@operation(
    "GET",
    ACCOUNT + "/access",
    scope="orgs:read",
    tag=TAG,
    summary="Who holds access to an account",
    response=schemas.AccessList,
)
def list_access(caller: Caller, org_id: int, connector: str, account: str):
    row = _org_account(caller, org_id, connector, account)
    return {"items": [access_data(link) for link in services.access_to(row.connector, row.account)]}


@operation(
    "PATCH",
    ACCOUNT + "/access/<int:profile_id>",
    scope="access:write",
    tag=TAG,
    summary="Change a colleague's role on an account",
    body=schemas.AccessChange,
    response=schemas.Access,
    etag=True,
)
def update_access(caller: Caller, org_id: int, connector: str, account: str, profile_id: int, body):
    """``user`` or ``viewer``; the owner's role changes only by handing the ownership on. Their
    sessions end when the role becomes smaller, so relying services learn it at the next sign-in."""
    link = _link(_org_account(caller, org_id, connector, account), profile_id)
    check_if_match(schemas.Access.model_validate(access_data(link)))
    with refusals():
        revocation.change_role(caller.actor, link, body.role)
    return access_data(link)


@operation(
    "POST",
    ACCOUNT + "/access/<int:profile_id>/revocation",
    scope="access:write",
    tag=TAG,
    summary="Take a colleague's access away",
    body=schemas.Removal,
    response=schemas.Revocation,
)
def revoke_access(caller: Caller, org_id: int, connector: str, account: str, profile_id: int, body):
    """At once, everywhere: their sessions, refresh and access tokens, the relying services'
    back-channel logout, a notice to them and the audit log; optionally a new SIP password."""
    link = _link(_org_account(caller, org_id, connector, account), profile_id)
    with refusals():
        done = revocation.revoke_access(caller.actor, link, body.reason, body.replace_password, body.ticket)
    return revocation_data(done)


@operation(
    "POST",
    ACCOUNT + "/owner",
    scope="access:write",
    tag=TAG,
    summary="Hand the ownership on",
    body=schemas.Transfer,
    response=schemas.AccessList,
)
def transfer_ownership(caller: Caller, org_id: int, connector: str, account: str, body: schemas.Transfer):
    """To another member of the organisation; the old owner keeps access as ``user`` or loses it."""
    row = _org_account(caller, org_id, connector, account)
    new_owner = db.session.get(Profile, body.profile_id)
    if new_owner is None or services.membership(row.org_id, new_owner.id) is None:
        raise field_problem(409, "/profile_id", _("The new owner must be a member of the organisation."))
    with refusals():
        revocation.transfer_ownership(
            caller.actor,
            row.connector,
            row.account,
            new_owner,
            body.previous_owner_keeps,
            body.reason,
            body.ticket,
        )
    return {"items": [access_data(link) for link in services.access_to(row.connector, row.account)]}


# --- invitations ---


def invitation_data(row: models.Invitation) -> dict[str, Any]:
    return {
        "id": row.id,
        "organisation_id": row.org_id,
        "channel": row.channel,
        "address": row.address,
        "role": row.role,
        "accounts": [{"connector": c, "account": a} for c, a in row.accounts],
        "state": row.state,
        "created_at": row.created_at,
        "sent_at": row.sent_at,
        "expires_at": row.expires_at,
        "accepted_by": row.accepted_by,
    }


def _invitation(caller: Caller, org_id: int, invitation_id: int) -> models.Invitation:
    org = reachable_org(caller, org_id)
    row = db.session.get(models.Invitation, invitation_id) if 0 < invitation_id < 2**31 else None
    if row is None or row.org_id != org.id:
        raise Problem(404, _("There is no such invitation."))
    return row


INVITATIONS = "/organisations/<int:org_id>/invitations"


@operation(
    "GET",
    INVITATIONS,
    scope="orgs:read",
    tag=TAG,
    summary="The organisation's invitations",
    query=schemas.InvitationQuery,
    response=schemas.InvitationPage,
)
def list_invitations(caller: Caller, org_id: int, query: schemas.InvitationQuery):
    org = reachable_org(caller, org_id)
    statement = db.select(models.Invitation).where(models.Invitation.org_id == org.id)
    now = utcnow()
    pending = models.Invitation.accepted_at.is_(None) & models.Invitation.withdrawn_at.is_(None)
    if query.state == "accepted":
        statement = statement.where(models.Invitation.accepted_at.is_not(None))
    elif query.state == "withdrawn":
        statement = statement.where(models.Invitation.withdrawn_at.is_not(None))
    elif query.state == "pending":
        statement = statement.where(pending, models.Invitation.expires_at > now)
    elif query.state == "expired":
        statement = statement.where(pending, models.Invitation.expires_at <= now)
    return page_of(statement, models.Invitation.id, query, invitation_data, newest_first=True)


@operation(
    "POST",
    INVITATIONS,
    scope="access:write",
    tag=TAG,
    summary="Invite a colleague",
    body=schemas.NewInvitation,
    response=schemas.Invitation,
    status=201,
)
def create_invitation(caller: Caller, org_id: int, body: schemas.NewInvitation):
    """By SMS or e-mail, to one or more of the organisation's accounts with a role. The colleague
    registers or signs in with their own profile and accepts; the link works once."""
    org = reachable_org(caller, org_id)
    accounts = [(known_connector(item.connector), item.account) for item in body.accounts]
    with refusals():
        row = invitations.invite(
            caller.actor, org, body.channel, body.address, accounts, body.role, body.language
        )
    return Reply(
        invitation_data(row),
        location=external_url("api.get_invitation", org_id=org.id, invitation_id=row.id),
    )


@operation(
    "GET",
    INVITATIONS + "/<int:invitation_id>",
    scope="orgs:read",
    tag=TAG,
    summary="Read an invitation",
    response=schemas.Invitation,
    etag=True,
)
def get_invitation(caller: Caller, org_id: int, invitation_id: int):
    return invitation_data(_invitation(caller, org_id, invitation_id))


@operation(
    "POST",
    INVITATIONS + "/<int:invitation_id>/resend",
    scope="access:write",
    tag=TAG,
    summary="Send an invitation again",
    response=schemas.Invitation,
)
def resend_invitation(caller: Caller, org_id: int, invitation_id: int):
    """With a new link (the old one stops working) and a new lifetime; 60 s apart at least."""
    row = _invitation(caller, org_id, invitation_id)
    with refusals():
        invitations.resend(caller.actor, row)
    return invitation_data(row)


@operation(
    "DELETE",
    INVITATIONS + "/<int:invitation_id>",
    scope="access:write",
    tag=TAG,
    summary="Withdraw an invitation",
    status=204,
)
def withdraw_invitation(caller: Caller, org_id: int, invitation_id: int):
    row = _invitation(caller, org_id, invitation_id)
    with refusals():
        invitations.withdraw(caller.actor, row)
    return Reply(status=204)
