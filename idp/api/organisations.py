"""Organisations, the service accounts they hold and their people (``/api/v1/organisations``)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from idp.api import schemas
from idp.api.auth import Caller
from idp.api.common import known_connector, operator_only, reachable_org, refusals
from idp.api.operations import Reply, check_if_match, operation
from idp.api.paging import page_of
from idp.api.problems import Problem, field_problem
from idp.connectors import registry
from idp.connectors.links import owner_of
from idp.extensions import db
from idp.links import external_url
from idp.orgs import models, revocation, services
from idp.orgs.services import OrgError

TAG = "Organisations"


def organisation_data(org: models.Organisation) -> dict[str, Any]:
    return {
        "id": org.id,
        "country": org.country,
        "registration_number": org.number,
        "number_kind": org.number_kind,
        "name": org.name,
        "status": org.status,
        "created_at": org.created_at,
    }


@operation(
    "GET",
    "/organisations",
    scope="orgs:read",
    tag=TAG,
    summary="List organisations",
    query=schemas.OrganisationQuery,
    response=schemas.OrganisationPage,
)
def list_organisations(caller: Caller, query: schemas.OrganisationQuery):
    """Organisations by id; a bound client sees its own. Filter by country and registration number."""
    statement = db.select(models.Organisation)
    if caller.org_id is not None:
        statement = statement.where(models.Organisation.id == caller.org_id)
    if query.country:
        statement = statement.where(models.Organisation.country == query.country)
    if query.registration_number:
        digits = "".join(ch for ch in query.registration_number if ch.isdigit())
        statement = statement.where(models.Organisation.number == digits)
    return page_of(statement, models.Organisation.id, query, organisation_data)


@operation(
    "POST",
    "/organisations",
    scope="orgs:write",
    tag=TAG,
    summary="Register an organisation",
    body=schemas.NewOrganisation,
    response=schemas.Organisation,
    status=201,
    etag=True,
)
def create_organisation(caller: Caller, body: schemas.NewOrganisation):
    """A business customer by its country and registration number (checked, unique)."""
    operator_only(caller)
    with refusals():
        org = services.create_organisation(body.country, body.registration_number, body.name, caller.actor)
    return Reply(organisation_data(org), location=external_url("api.get_organisation", org_id=org.id))


@operation(
    "GET",
    "/organisations/<int:org_id>",
    scope="orgs:read",
    tag=TAG,
    summary="Read an organisation",
    response=schemas.Organisation,
    etag=True,
)
def get_organisation(caller: Caller, org_id: int):
    return organisation_data(reachable_org(caller, org_id))


@operation(
    "PATCH",
    "/organisations/<int:org_id>",
    scope="orgs:write",
    tag=TAG,
    summary="Rename or suspend",
    body=schemas.OrganisationChange,
    response=schemas.Organisation,
    etag=True,
)
def update_organisation(caller: Caller, org_id: int, body: schemas.OrganisationChange):
    """Change the name, or suspend the organisation and make it active again (the operator's
    clients only). Send ``If-Match`` with the ETag you read to change nothing that changed since."""
    org = reachable_org(caller, org_id)
    check_if_match(schemas.Organisation.model_validate(organisation_data(org)))
    with refusals():
        if body.status is not None and body.status != org.status:
            operator_only(caller)
            services.set_status(org, body.status, caller.actor)
        if body.name is not None:
            services.rename_organisation(org, body.name, caller.actor)
    return organisation_data(org)


# --- accounts ---


def account_data(connector_id: str, account: str, org_id: int | None) -> dict[str, Any]:
    owner = owner_of(connector_id, account)
    return {
        "connector": connector_id,
        "account": account,
        "label": services.account_label(connector_id, account),
        "organisation_id": org_id,
        "owner_profile_id": owner.profile_id if owner is not None else None,
    }


@operation(
    "GET",
    "/organisations/<int:org_id>/accounts",
    scope="orgs:read",
    tag=TAG,
    summary="The organisation's service accounts",
    response=schemas.AccountList,
)
def list_accounts(caller: Caller, org_id: int):
    org = reachable_org(caller, org_id)
    return {"items": [account_data(row.connector, row.account, org.id) for row in services.accounts_of(org)]}


@operation(
    "POST",
    "/organisations/<int:org_id>/accounts",
    scope="services:write",
    tag=TAG,
    summary="Assign a service account to the organisation",
    body=schemas.AccountAssignment,
    response=schemas.Account,
    status=201,
)
def assign_account(caller: Caller, org_id: int, body: schemas.AccountAssignment):
    """The account (as the service writes it: a MultiFon number in any usual format) belongs to the
    organisation from now on; people who already hold access to it become its members."""
    operator_only(caller)
    org = reachable_org(caller, org_id)
    connector = registry.get(known_connector(body.connector))
    account = connector.normalise_login(body.account) if connector is not None else None
    if not account:
        raise field_problem(422, "/account", _("This is not an account of this service."))
    with refusals():
        services.assign_account(org, body.connector, account, caller.actor)
    return account_data(body.connector, account, org.id)


# --- people ---


def member_data(row: models.Membership) -> dict[str, Any]:
    profile = row.profile
    return {
        "profile_id": profile.id,
        "name": profile.full_name,
        "phone_number": profile.phone,
        "email": profile.email if profile.email_verified else None,
        "role": row.role,
        "since": row.created_at,
    }


def _member(org: models.Organisation, profile_id: int) -> models.Membership:
    row = services.membership(org.id, profile_id) if 0 < profile_id < 2**31 else None
    if row is None:
        raise Problem(404, _("This person is not a member of the organisation."))
    return row


@operation(
    "GET",
    "/organisations/<int:org_id>/members",
    scope="orgs:read",
    tag=TAG,
    summary="The organisation's people",
    query=schemas.MemberQuery,
    response=schemas.MemberPage,
)
def list_members(caller: Caller, org_id: int, query: schemas.MemberQuery):
    """In the order they joined, a page at a time."""
    org = reachable_org(caller, org_id)
    statement = db.select(models.Membership).where(models.Membership.org_id == org.id)
    return page_of(statement, models.Membership.id, query, member_data)


@operation(
    "PATCH",
    "/organisations/<int:org_id>/members/<int:profile_id>",
    scope="orgs:write",
    tag=TAG,
    summary="Change a member's role in the organisation",
    body=schemas.MemberChange,
    response=schemas.Member,
    etag=True,
)
def update_member(caller: Caller, org_id: int, profile_id: int, body: schemas.MemberChange):
    org = reachable_org(caller, org_id)
    row = _member(org, profile_id)
    check_if_match(schemas.Member.model_validate(member_data(row)))
    with refusals():
        services.set_member_role(caller.actor, org, row, body.role)
    return member_data(row)


@operation(
    "POST",
    "/organisations/<int:org_id>/members/<int:profile_id>/removal",
    scope="access:write",
    tag=TAG,
    summary="Remove a person from the organisation",
    body=schemas.Removal,
    response=schemas.Revocation,
)
def remove_member(caller: Caller, org_id: int, profile_id: int, body: schemas.Removal):
    """Every access of theirs to the organisation's accounts ends at once, with their sessions,
    tokens and the relying services' back-channel logout (the same cascade as the pages)."""
    org = reachable_org(caller, org_id)
    row = _member(org, profile_id)
    with refusals():
        done = revocation.remove_member(
            caller.actor, org, row, body.reason, body.replace_password, body.ticket
        )
    return revocation_data(done)


def revocation_data(done: revocation.Revoked) -> dict[str, Any]:
    return {
        "accounts": done.accounts,
        "sessions_ended": done.sessions_ended,
        "passwords_replaced": done.passwords_replaced,
    }


__all__ = ["OrgError", "organisation_data"]
