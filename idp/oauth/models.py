"""The provider's tables: signing keys, clients, authorization codes, grants and their tokens.

A *grant* is what one client holds for one profile after one authorization: the refresh tokens
of a rotation family and the access tokens minted from them all name it, so revoking the grant
(logout, reuse of a code or a refresh token, the profile revoking the application) ends them all.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp import generations
from idp.extensions import db
from idp.profiles.models import Profile
from idp.security.crypto import token_digest
from idp.timeutil import utcnow

# A key is published as NEXT before it signs anything, signs while CURRENT, and stays published
# as RETIRED until the tokens it signed have expired.
NEXT, CURRENT, RETIRED = "next", "current", "retired"


class SigningKey(db.Model):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)  # the JWK thumbprint
    alg: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8), index=True)
    private_pem_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    unpublish_at: Mapped[datetime | None]


ACR_PASSWORD = "urn:business-id:acr:password"  # noqa: S105 - a method name, not a secret
ACR_MULTI_FACTOR = "urn:business-id:acr:mfa"


def is_offline(scope: str) -> bool:
    """A grant of this scope outlives the browser session it began in (``offline_access``)."""
    return "offline_access" in scope.split()


def epoch(moment: datetime) -> int:
    """Seconds since 1970 of a stored (naive UTC) time."""
    return int(moment.replace(tzinfo=UTC).timestamp())


def amr_claim(amr: str) -> list[str]:
    """The RFC 8176 methods of a sign-in, with "mfa" when a second factor was used."""
    methods = amr.split()
    return methods + ["mfa"] if len(methods) > 1 else methods


def acr_claim(amr: str) -> str:
    """Tell a password sign-in from one with a second factor."""
    return ACR_MULTI_FACTOR if len(amr.split()) > 1 else ACR_PASSWORD


class Client(db.Model):
    """A relying service registered with ``idp clients create``."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str | None] = mapped_column(String(64))  # None for a public client
    redirect_uris_json: Mapped[str] = mapped_column(Text, default="[]")
    post_logout_redirect_uris_json: Mapped[str] = mapped_column(Text, default="[]")
    grant_types_json: Mapped[str] = mapped_column(Text, default='["authorization_code"]')
    scope: Mapped[str] = mapped_column(String(500), default="openid")
    first_party: Mapped[bool] = mapped_column(default=False)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(254))
    # How its ID tokens are signed (ES256 or RS256); None: the provider's IDP_SIGNING_ALG.
    id_token_signed_response_alg: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    secret_rotated_at: Mapped[datetime | None]
    # A provisioning client bound to one organisation acts on that organisation alone (the API).
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))

    @property
    def public(self) -> bool:
        return self.secret_hash is None

    @property
    def redirect_uris(self) -> list[str]:
        return json.loads(self.redirect_uris_json)

    @property
    def post_logout_redirect_uris(self) -> list[str]:
        return json.loads(self.post_logout_redirect_uris_json)

    @property
    def grant_types(self) -> list[str]:
        return json.loads(self.grant_types_json)

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    @property
    def client_metadata(self) -> dict:
        return {"post_logout_redirect_uris": self.post_logout_redirect_uris}

    # Authlib's ClientMixin: what the grants ask of a client.
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # OpenID Connect requires the redirect_uri in every request

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(self.scopes)
        return " ".join(dict.fromkeys(s for s in (scope or "").split() if s in allowed))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string match, RFC 9700 §2.1

    def check_client_secret(self, client_secret: str) -> bool:
        return self.secret_hash is not None and hmac.compare_digest(
            token_digest(client_secret), self.secret_hash
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


class AuthorizationCode(db.Model):
    """A code handed to a client's redirect URI; only its hash is kept."""

    __tablename__ = "oauth_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(String(32), index=True)  # the grant it will open
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id", ondelete="CASCADE"))
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    web_session_id: Mapped[int | None] = mapped_column(ForeignKey("web_sessions.id", ondelete="SET NULL"))
    sid: Mapped[str | None] = mapped_column(String(32))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    auth_time: Mapped[datetime]
    amr: Mapped[str] = mapped_column(String(64))
    service_account: Mapped[str | None] = mapped_column(String(100))  # carried to the grant
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    profile: Mapped[Profile] = relationship(lazy="joined")  # the code's exchange names it

    # Authlib's AuthorizationCodeMixin and the OpenID additions.
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return epoch(self.auth_time)

    def get_amr(self) -> list[str]:
        return amr_claim(self.amr)

    def get_acr(self) -> str:
        return acr_claim(self.amr)


class Grant(db.Model):
    """One authorization of one client by one profile: a refresh-token family."""

    __tablename__ = "oauth_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), index=True
    )
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), index=True)
    web_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_sessions.id", ondelete="SET NULL"), index=True
    )
    sid: Mapped[str | None] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(500))
    auth_time: Mapped[datetime]
    amr: Mapped[str] = mapped_column(String(64))
    # The service account chosen at ``prompt=select_account`` ("connector:account"), if any.
    service_account: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    client: Mapped[Client] = relationship(lazy="joined")
    profile: Mapped[Profile] = relationship()

    @property
    def offline(self) -> bool:
        """Offline grants outlive the browser session they began in."""
        return is_offline(self.scope)


class RefreshToken(db.Model):
    """A refresh token (its hash); using it once rotates it, using it twice revokes its grant."""

    __tablename__ = "oauth_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("oauth_grants.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    grant: Mapped[Grant] = relationship(lazy="joined")

    # Authlib's TokenMixin, as the refresh token grant asks it.
    def check_client(self, client: Client) -> bool:
        """A refresh token is good only for the client it was issued to."""
        return self.grant.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope


class RevokedAccessToken(db.Model):
    """An access token revoked on its own (RFC 7009), kept until it would have expired."""

    __tablename__ = "oauth_revoked_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Consent(db.Model):
    """The scopes a profile has agreed to give a client (first-party clients need none)."""

    __tablename__ = "oauth_consents"

    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    client: Mapped[Client] = relationship(lazy="joined")


def revoke_grant(grant_id: str, reason: str) -> None:
    """Revoke a grant: its refresh tokens and the access tokens minted from it stop working."""
    db.session.execute(
        db.update(Grant)
        .where(Grant.id == grant_id, Grant.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


# Processes keep clients and keys in memory; a change to either is seen everywhere through these.
generations.watch(Client, "clients")
generations.watch(SigningKey, "signing_keys")
