"""What the API's views share: the organisation a call may reach, and services' refusals as problems."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask_babel import gettext as _

from idp.api.auth import Caller
from idp.api.problems import Problem, field_problem
from idp.connectors import registry
from idp.orgs.models import Organisation
from idp.orgs.numbers import InvalidNumber
from idp.orgs.services import OrgError, get_organisation


def reachable_org(caller: Caller, org_id: int) -> Organisation:
    """The organisation, or a 404 (also for another organisation's client: it learns nothing)."""
    org = get_organisation(org_id) if 0 < org_id < 2**31 else None
    if org is None or not caller.may_see(org.id):
        raise Problem(404, _("There is no organisation %(ref)s.", ref=org_id))
    return org


def known_connector(connector_id: str) -> str:
    if registry.get(connector_id) is None:
        raise Problem(404, _("There is no service %(service)s.", service=connector_id))
    return connector_id


def operator_only(caller: Caller) -> None:
    """Refuse a client bound to one organisation an operator's action."""
    if caller.org_id is not None:
        raise Problem(403, _("A client bound to an organisation cannot do this."))


@contextmanager
def refusals() -> Iterator[None]:
    """A service's refusal (OrgError, an invalid number) becomes a problem with its message."""
    try:
        yield
    except InvalidNumber as exc:
        raise field_problem(422, "/registration_number", str(exc)) from exc
    except OrgError as exc:
        raise Problem(409, str(exc)) from exc
