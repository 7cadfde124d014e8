"""Who calls the provisioning API: a client with an access token from ``client_credentials``.

The token must be this provider's, unexpired, not revoked, and a client's own (a person's token,
from a sign-in, never reaches the API). Each operation names the scope it needs; a client bound to
an organisation (``idp clients create --org``) acts on that organisation alone. Calls are counted
per client against ``IDP_API_LIMIT_CLIENT`` with the limiter's atomic hit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app, request
from flask_babel import gettext as _
from limits import parse_many

from idp.api.problems import Problem
from idp.extensions import limiter
from idp.metrics.counters import count_throttled
from idp.oauth.client_cache import ClientSnapshot
from idp.oauth.tokens import load_access_token
from idp.orgs.services import Actor

# The admin scopes a provisioning client may be given (``--scope``); each operation needs one.
SCOPES = {
    "orgs:read": "Read organisations, their accounts, people and invitations.",
    "orgs:write": "Create and update organisations and their people's roles.",
    "services:write": "Provision service accounts and assign them to organisations.",
    "access:write": "Invite colleagues, take access away, hand ownership over.",
    "profiles:read": "Find profiles by phone number or e-mail address.",
    "profiles:disable": "Disable and enable profiles, end their sessions.",
    "audit:read": "Read the audit log.",
}


@dataclass(frozen=True)
class Caller:
    """The client behind an API call and the scopes its token carries."""

    client: ClientSnapshot
    scopes: frozenset[str]

    @property
    def actor(self) -> Actor:
        return Actor.machine(self.client.client_id, self.client.org_id)

    @property
    def org_id(self) -> int | None:
        """The one organisation a bound client may act on (None: any)."""
        return self.client.org_id

    def may_see(self, org_id: int | None) -> bool:
        return self.client.org_id is None or self.client.org_id == org_id


def _unauthenticated(reason: str) -> Problem:
    return Problem(
        401,
        _("Send a valid access token: Authorization: Bearer <token>."),
        headers={
            "WWW-Authenticate": f'Bearer realm="api", error="invalid_token", error_description="{reason}"'
        },
    )


def authenticate() -> Caller:
    """The caller of this request, or a 401 problem."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, headers={"WWW-Authenticate": 'Bearer realm="api"'})
    found = load_access_token(token.strip())
    if found is None or not found.active:
        raise _unauthenticated("the token is invalid, expired or revoked")
    if found.profile_id is not None or "gid" in found.claims:
        raise _unauthenticated("a person's token cannot call the provisioning API")
    caller = Caller(found.client, frozenset(found.scope.split()))
    _count(caller)
    return caller


def require(caller: Caller, scope: str) -> None:
    """Refuse the call unless the token carries ``scope``."""
    if scope not in caller.scopes:
        raise Problem(
            403,
            _("This call needs the scope %(scope)s.", scope=scope),
            headers={"WWW-Authenticate": f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'},
        )


def _count(caller: Caller) -> None:
    """One call against the client's limits; 429 with Retry-After when one is spent."""
    strategy = limiter.limiter
    for item in parse_many(current_app.config["IDP_API_LIMIT_CLIENT"]):
        if not strategy.hit(item, "api", caller.client.client_id):
            reset, _remaining = strategy.get_window_stats(item, "api", caller.client.client_id)
            wait = max(1, int(reset - time.time()))
            count_throttled("api_client")
            raise Problem(429, headers={"Retry-After": str(wait)})
