"""The ``services`` claim: every linked account, with its connector and the profile's role."""

from __future__ import annotations

from flask import Flask

from idp.connectors import registry
from idp.connectors.links import links_of
from idp.oauth.claims import register_service_accounts
from idp.profiles.models import Profile


def service_claims(profile: Profile) -> list[dict]:
    """The entries of the ``services`` claim, each completed by its connector's ``claims``."""
    entries = []
    for row in links_of(profile.id):
        connector = registry.get(row.connector)
        if connector is None:
            continue
        entry = {"connector": row.connector, "account": row.account, "role": row.role}
        entry.update(connector.claims(row))
        entries.append(entry)
    return entries


def init_app(app: Flask) -> None:
    """Fill ``app``'s ``services`` claim from the links of the installed connectors."""
    register_service_accounts(app, service_claims)
