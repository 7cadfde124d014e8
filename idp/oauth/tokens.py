"""The JWTs this provider signs and reads back: access tokens (RFC 9068) and logout tokens.

Access tokens are self-contained so resource servers can verify them with the JWKS alone; the
provider itself (userinfo, introspection) also checks they were not revoked: neither the token
(RFC 7009) nor the grant it belongs to (logout, refresh-token reuse, the profile revoking access).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy.orm import joinedload

from idp.extensions import db
from idp.oauth.keys import signing_key, verification_keys
from idp.oauth.models import Client, Grant, RevokedAccessToken
from idp.profiles.models import Profile

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a JWT type
ID_TOKEN_TYPE = "JWT"  # noqa: S105 - the plain type tells ID tokens from access and logout tokens
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105 - a JWT type
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ALGORITHMS = ["ES256", "RS256"]


def issuer() -> str:
    return current_app.config["IDP_ISSUER"].rstrip("/")


def sign(claims: dict[str, Any], typ: str | None = None) -> str:
    """Sign ``claims`` with the current key; the header names the key (kid) and the type."""
    kid, alg, key = signing_key()
    header = {"alg": alg, "kid": kid}
    if typ:
        header["typ"] = typ
    return jwt.encode(header, claims, key, algorithms=[alg])


def read(token: str, typ: str | None = None) -> dict[str, Any] | None:
    """Return the claims of a token this provider signed, or None (bad signature, type, issuer)."""
    try:
        decoded = jwt.decode(token, verification_keys(), algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError):
        return None
    if typ is not None and decoded.header.get("typ") != typ:
        return None
    claims = dict(decoded.claims)
    if claims.get("iss") != issuer():
        return None
    return claims


def new_access_token(client: Client, scope: str, subject: Any | None) -> str:
    """Mint an RFC 9068 access token for ``client``; ``subject`` is an AuthorizedProfile or None."""
    now = int(time.time())
    claims = {
        "iss": issuer(),
        "iat": now,
        "exp": now + access_token_seconds(),
        "jti": secrets.token_urlsafe(16),
        "client_id": client.client_id,
        "aud": client.client_id,
        "scope": scope,
        "sub": client.client_id,
    }
    if subject is not None:
        claims.update(
            sub=subject.profile.subject,
            gid=subject.grant_id,
            auth_time=subject.auth_time,
            acr=subject.acr,
            amr=subject.amr,
        )
        if subject.sid:
            claims["sid"] = subject.sid
    return sign(claims, ACCESS_TOKEN_TYPE)


def access_token_seconds() -> int:
    return current_app.config["IDP_ACCESS_TOKEN_MINUTES"] * 60


@dataclass
class AccessToken:
    """A verified access token, shaped as Authlib's resource protector expects."""

    claims: dict[str, Any]
    client: Client
    profile: Profile | None
    revoked: bool = False
    service_account: str | None = None  # chosen at ``prompt=select_account`` ("connector:account")
    scope: str = field(init=False)

    def __post_init__(self):
        self.scope = self.claims.get("scope", "")

    def get_scope(self) -> str:
        return self.scope

    def check_client(self, client) -> bool:
        return client.client_id == self.client.client_id

    def get_client(self) -> Client:
        return self.client

    def get_user(self) -> Profile | None:
        return self.profile

    def get_expires_in(self) -> int:
        return max(0, self.claims["exp"] - int(time.time()))

    def is_expired(self) -> bool:
        return self.claims["exp"] <= int(time.time())

    def is_revoked(self) -> bool:
        return self.revoked

    @property
    def active(self) -> bool:
        return not self.revoked and not self.is_expired()


def load_access_token(token: str) -> AccessToken | None:
    """Verify an access token and look up whether it still stands; None when it is not ours."""
    claims = read(token, ACCESS_TOKEN_TYPE)
    if claims is None or not isinstance(claims.get("exp"), int):
        return None
    # A user's token: its grant, client and profile in one query. A client's own token: the client.
    grant = (
        db.session.get(Grant, claims["gid"], options=[joinedload(Grant.profile)]) if "gid" in claims else None
    )
    client = (
        grant.client
        if grant is not None
        else db.session.scalar(db.select(Client).where(Client.client_id == claims.get("client_id")))
    )
    if client is None or client.client_id != claims.get("client_id"):
        return None
    revoked = db.session.get(RevokedAccessToken, claims.get("jti", "")) is not None
    if "gid" in claims:
        revoked = revoked or grant is None or grant.revoked_at is not None
    profile = grant.profile if grant is not None else None
    return AccessToken(claims, client, profile, revoked, grant.service_account if grant is not None else None)


def revoke_access_token(token: AccessToken) -> None:
    """Refuse this access token from now until it expires."""
    jti = token.claims.get("jti")
    if jti and db.session.get(RevokedAccessToken, jti) is None:
        expires_at = datetime.fromtimestamp(token.claims["exp"], UTC).replace(tzinfo=None)
        db.session.add(RevokedAccessToken(jti=jti, expires_at=expires_at))


def new_logout_token(client_id: str, subject: str, sid: str | None) -> str:
    """Sign an OpenID back-channel logout token for one client."""
    now = int(time.time())
    claims = {
        "iss": issuer(),
        "aud": client_id,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
        "sub": subject,
        "events": {BACKCHANNEL_EVENT: {}},
    }
    if sid:
        claims["sid"] = sid
    return sign(claims, LOGOUT_TOKEN_TYPE)
