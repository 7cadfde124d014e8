"""Service accounts made by machine (``POST /api/v1/services/<connector>/accounts``): a MultiFon
account provisioned, IP telephony connected — the same services as ``idp multifon provision`` and
``idp iptel connect``, through each connector's provisioning hook (its ``provisioning`` model is
the body, and the OpenAPI document has one path per connector)."""

from __future__ import annotations

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from idp.api import schemas
from idp.api.auth import Caller
from idp.api.common import operator_only, reachable_org, refusals
from idp.api.operations import Reply, operation
from idp.api.organisations import account_data
from idp.api.problems import Problem, field_problem
from idp.api.validation import read_body
from idp.connectors import registry
from idp.connectors.contract import ProvisioningRefused
from idp.orgs import services


class ProvisionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation_id: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The organisation the account belongs to (checked first)."
    )


@operation(
    "POST",
    "/services/<connector>/accounts",
    scope="services:write",
    tag="Services",
    summary="Provision a service account",
    query=ProvisionQuery,
    response=schemas.Account,
    status=201,
    per_connector=True,
)
def provision_account(caller: Caller, connector: str, query: ProvisionQuery):
    """Create the account (or update the one with this number, as the command does). With
    ``organisation_id`` the organisation is checked and the account assigned first, so an unknown
    organisation leaves nothing provisioned."""
    operator_only(caller)
    plugin = registry.get(connector)
    if plugin is None or plugin.provisioning is None:
        raise Problem(404, _("There is no service %(service)s.", service=connector))
    values = read_body(plugin.provisioning)
    org = reachable_org(caller, query.organisation_id) if query.organisation_id else None
    try:
        account = plugin.check_provisioning(values)
        with refusals():
            if org is not None:
                services.assign_account(org, connector, account, caller.actor)
        account = plugin.provision(values)
    except ProvisioningRefused as exc:
        pointer = f"/{exc.field}" if exc.field else "/"
        raise field_problem(422, pointer, exc.message) from exc
    return Reply(account_data(connector, account, org.id if org is not None else None))
