"""Authlib's authorization server, wired to this provider's tables, keys and sessions.

Grants: authorization code with PKCE (S256 only, required for every client) and OpenID Connect,
refresh token with rotation and reuse detection, client credentials. No implicit, no password grant.
Endpoints: userinfo, revocation, introspection (``idp.oauth.endpoints``) and end-session
(RP-initiated logout). The pages that use them (``idp.oauth.authorize``, ``idp.oauth.logout``) and
the machine endpoints' views (``idp.oauth.views``) import this module, never the other way round.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, cast

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import current_app, g
from sqlalchemy.orm import joinedload

from idp.audit.services import record
from idp.extensions import db
from idp.oauth import claims
from idp.oauth.clients import CLIENT_AUTH_METHODS, id_token_alg
from idp.oauth.keys import public_jwks, signing_key
from idp.oauth.models import (
    AuthorizationCode,
    Client,
    Grant,
    RefreshToken,
    acr_claim,
    amr_claim,
    epoch,
    revoke_grant,
)
from idp.oauth.tokens import (
    ALGORITHMS,
    ID_TOKEN_TYPE,
    access_token_seconds,
    issuer,
    load_access_token,
    new_access_token,
    read,
)
from idp.profiles.models import Profile
from idp.security.crypto import token_digest
from idp.sessions.flows import Flow
from idp.sessions.models import WebSession
from idp.sessions.services import current_profile, is_live, sign_out
from idp.timeutil import utcnow

# Scopes that describe a person: they need a signed-in profile, never client_credentials.
IDENTITY_SCOPES = ("openid", "profile", "email", "phone", "offline_access", "services")


class _Subject(NamedTuple):
    subject: str


@dataclass
class AuthorizedProfile:
    """A profile as a token sees it: which grant, when and how it signed in, in which session."""

    profile: Profile
    grant_id: str
    auth_time: int
    amr: list[str]
    acr: str
    sid: str | None
    web_session_id: int | None

    def get_user_id(self) -> str:
        return self.profile.subject

    @classmethod
    def of_code(cls, code: AuthorizationCode, profile: Profile) -> AuthorizedProfile:
        return cls(
            profile,
            code.grant_id,
            epoch(code.auth_time),
            amr_claim(code.amr),
            acr_claim(code.amr),
            code.sid,
            code.web_session_id,
        )

    @classmethod
    def of_grant_row(cls, row) -> AuthorizedProfile:
        """Of a grant's columns read with its profile's ``subject`` (the fast path's refresh)."""
        profile = cast(Profile, _Subject(row.subject))  # all a token reads of its profile
        amr = row.amr
        return cls(
            profile,
            row.grant_id,
            epoch(row.auth_time),
            amr_claim(amr),
            acr_claim(amr),
            row.sid,
            row.web_session_id,
        )

    @classmethod
    def of_grant(cls, grant: Grant) -> AuthorizedProfile:
        return cls(
            grant.profile,
            grant.id,
            epoch(grant.auth_time),
            amr_claim(grant.amr),
            acr_claim(grant.amr),
            grant.sid,
            grant.web_session_id,
        )


# The service account a person chose at ``prompt=select_account`` for one client, until the code
# of that request is issued: it is stored on the code, then on the grant, and named in the claim.
CHOSEN_ACCOUNT = Flow("oauth_chosen_account", minutes=30)


def chosen_account(client_id: str) -> str | None:
    """Take the account chosen for ``client_id``'s request ("connector:account"), if any."""
    chosen = CHOSEN_ACCOUNT.get()
    if chosen is None or chosen.get("client_id") != client_id:
        return None
    CHOSEN_ACCOUNT.end()
    account: str | None = chosen.get("account")
    return account


@dataclass
class Authorization:
    """Who approved an authorization request: the profile and its browser session."""

    profile: Profile
    session: WebSession


# --- grants ---------------------------------------------------------------------------------


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only, required in every authorization request (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send 'code_challenge' with method S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only the S256 'code_challenge_method' is accepted.")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [*CLIENT_AUTH_METHODS, "none"]

    def save_authorization_code(self, code: str, request) -> None:
        approval: Authorization = request.user
        now = utcnow()
        payload = request.payload
        db.session.add(
            AuthorizationCode(
                code_hash=token_digest(code),
                grant_id=secrets.token_urlsafe(18),
                client_id=request.client.client_id,
                profile_id=approval.profile.id,
                web_session_id=approval.session.id,
                sid=approval.session.sid,
                redirect_uri=payload.redirect_uri,
                scope=request.scope or "",
                nonce=payload.data.get("nonce"),
                code_challenge=payload.data["code_challenge"],
                code_challenge_method=payload.data["code_challenge_method"],
                auth_time=approval.session.authenticated_at,
                amr=approval.session.amr or "pwd",
                service_account=chosen_account(request.client.client_id),
                created_at=now,
                expires_at=now + timedelta(seconds=current_app.config["IDP_AUTH_CODE_SECONDS"]),
            )
        )
        db.session.commit()

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        """The client's unused, unexpired code. It is used up only once the whole request is
        valid (``authenticate_user``): a caller without the right PKCE verifier or redirect URI
        cannot burn the code of the client that has them."""
        row = db.session.get(AuthorizationCode, token_digest(code))
        if row is None or row.client_id != client.client_id:
            return None
        if row.used_at is not None:
            # A second use means the code leaked: what the first use issued is revoked too.
            revoke_grant(row.grant_id, "code_reuse")
            db.session.commit()
            return None
        return None if row.expires_at < utcnow() else row

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing to do: the code was marked used before the tokens were made."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> AuthorizedProfile | None:
        """Use the code up (after every check passed); of two simultaneous uses one wins (the
        other waits on the row until this transaction ends, and then finds it used)."""
        if not _use_once(
            AuthorizationCode,
            AuthorizationCode.code_hash,
            authorization_code.code_hash,
            authorization_code.grant_id,
            "code_reuse",
            commit=False,
        ):
            return None
        profile = authorization_code.profile  # read with the code
        return AuthorizedProfile.of_code(authorization_code, profile) if profile else None


class OpenIDConnect(OpenIDCode):
    """Adds the ID token to the code grant's token response."""

    def resolve_client_private_key(self, client: Client):
        return signing_key(id_token_alg(client))[2]

    def get_client_algorithm(self, client: Client) -> str:
        return id_token_alg(client)

    def get_encode_header(self, client: Client) -> dict:
        kid, alg, _ = signing_key(id_token_alg(client))
        return {"alg": alg, "kid": kid, "typ": ID_TOKEN_TYPE}

    def get_client_claims(self, client: Client) -> dict:
        return {"iss": issuer(), "aud": client.client_id, "exp": int(time.time()) + access_token_seconds()}

    def exists_nonce(self, nonce: str, request) -> bool:
        # A nonce already bound to an earlier code of this client is a replay.
        return (
            db.session.scalar(
                db.select(AuthorizationCode.code_hash)
                .where(
                    AuthorizationCode.client_id == request.payload.client_id, AuthorizationCode.nonce == nonce
                )
                .limit(1)
            )
            is not None
        )

    def generate_user_info(self, user: AuthorizedProfile, scope: str) -> UserInfo:
        info = UserInfo(sub=user.profile.subject)
        if user.sid:
            info["sid"] = user.sid
        return info


# A refresh token is read with its grant and the grant's profile: the new tokens name the profile.
_WITH_PROFILE = [joinedload(RefreshToken.grant).joinedload(Grant.profile)]


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [*CLIENT_AUTH_METHODS, "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        return standing_refresh_token(refresh_token)

    def authenticate_user(self, refresh_token: RefreshToken) -> AuthorizedProfile:
        return AuthorizedProfile.of_grant(refresh_token.grant)

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        if not spend_refresh_token(refresh_token):
            raise InvalidGrantError()


def standing_refresh_token(value: str) -> RefreshToken | None:
    """The refresh token ``value`` names while it may still be used, with its grant and profile.
    A spent one is a replay (someone holds a copy): its whole family is revoked."""
    row = db.session.get(RefreshToken, token_digest(value), options=_WITH_PROFILE)
    if row is None:
        return None
    if row.used_at is not None:
        revoke_grant(row.grant_id, "refresh_reuse")
        db.session.commit()
        return None
    grant = row.grant
    if row.expires_at < utcnow() or grant.revoked_at is not None:
        return None
    if not grant.offline and not _session_alive(grant):
        return None
    return row


def spend_refresh_token(row: RefreshToken) -> bool:
    """Use a refresh token up (of two simultaneous uses one wins, the other's grant is revoked)."""
    return _use_once(RefreshToken, RefreshToken.token_hash, row.token_hash, row.grant_id, "refresh_reuse")


def _use_once(model, key_column, key: str, grant_id: str, reuse_reason: str, commit: bool = True) -> bool:
    """Mark a code or refresh token used in one atomic step, so of two concurrent uses only one
    wins; the loser's grant is revoked (``reuse_reason``, committed at once). Return whether this
    use won; a win is committed too unless ``commit`` is False (the caller's commit then holds it)."""
    table = model.__table__
    statement = table.update().where(table.c[key_column.key] == key, table.c.used_at.is_(None))
    won = db.session.connection().execute(statement.values(used_at=utcnow())).rowcount == 1
    if not won:
        revoke_grant(grant_id, reuse_reason)
    if commit or not won:
        db.session.commit()
    return won


def _session_alive(grant: Grant) -> bool:
    """An online grant lasts as long as the browser session it began in (and keeps it alive).

    The session is over when it was ended, or went idle or past its lifetime (as the browser
    would find it): then the grant is over too.
    """
    row = db.session.get(WebSession, grant.web_session_id) if grant.web_session_id else None
    if row is None or not is_live(row):
        return False
    row.last_seen_at = utcnow()
    return True


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def validate_requested_scope(self):
        requested = (self.request.payload.scope or "").split()
        allowed = set(self.request.client.scopes) - set(IDENTITY_SCOPES)
        if not set(requested) <= allowed:
            raise InvalidScopeError()


# --- the server -----------------------------------------------------------------------------


def _query_client(client_id: str) -> Client | None:
    if (
        not isinstance(client_id, str) or not client_id or len(client_id) > 64 or "\x00" in client_id
    ):  # e.g. from Basic credentials; PostgreSQL refuses NUL
        return None
    return db.session.scalar(db.select(Client).where(Client.client_id == client_id))


def _save_token(token: dict, request) -> None:
    user: AuthorizedProfile | None = request.user
    if user is None:
        return  # client_credentials: a self-contained access token, nothing to store
    code: AuthorizationCode | None = request.authorization_code
    # A code's grant is new (its id was drawn with the code); a refresh's is the one it belongs to.
    grant = db.session.get(Grant, user.grant_id) if code is None else None
    if grant is None:
        assert code is not None, "a refresh token's grant is there while the token stands"
        grant = Grant(
            id=user.grant_id,
            client_id=request.client.client_id,
            profile_id=user.profile.id,
            web_session_id=user.web_session_id,
            sid=user.sid,
            scope=code.scope,
            auth_time=code.auth_time,
            amr=code.amr,
            service_account=code.service_account,
        )
        db.session.add(grant)
    if token.get("refresh_token"):
        db.session.flush()  # a new grant is written first
        keep_refresh_token(grant.id, grant.offline, token["refresh_token"], token.get("scope", grant.scope))
    # Committed by the token view with the rest: the ID token is made from what is read now.


def refresh_token_lifetime(offline: bool) -> timedelta:
    """An offline grant's refresh token lasts IDP_REFRESH_TOKEN_DAYS, an online one's no longer
    than a browser session may."""
    if offline:
        return timedelta(days=current_app.config["IDP_REFRESH_TOKEN_DAYS"])
    return timedelta(hours=current_app.config["IDP_SESSION_MAX_HOURS"])


def keep_refresh_token(grant_id: str, offline: bool, value: str, scope: str) -> None:
    """Store a new refresh token of a grant (its hash) through the session."""
    row = successor_row(grant_id, offline, value, scope, utcnow())
    db.session.connection().execute(RefreshToken.__table__.insert(), row)


def successor_row(grant_id: str, offline: bool, value: str, scope: str, now: datetime) -> dict:
    """The columns of a grant's new refresh token made at ``now``: its hash, and the lifetime of
    ``refresh_token_lifetime``."""
    return {
        "token_hash": token_digest(value),
        "grant_id": grant_id,
        "scope": scope,
        "created_at": now,
        "expires_at": now + refresh_token_lifetime(offline),
    }


def _access_token(client: Client, grant_type: str, user, scope: str) -> str:
    return new_access_token(client, scope or "", user)


def _refresh_token(client: Client, grant_type: str, user, scope: str) -> str:
    return secrets.token_urlsafe(32)


class AccessTokenValidator(BearerTokenValidator):
    """Accepts this provider's own access tokens while neither they nor their grant are revoked."""

    def authenticate_token(self, token_string: str):
        token = load_access_token(token_string) if token_string and len(token_string) < 4096 else None
        g.oauth_access_token = token
        return token


class UserInfoClaims(UserInfoEndpoint):
    def generate_user_info(self, user: Profile, scope: str) -> UserInfo:
        token = g.get("oauth_access_token")
        return claims.userinfo(user, scope, token.service_account if token is not None else None)

    def get_issuer(self) -> str:
        return issuer()


class EndSession(EndSessionEndpoint):
    """RP-initiated logout: Authlib validates the request (the ``id_token_hint``, the client, the
    post-logout redirect URI); ``/logout`` (``idp.oauth.logout``) decides whether to ask first."""

    def validate_request(self, request):
        ended = super().validate_request(request)
        hint = request.payload.data.get("id_token_hint")
        if hint and read(hint, ID_TOKEN_TYPE) is None:
            # Signed by us but no ID token (an access token a resource server saw): no proof of the RP.
            raise InvalidRequestError("id_token_hint is not an ID token")
        return ended

    def get_server_jwks(self):
        return public_jwks()

    def get_algorithms(self) -> list[str]:
        return ALGORITHMS

    def end_session(self, end_session_request) -> None:
        profile = current_profile()
        if profile is not None:
            record("signout", profile.id, client=getattr(end_session_request.client, "client_id", None))
            db.session.commit()
            sign_out()


END_SESSION = EndSession.ENDPOINT_NAME  # what ``/logout`` asks the server for


def init_app(app) -> None:
    """Set up the authorization server of ``app`` with its grants and endpoints."""
    authorization = AuthorizationServer(app, query_client=_query_client, save_token=_save_token)
    require_token = ResourceProtector()
    authorization.register_token_generator(
        "default",
        BearerTokenGenerator(
            access_token_generator=_access_token,
            refresh_token_generator=_refresh_token,
            expires_generator=lambda client, grant_type: access_token_seconds(),
        ),
    )
    authorization.register_grant(
        AuthorizationCodeGrant, [S256CodeChallenge(required=True), OpenIDConnect(require_nonce=False)]
    )
    authorization.register_grant(RefreshTokenGrant)
    authorization.register_grant(ClientCredentialsGrant)
    require_token.register_token_validator(AccessTokenValidator())
    authorization.register_endpoint(UserInfoClaims(resource_protector=require_token))
    from idp.oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint

    authorization.register_endpoint(RevocationEndpoint)
    authorization.register_endpoint(IntrospectionEndpoint)
    authorization.register_endpoint(EndSession)
    app.extensions["idp_authorization"] = authorization


def authorization_server() -> AuthorizationServer:
    """Return the authorization server of the current app."""
    return current_app.extensions["idp_authorization"]
