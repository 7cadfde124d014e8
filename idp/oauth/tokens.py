"""The JWTs this provider signs and reads back: access tokens (RFC 9068) and logout tokens.

Access tokens are self-contained so resource servers can verify them with the JWKS alone; the
provider itself (userinfo, introspection) also checks they were not revoked: neither the token
(RFC 7009) nor the grant it belongs to (logout, refresh-token reuse, the profile revoking access).
"""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from flask import current_app
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import Connection, Row, Select, bindparam

from idp.extensions import db
from idp.hot_statements import first_row
from idp.oauth.client_cache import ClientSnapshot, client_cache
from idp.oauth.keys import public_keys_by_kid, signing_key
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
    header = {"typ": typ, "alg": alg, "kid": kid} if typ else {"alg": alg, "kid": kid}
    return compact_jws(header, claims, key)


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@functools.lru_cache(maxsize=64)
def _header_segment(header: tuple[tuple[str, Any], ...]) -> bytes:
    """The encoded protected header (one per key and type: worth keeping)."""
    return _b64(json.dumps(dict(header), separators=(",", ":")).encode())


def compact_jws(header: dict[str, Any], claims: dict[str, Any], key: ECKey | RSAKey) -> str:
    """The JWS compact serialisation of ``claims`` signed with ES256 (P-256) or RS256 (RFC 7515,
    RFC 7518 §3.3–3.4), straight with ``cryptography``: a fifth of the cost of a general encoder."""
    signing_input = _header_segment(tuple(header.items())) + b"." + _b64(orjson.dumps(claims))
    private = key.private_key
    if header["alg"] == "ES256" and isinstance(private, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif header["alg"] == "RS256" and isinstance(private, rsa.RSAPrivateKey):
        signature = private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise ValueError(f"cannot sign {header['alg']!r} with this key")
    return (signing_input + b"." + _b64(signature)).decode()


def read(token: str, typ: str | None = None) -> dict[str, Any] | None:
    """Return the claims of a token this provider signed, or None (bad signature, type, issuer)."""
    verified = verified_jws(token)
    if verified is None:
        return None
    header, claims = verified
    if typ is not None and header.get("typ") != typ:
        return None
    if claims.get("iss") != issuer():
        return None
    return claims


_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _unb64(part: str) -> bytes:
    """base64url without padding, strictly (RFC 7515 §2): one spelling per value, as joserfc."""
    if len(part) % 4 == 1 or not _BASE64URL.fullmatch(part):
        raise ValueError("not base64url")
    value = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    # The last character's unused bits must be zero: "…xw" and "…xx" may not both stand for it.
    if base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii") != part:
        raise ValueError("not the canonical base64url of its value")
    return value


def verified_jws(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(header, claims) of a compact JWS with a JSON payload that a published key signed (RFC 7515
    §5.2), or None; verified straight with ``cryptography``, as ``compact_jws`` signs."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = orjson.loads(_unb64(parts[0]))
        if not isinstance(header, dict) or "crit" in header or not isinstance(header.get("kid"), str):
            return None  # no extension is understood here (§4.1.11), and every key of ours has a kid
        alg, public = public_keys_by_kid().get(header["kid"], (None, None))
        if alg is None or alg != header.get("alg") or alg not in ALGORITHMS:
            return None
        signing_input, signature = (parts[0] + "." + parts[1]).encode("ascii"), _unb64(parts[2])
        if alg == "ES256" and isinstance(public, ec.EllipticCurvePublicKey) and len(signature) == 64:
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            public.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
        elif alg == "RS256" and isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            return None
        claims = orjson.loads(_unb64(parts[1]))
    except (InvalidSignature, ValueError):  # base64, JSON and ASCII errors are ValueErrors
        return None
    return (header, claims) if isinstance(claims, dict) else None


def new_access_token(client: Client | ClientSnapshot, scope: str, subject: Any | None) -> str:
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
    """A verified access token, shaped as Authlib's resource protector expects: its client as the
    machine endpoints keep it (``idp.oauth.client_cache``), its profile read when first asked for."""

    claims: dict[str, Any]
    client: ClientSnapshot
    profile_id: int | None
    revoked: bool = False
    service_account: str | None = None  # chosen at ``prompt=select_account`` ("connector:account")
    grant_row: Row | None = field(default=None, repr=False)  # as read, with any columns asked for
    scope: str = field(init=False)
    _profile: Profile | None = field(init=False, default=None, repr=False)

    def __post_init__(self):
        self.scope = self.claims.get("scope", "")

    @property
    def profile(self) -> Profile | None:
        """The profile of a person's token (None for a client's own)."""
        if self._profile is None and self.profile_id is not None:
            self._profile = db.session.get(Profile, self.profile_id)
        return self._profile

    def get_scope(self) -> str:
        return self.scope

    def check_client(self, client) -> bool:
        return client.client_id == self.client.client_id

    def get_client(self) -> ClientSnapshot:
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


# The statements of ``load_access_token``, built once: building one costs more than running it.
_TOKEN_REVOKED = db.select(RevokedAccessToken.jti).where(RevokedAccessToken.jti == bindparam("jti")).exists()
_GRANT_OF_TOKEN = db.select(
    Grant.client_id, Grant.profile_id, Grant.revoked_at, Grant.service_account, _TOKEN_REVOKED
).where(Grant.id == bindparam("gid"))
_TOKEN_REVOKED_ALONE = db.select(_TOKEN_REVOKED)


def grant_of_token_with(*columns, join_on=None) -> Select:
    """The statement ``load_access_token`` reads a person's grant with, and ``columns`` beside it
    (of a table joined ``join_on``): what an endpoint needs read in the same round trip."""
    statement = _GRANT_OF_TOKEN.add_columns(*columns)
    return statement.join(columns[0].table, join_on) if join_on is not None else statement


def load_access_token(
    token: str, connection: Connection | None = None, grant_query: Select = _GRANT_OF_TOKEN
) -> AccessToken | None:
    """Verify an access token and look up whether it still stands; None when it is not ours.
    The look-up goes through ``connection`` when given (the machine endpoints' own), else the
    session's; a person's grant is read with ``grant_query`` (``grant_of_token_with``)."""
    claims = read(token, ACCESS_TOKEN_TYPE)
    if claims is None or not isinstance(claims.get("exp"), int):
        return None
    client = client_cache(current_app).get(str(claims.get("client_id")))
    if client is None:
        return None  # its client was deleted (a client's grants go with it)
    names = {"jti": str(claims.get("jti", "")), "gid": str(claims.get("gid"))}
    connection = connection or db.session.connection()
    if "gid" not in claims:  # a client's own token
        revoked = first_row(connection, _TOKEN_REVOKED_ALONE, names)
        return AccessToken(claims, client, None, bool(revoked is not None and revoked[0]))
    # A person's token: its grant, and whether the token itself was revoked, in one query.
    grant = first_row(connection, grant_query, names)
    if grant is None:
        return AccessToken(claims, client, None, True)
    if grant.client_id != client.client_id:
        return None
    revoked = bool(grant[4]) or grant.revoked_at is not None
    return AccessToken(claims, client, grant.profile_id, revoked, grant.service_account, grant)


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
