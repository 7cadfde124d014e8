"""What relying services learn about a profile, scope by scope (OpenID Connect Core §5.4).

The ``services`` scope lists the profile's linked service accounts. Service connectors contribute
them by registering a function with ``register_service_accounts``; each returns dicts with the
connector id, the account id and the profile's role on it.
"""

from __future__ import annotations

from collections.abc import Callable

from authlib.oidc.core import UserInfo
from flask import current_app

from idp.oauth.models import epoch
from idp.profiles.models import Profile

ServiceAccounts = Callable[[Profile], list[dict]]
SELECTED = "selected"  # the member of the entry of the account chosen for the grant


def register_service_accounts(app, source: ServiceAccounts) -> None:
    """Let a connector add the profile's accounts of its service to the ``services`` claim."""
    app.extensions.setdefault("idp_service_accounts", []).append(source)


def service_accounts(profile: Profile) -> list[dict]:
    """Every linked service account of the profile, from every connector."""
    accounts: list[dict] = []
    for source in current_app.extensions.get("idp_service_accounts", []):
        accounts.extend(source(profile))
    return accounts


def userinfo(profile: Profile, scope: str, chosen_account: str | None = None) -> UserInfo:
    """The claims of ``scope`` about ``profile``; ``sub`` is opaque and never the phone number.
    ``chosen_account`` ("connector:account", chosen at ``prompt=select_account`` for the grant)
    is marked ``"selected": true`` in the ``services`` claim."""
    scopes = set(scope.split())
    info = UserInfo(sub=profile.subject)
    if "profile" in scopes:
        info.update(
            name=profile.full_name,
            given_name=profile.first_name,
            family_name=profile.last_name,
            locale=profile.locale,
            updated_at=epoch(profile.updated_at),
        )
    if "email" in scopes:
        info.update(email=profile.email, email_verified=profile.email_verified)
    if "phone" in scopes:
        # The number was proven by an SMS code when it was registered or changed.
        info.update(phone_number=profile.phone, phone_number_verified=True)
    if "services" in scopes:
        entries = service_accounts(profile)
        for entry in entries:
            if chosen_account and f"{entry.get('connector')}:{entry.get('account')}" == chosen_account:
                entry[SELECTED] = True
        info["services"] = entries
    return info
