"""The ``services`` claim: every linked account, with its connector, the profile's role on it and
the organisation it belongs to (null for an account without one)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from idp.connectors import registry
from idp.connectors.links import links_of
from idp.extensions import db
from idp.oauth.claims import register_service_accounts
from idp.orgs.models import OrgAccount, Organisation
from idp.profiles.models import Profile


def service_claims(profile: Profile) -> list[dict]:
    """The entries of the ``services`` claim, each completed by its connector's ``claims``."""
    entries = []
    links = links_of(profile.id)
    organisations = _organisations(links)
    for row in links:
        connector = registry.get(row.connector)
        if connector is None:
            continue
        entry: dict[str, Any] = {"connector": row.connector, "account": row.account, "role": row.role}
        org = organisations.get((row.connector, row.account))
        entry["organisation"] = (
            {"id": str(org.id), "name": org.name, "country": org.country, "registration_number": org.number}
            if org is not None
            else None
        )
        entry.update(connector.claims(row))
        entries.append(entry)
    return entries


def _organisations(links) -> dict[tuple[str, str], Organisation]:
    """The organisation of each of these accounts that has one, in one query."""
    if not links:
        return {}
    rows = db.session.execute(
        db.select(OrgAccount.connector, OrgAccount.account, Organisation)
        .join(Organisation, Organisation.id == OrgAccount.org_id)
        .where(OrgAccount.account.in_({row.account for row in links}))
    )
    return {(connector, account): org for connector, account, org in rows}


def init_app(app: Flask) -> None:
    """Fill ``app``'s ``services`` claim from the links of the installed connectors."""
    register_service_accounts(app, service_claims)
