"""Token revocation (RFC 7009) and introspection (RFC 7662).

Introspection is for confidential clients (resource servers). Revocation also lets a public client
(a browser or mobile app) revoke its own tokens when the person signs out of it, identified by its
``client_id`` as RFC 7009 §2.1 allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint
from sqlalchemy import Connection

from idp.extensions import db
from idp.oauth.clients import CLIENT_AUTH_METHODS
from idp.oauth.models import Client, RefreshToken, epoch, revoke_grant
from idp.oauth.tokens import AccessToken, issuer, load_access_token, revoke_access_token
from idp.security.crypto import token_digest
from idp.timeutil import utcnow


@dataclass
class IssuedRefreshToken:
    """A refresh token found by its value, shaped for Authlib's endpoints."""

    row: RefreshToken

    def check_client(self, client: Client) -> bool:
        return self.row.grant.client_id == client.client_id

    def is_expired(self) -> bool:
        return self.row.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.row.used_at is not None or self.row.grant.revoked_at is not None


def find_token(
    token: str, hint: str | None, connection: Connection | None = None
) -> AccessToken | IssuedRefreshToken | None:
    """Find an access token (a JWT of ours, looked up through ``connection`` when given) or a
    refresh token (by its hash)."""
    if not token or len(token) > 4096:
        return None
    if hint != "refresh_token" and token.count(".") == 2:
        found = load_access_token(token, connection)
        if found is not None:
            return found
    row = db.session.get(RefreshToken, token_digest(token))
    return IssuedRefreshToken(row) if row is not None else None


class RevocationEndpoint(_RevocationEndpoint):
    CLIENT_AUTH_METHODS = [*CLIENT_AUTH_METHODS, "none"]

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        if isinstance(token, IssuedRefreshToken):
            # Revoking a refresh token ends its grant, with the access tokens minted from it.
            revoke_grant(token.row.grant_id, "revoked_by_client")
        else:
            revoke_access_token(token)
        db.session.commit()


class IntrospectionEndpoint(_IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def check_permission(self, token, client, request) -> bool:
        return may_introspect(token, client)

    def introspect_token(self, token) -> dict:
        return introspection(token)


def may_introspect(token: AccessToken | IssuedRefreshToken, client) -> bool:
    """A client may introspect the tokens issued to it or meant for it (its audience)."""
    if isinstance(token, IssuedRefreshToken):
        return token.check_client(client)
    audience = token.claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    return token.check_client(client) or client.client_id in audiences


INTROSPECTED_CLAIMS = (
    "iss",
    "sub",
    "aud",
    "client_id",
    "scope",
    "exp",
    "iat",
    "jti",
    "auth_time",
    "acr",
    "amr",
    "sid",
)


def introspection(token: AccessToken | IssuedRefreshToken) -> dict:
    """What introspection says of an active token (RFC 7662 §2.2)."""
    if isinstance(token, IssuedRefreshToken):
        grant = token.row.grant
        return {
            "active": True,
            "token_type": "refresh_token",
            "iss": issuer(),
            "client_id": grant.client_id,
            "scope": token.row.scope,
            "sub": grant.profile.subject,
            "exp": epoch(token.row.expires_at),
            "iat": epoch(token.row.created_at),
        }
    claims = token.claims
    payload = {"active": True, "token_type": "Bearer"}
    payload.update({key: claims[key] for key in INTROSPECTED_CLAIMS if key in claims})
    return payload
