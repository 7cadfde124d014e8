"""Register and manage the relying services (clients) of the provider."""

from __future__ import annotations

import ipaddress
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from idp.extensions import db
from idp.oauth.keys import ALGORITHMS, ensure_keys, forget_cached_keys
from idp.oauth.models import (
    AuthorizationCode,
    Client,
    Consent,
    Grant,
    RefreshToken,
    token_digest,
)
from idp.timeutil import utcnow

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
# How a confidential client proves itself at the token, revocation and introspection endpoints.
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
DEFAULT_SCOPE = "openid profile email phone offline_access"


class ClientError(ValueError):
    """A client registration that cannot be accepted; the message says why."""


@dataclass
class Registered:
    """A client and, right after creation or rotation, its secret in clear (shown once)."""

    client: Client
    secret: str | None


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def check_uri(uri: str, public: bool, what: str) -> str:
    """Validate a redirect or logout URI: absolute, no fragment, https except on loopback."""
    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment or len(uri) > 254:
        raise ClientError(f"{what} {uri!r}: an absolute URI without a fragment, at most 254 characters")
    if parts.scheme == "https" and parts.netloc:
        return uri
    if parts.scheme == "http" and _loopback(parts.hostname):
        return uri
    if parts.scheme == "http" and current_app.config["IDP_ENV"] != "production" and parts.netloc:
        return uri
    # Native apps of public clients may use a private-use scheme (RFC 8252 §7.1), like com.example.app:/cb
    if public and "." in parts.scheme and parts.scheme not in ("http", "https", "javascript", "data"):
        return uri
    raise ClientError(f"{what} {uri!r}: use https (http only on a loopback address)")


def _new_client_id() -> str:
    """A random client id that never starts with "-" (``idp clients show`` would take it for an
    option)."""
    while True:
        client_id = secrets.token_urlsafe(18)
        if not client_id.startswith("-"):
            return client_id


def create_client(
    name: str,
    redirect_uris: list[str],
    *,
    public: bool = False,
    first_party: bool = False,
    grant_types: list[str] | None = None,
    scope: str | None = None,
    post_logout_redirect_uris: list[str] | None = None,
    backchannel_logout_uri: str | None = None,
    client_id: str | None = None,
    id_token_alg: str | None = None,
    org_id: int | None = None,
) -> Registered:
    """Register a client; a confidential client gets a secret, returned here and never again."""
    grant_types = list(dict.fromkeys(grant_types or ["authorization_code", "refresh_token"]))
    unknown = set(grant_types) - set(GRANT_TYPES)
    if unknown:
        raise ClientError(f"unknown grant type(s): {', '.join(sorted(unknown))}")
    if public and "client_credentials" in grant_types:
        raise ClientError("a public client cannot use client_credentials (it has no secret)")
    if "authorization_code" in grant_types and not redirect_uris:
        raise ClientError("the authorization code grant needs at least one --redirect-uri")
    if not name.strip() or len(name) > 100:
        raise ClientError("the name must be 1 to 100 characters")
    if id_token_alg is not None and id_token_alg not in ALGORITHMS:
        raise ClientError(f"ID tokens are signed with one of {', '.join(ALGORITHMS)}")
    client_id = client_id or _new_client_id()
    if len(client_id) > 64 or db.session.scalar(db.select(Client.id).where(Client.client_id == client_id)):
        raise ClientError(f"client id {client_id!r} is taken or too long")
    secret = None if public else secrets.token_urlsafe(32)
    client = Client(
        client_id=client_id,
        name=name.strip(),
        secret_hash=token_digest(secret) if secret else None,
        redirect_uris_json=json.dumps([check_uri(u, public, "redirect URI") for u in redirect_uris]),
        post_logout_redirect_uris_json=json.dumps(
            [check_uri(u, public, "post-logout redirect URI") for u in post_logout_redirect_uris or []]
        ),
        grant_types_json=json.dumps(grant_types),
        scope=" ".join((scope or DEFAULT_SCOPE).split()),
        first_party=first_party,
        backchannel_logout_uri=check_uri(backchannel_logout_uri, False, "back-channel logout URI")
        if backchannel_logout_uri
        else None,
        id_token_signed_response_alg=id_token_alg,
        org_id=org_id,
    )
    db.session.add(client)
    db.session.commit()
    if id_token_alg is not None:
        ensure_keys(id_token_alg)  # published from now on, before any token it signs
        forget_cached_keys()
    return Registered(client, secret)


def id_token_alg(client: Client) -> str:
    """The algorithm that signs the client's ID tokens."""
    return client.id_token_signed_response_alg or current_app.config["IDP_SIGNING_ALG"]


def find_client(client_id: str) -> Client | None:
    return db.session.scalar(db.select(Client).where(Client.client_id == client_id))


def list_clients() -> list[Client]:
    return list(db.session.scalars(db.select(Client).order_by(Client.name)))


def rotate_secret(client: Client) -> str:
    """Give a confidential client a new secret; the old one stops working at once."""
    if client.public:
        raise ClientError("a public client has no secret")
    secret = secrets.token_urlsafe(32)
    client.secret_hash = token_digest(secret)
    client.secret_rotated_at = utcnow()
    db.session.commit()
    return secret


def delete_client(client: Client) -> None:
    """Remove a client with everything issued to it (its tokens stop working)."""
    grant_ids = db.select(Grant.id).where(Grant.client_id == client.client_id)
    db.session.execute(db.delete(RefreshToken).where(RefreshToken.grant_id.in_(grant_ids)))
    for model in (Grant, AuthorizationCode, Consent):
        db.session.execute(db.delete(model).where(model.client_id == client.client_id))
    db.session.delete(client)
    db.session.commit()


def describe(client: Client, secret: str | None = None) -> dict:
    """The client as ``--json`` prints it (the secret only when just created or rotated)."""
    data = {
        "client_id": client.client_id,
        "name": client.name,
        "type": "public" if client.public else "confidential",
        "first_party": client.first_party,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "grant_types": client.grant_types,
        "scope": client.scope,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "id_token_signed_response_alg": id_token_alg(client),
        "token_endpoint_auth_method": "none" if client.public else "client_secret_basic",
        "created_at": client.created_at.isoformat(timespec="seconds") + "Z",
        "organisation_id": client.org_id,
    }
    if secret:
        data["client_secret"] = secret
    return data
