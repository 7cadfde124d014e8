"""Back-channel logout: the logout tokens Business ID POSTs, checked as OpenID Connect
Back-Channel Logout 1.0 §2.6 asks."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPES = ("logout+jwt", "application/logout+jwt")
LOGOUT_TOKEN_MAX_AGE = 300  # seconds a logout token is accepted after its "iat"
CLOCK_LEEWAY = 60


class LogoutTokenError(ValueError):
    """A logout token this portal must refuse; the message says why."""


class ProviderUnavailable(RuntimeError):
    """The provider's metadata or keys could not be fetched: try again later."""


@dataclass
class LogoutTokenVerifier:
    """Check a logout token as OpenID Connect Back-Channel Logout 1.0 §2.6 asks."""

    issuer: str
    client_id: str
    metadata: Any  # () -> the provider's metadata
    jwks: Any  # (force: bool) -> the provider's JWK set
    seen: dict[str, float] = field(default_factory=dict)  # jti -> until when it is remembered
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, token: str | None) -> dict:
        if not token or len(token) > 8192 or token.count(".") != 2:
            raise LogoutTokenError("no logout token, or not a signed JWT")
        try:
            algorithms = [
                a
                for a in self.metadata().get("id_token_signing_alg_values_supported", ["ES256", "RS256"])
                if a != "none"
            ]
            keys = KeySet.import_key_set(self.jwks(False))
        except (requests.RequestException, RuntimeError, ValueError) as exc:
            raise ProviderUnavailable(f"cannot fetch the provider's keys: {exc}") from exc
        try:
            try:
                decoded = jwt.decode(token, keys, algorithms=algorithms)
            except InvalidKeyIdError:  # signed with a key published after we fetched the set
                decoded = jwt.decode(token, self._fresh_keys(), algorithms=algorithms)
        except (JoseError, ValueError, TypeError) as exc:
            raise LogoutTokenError(f"bad signature or format: {exc}") from exc
        if decoded.header.get("typ") not in LOGOUT_TOKEN_TYPES:
            raise LogoutTokenError("the header's typ is not logout+jwt")
        claims = decoded.claims
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise LogoutTokenError(f"claims: {exc}") from exc
        if claims["iat"] < time.time() - LOGOUT_TOKEN_MAX_AGE:
            raise LogoutTokenError("the token is too old (iat)")
        events = claims.get("events")
        if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
            raise LogoutTokenError("the events claim has no back-channel logout event")
        if "nonce" in claims:
            raise LogoutTokenError("a logout token must not carry a nonce")
        sid, sub = claims.get("sid"), claims.get("sub")
        if not (isinstance(sid, str) and sid) and not (isinstance(sub, str) and sub):
            raise LogoutTokenError("neither sid nor sub")
        self._remember(claims["jti"], claims["exp"])
        return claims

    def _fresh_keys(self) -> KeySet:
        try:
            return KeySet.import_key_set(self.jwks(True))
        except (requests.RequestException, RuntimeError, ValueError) as exc:
            raise ProviderUnavailable(f"cannot fetch the provider's keys: {exc}") from exc

    def _remember(self, jti: str, exp: float) -> None:
        """Refuse a token seen before (a replay) while it could still be accepted."""
        now = time.time()
        with self.lock:
            for old in [j for j, until in self.seen.items() if until < now]:
                del self.seen[old]
            if jti in self.seen:
                raise LogoutTokenError("this logout token was already used")
            self.seen[jti] = exp + CLOCK_LEEWAY
