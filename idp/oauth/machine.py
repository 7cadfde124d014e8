"""The machine endpoints' fast path: a thin WSGI layer in front of the Flask app.

The requests programs send most (discovery, the JWKS, a client's own token) need none of what a
page needs (a session, CSRF, a language, a page's headers). This layer answers them directly:

- discovery and the JWKS as bytes made once by the Flask views themselves (so the same document,
  headers included), with an ETag; the JWKS is made again when the keys change (``idp.generations``);
- ``POST /token`` with ``grant_type=client_credentials`` from a confidential client, when the
  request is plainly valid: its client is read from a snapshot in memory and its token is built
  by the same function the full path uses.

Anything else, and every request that is not plainly valid (an error to explain, an unusual form, a
browser's ``Origin``), goes on to the Flask app, whose answer is the one the protocol defines: the
fast path never answers an error itself.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import io
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import cast
from urllib.parse import parse_qsl, unquote

import orjson
from flask import Flask
from sqlalchemy import bindparam, select
from werkzeug.test import EnvironBuilder

from idp import generations
from idp.hot_statements import first_row
from idp.oauth import claims
from idp.oauth.client_cache import ClientSnapshot, client_cache
from idp.oauth.endpoints import find_token, introspection, may_introspect
from idp.oauth.keys import CACHE_SECONDS
from idp.oauth.models import Grant, RefreshToken, is_offline
from idp.oauth.server import IDENTITY_SCOPES, AuthorizedProfile, successor_row
from idp.oauth.spending import spend
from idp.oauth.tokens import grant_of_token_with, load_access_token, new_access_token
from idp.profiles.models import Profile
from idp.security.crypto import token_digest
from idp.sessions.interface import TOUCH_EVERY
from idp.sessions.models import WebSession
from idp.sessions.services import is_live
from idp.timeutil import utcnow

log = logging.getLogger(__name__)
Answer = tuple[str, list[tuple[str, str]], bytes, str]  # status, headers, body, endpoint
FORM = "application/x-www-form-urlencoded"
TOKEN_PARAMETERS = frozenset({"grant_type", "scope", "client_id", "client_secret"})
REFRESH_PARAMETERS = frozenset({"grant_type", "refresh_token", "scope", "client_id", "client_secret"})
INTROSPECTION_PARAMETERS = frozenset({"token", "token_type_hint", "client_id", "client_secret"})
# What a page's response carries that a document's does not say for itself (Talisman's headers).
DOCUMENT_HEADERS = {"content-type", "content-length", "cache-control", "etag", "x-request-id"}


@dataclass
class _Document:
    body: bytes
    headers: list[tuple[str, str]]
    etag: str
    generation: int
    until: float


class PublishedDocument:
    """A public JSON document (discovery, JWKS) served from bytes the Flask view made."""

    def __init__(self, machine: MachineEndpoints, path: str, endpoint: str):
        self.machine, self.path, self.endpoint = machine, path, endpoint
        self.document: _Document | None = None

    def __call__(self, environ) -> Answer | None:
        document = self.current()
        if document is None:
            return None
        headers = document.headers
        if "HTTP_ORIGIN" in environ:
            headers = [*headers, ("Access-Control-Allow-Origin", "*")]
        if document.etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            kept = [(name, value) for name, value in headers if name.lower() != "content-type"]
            return "304 NOT MODIFIED", kept, b"", self.endpoint
        return "200 OK", [*headers, ("Content-Length", str(len(document.body)))], document.body, self.endpoint

    def current(self) -> _Document | None:
        generation = generations.current(self.machine.app, "signing_keys")
        document = self.document
        if document is None or document.generation != generation or document.until < time.time():
            document = self.document = self._make(generation)
        return document

    def _make(self, generation: int) -> _Document | None:
        status, headers, body = self.machine.ask_flask("GET", self.path)
        if not status.startswith("200"):
            return None  # e.g. no key yet: the Flask app answers, and this tries again next time
        kept = [
            (name, value) for name, value in headers if name.lower() not in {"content-length", "x-request-id"}
        ]
        etag = next((value for name, value in headers if name.lower() == "etag"), "")
        return _Document(body, kept, etag or '"-"', generation, time.time() + CACHE_SECONDS)


class MachineEndpoints:
    """WSGI middleware: the fast path of a few machine requests, the Flask app for the rest."""

    def __init__(self, app: Flask, wsgi_app: Callable):
        self.app, self.wsgi_app = app, wsgi_app
        self.https_only = app.config["IDP_ENV"] == "production"  # Talisman redirects plain HTTP
        self.routes: dict[tuple[str, str], Callable[[dict], Answer | None]] = {
            ("GET", "/.well-known/openid-configuration"): PublishedDocument(
                self, "/.well-known/openid-configuration", "oauth.discovery"
            ),
            ("GET", "/jwks.json"): PublishedDocument(self, "/jwks.json", "oauth.keys"),
            ("POST", "/token"): self.token,
            ("GET", "/userinfo"): self.userinfo,
            ("POST", "/introspect"): self.introspect,
        }
        self._token_headers: list[tuple[str, str]] | None = None
        # The machine paths' own connections: a refresh's spending, and lone reads.
        self.engine, self.reads = generations.generations(app).engine, generations.generations(app).reads

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        handler = self.routes.get((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
        if handler is not None and (not self.https_only or environ.get("wsgi.url_scheme") == "https"):
            try:
                answer = handler(environ)
            except Exception:  # e.g. the database is away: the Flask app answers it (503)
                log.debug("fast path of %s gave way", environ.get("PATH_INFO"), exc_info=True)
                answer = None
            if answer is not None:
                status, headers, body, environ["idp.endpoint"] = answer
                start_response(status, headers)
                return [body]
        return self.wsgi_app(environ, start_response)

    def ask_flask(self, method: str, path: str) -> tuple[str, list[tuple[str, str]], bytes]:
        """The Flask app's own answer to a plain request (how the documents are made)."""
        environ = EnvironBuilder(
            path=path, method=method, base_url=self.app.config["IDP_ISSUER"]
        ).get_environ()
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer.update(status=status, headers=headers)

        chunks = self.wsgi_app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return answer["status"], answer["headers"], body

    # --- POST /token, grant_type=client_credentials ---------------------------------------

    def token(self, environ) -> Answer | None:
        """``POST /token`` of a client's own token or a refresh, when plainly valid."""
        if "HTTP_ORIGIN" in environ or environ.get("QUERY_STRING") or environ.get("CONTENT_TYPE") != FORM:
            return None
        form = _read_form(environ)
        if form is None:
            return None
        if form.get("grant_type") == "client_credentials" and form.keys() <= TOKEN_PARAMETERS:
            return self.client_credentials(environ, form)
        if form.get("grant_type") == "refresh_token" and form.keys() <= REFRESH_PARAMETERS:
            return self.refresh(environ, form)
        return None

    def client_credentials(self, environ, form: dict[str, str]) -> Answer | None:
        """A client's own token (RFC 6749 §4.4)."""
        client = self.authenticated_client(environ, form)
        if client is None or not _may_have_token(client, form.get("scope")):
            return None
        with self.app.app_context():
            access_token = new_access_token(client, _granted(client, form.get("scope")), None)
            seconds = self.app.config["IDP_ACCESS_TOKEN_MINUTES"] * 60
        token = {"access_token": access_token, "expires_in": seconds, "token_type": "Bearer"}
        scope = _granted(client, form.get("scope"))
        if scope:
            token["scope"] = scope
        body = orjson.dumps(token, option=orjson.OPT_SORT_KEYS)
        return self.json_answer(body, "oauth.token")

    def refresh(self, environ, form: dict[str, str]) -> Answer | None:
        """A refresh with rotation (RFC 6749 §6, RFC 9700 §4.14): the token is spent and a new
        one kept at once (``idp.oauth.spending``); a replay, an expired or revoked token, a scope beyond the
        grant's take the full path, which refuses them (revoking the family of a replayed one)."""
        client = self.refreshing_client(environ, form)
        if client is None or "refresh_token" not in client.grant_types or not form.get("refresh_token"):
            return None
        headers = self.token_headers()  # before the commit: nothing may fail once the token is spent
        if headers is None:
            return None
        with self.app.app_context(), self.refreshing() as connection:
            row = first_row(connection, _REFRESH_ROW, {"hash": token_digest(form["refresh_token"])})
            offline = row is not None and is_offline(row.grant_scope)
            if not _refreshable(row, client.client_id, offline):
                return None  # the full path refuses it (and ends the family of a replayed one)
            requested = form.get("scope")
            if requested and not set(requested.split()) <= set(row.token_scope.split()):
                return None
            scope = _granted(client, requested or row.token_scope)
            # Made before the token is spent: once it is, nothing may fail.
            access_token = new_access_token(client, scope, AuthorizedProfile.of_grant_row(row))
            refresh_token = secrets.token_urlsafe(32)
            now = utcnow()
            successor = successor_row(row.grant_id, offline, refresh_token, scope or row.grant_scope, now)
            touch = not offline and now - row.last_seen_at > TOUCH_EVERY  # the session lives on, as in a page
            if not spend(connection, row.token_hash, now, successor, row.web_session_id if touch else None):
                return None  # a simultaneous use won, or the grant was revoked: the full path refuses it
            seconds = self.app.config["IDP_ACCESS_TOKEN_MINUTES"] * 60
        token = {"access_token": access_token, "expires_in": seconds, "refresh_token": refresh_token}
        token.update({"token_type": "Bearer", **({"scope": scope} if scope else {})})
        body = orjson.dumps(token, option=orjson.OPT_SORT_KEYS)
        return "200 OK", [*headers, ("Content-Length", str(len(body)))], body, "oauth.token"

    def refreshing(self):
        """A refresh's connection: autocommit on PostgreSQL (its spending is one statement, see
        ``idp.oauth.spending``), a transaction elsewhere."""
        return self.reads.connect() if self.engine.dialect.name == "postgresql" else self.engine.begin()

    def refreshing_client(self, environ, form: dict[str, str]) -> ClientSnapshot | None:
        """A confidential client with its secret, or a public one by its ``client_id`` alone."""
        if "HTTP_AUTHORIZATION" in environ or "client_secret" in form:
            return self.authenticated_client(environ, form)
        client = client_cache(self.app).get(form.get("client_id", ""))
        return client if client is not None and client.public else None

    def authenticated_client(self, environ, form: dict[str, str]) -> ClientSnapshot | None:
        """The confidential client whose right secret the request carries (Basic or the form)."""
        credentials = _client_credentials(environ.get("HTTP_AUTHORIZATION"), form)
        if credentials is None:
            return None
        client = client_cache(self.app).get(credentials[0])
        if client is None or client.public:
            return None
        return client if hmac.compare_digest(token_digest(credentials[1]), client.secret_hash or "") else None

    # --- GET /userinfo, POST /introspect --------------------------------------------------

    def userinfo(self, environ) -> Answer | None:
        """The claims for a bearer token that plainly stands (the ``services`` scope, which
        connectors fill, takes the full path)."""
        if "HTTP_ORIGIN" in environ or environ.get("QUERY_STRING"):
            return None
        scheme, _, token = (environ.get("HTTP_AUTHORIZATION") or "").partition(" ")
        if scheme.lower() != "bearer" or not token or " " in token or len(token) >= 4096:
            return None
        with self.app.app_context(), self.reads.connect() as connection:
            found = load_access_token(token, connection, _GRANT_AND_CLAIMED_COLUMNS)
            scopes = found.scope.split() if found is not None else []
            if found is None or not found.active or found.grant_row is None or "openid" not in scopes:
                return None
            if "services" in scopes:
                return None
            profile = ClaimedProfile(found.grant_row)
            # The claims of every scope but ``services`` read these attributes alone.
            info = claims.userinfo(cast(Profile, profile), found.scope, found.service_account)
            body = orjson.dumps(info, option=orjson.OPT_SORT_KEYS)
        return self.json_answer(body, "oauth.userinfo")

    def introspect(self, environ) -> Answer | None:
        """RFC 7662 for a confidential client that authenticates plainly."""
        if "HTTP_ORIGIN" in environ or environ.get("QUERY_STRING") or environ.get("CONTENT_TYPE") != FORM:
            return None
        form = _read_form(environ)
        if form is None or "token" not in form or not form.keys() <= INTROSPECTION_PARAMETERS:
            return None
        hint = form.get("token_type_hint")
        if hint and hint not in ("access_token", "refresh_token"):
            return None
        client = self.authenticated_client(environ, form)
        if client is None:
            return None
        with self.app.app_context(), self.reads.connect() as connection:
            token = find_token(form["token"], hint, connection)
            payload: dict = {"active": False}
            if (
                token is not None
                and not (token.is_expired() or token.is_revoked())
                and may_introspect(token, client)
            ):
                payload = introspection(token)
            body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        return self.json_answer(body, "oauth.introspect")

    def json_answer(self, body: bytes, endpoint: str) -> Answer | None:
        """A 200 with a JSON body and the token headers (None: the Flask app answers instead)."""
        headers = self.token_headers()
        if headers is None:
            return None
        return "200 OK", [*headers, ("Content-Length", str(len(body)))], body, endpoint

    def token_headers(self) -> list[tuple[str, str]] | None:
        """A token response's headers: the page headers every response has, and no caching
        (None while the Flask app cannot say what its page headers are)."""
        if self._token_headers is None:
            document = self.routes[("GET", "/jwks.json")].current()  # type: ignore[attr-defined]
            if document is None:
                return None
            common = [(n, v) for n, v in document.headers if n.lower() not in DOCUMENT_HEADERS]
            self._token_headers = [
                ("Content-Type", "application/json"),
                ("Cache-Control", "no-store"),
                ("Pragma", "no-cache"),
                *common,
            ]
        return self._token_headers


# A refresh token with its grant, its profile's subject and its browser session, in one read;
# then spent only while unspent (``idp.oauth.spending``).
_REFRESH_ROW = (
    select(
        RefreshToken.token_hash,
        RefreshToken.used_at,
        RefreshToken.expires_at,
        RefreshToken.scope.label("token_scope"),
        Grant.id.label("grant_id"),
        Grant.client_id,
        Grant.revoked_at,
        Grant.scope.label("grant_scope"),
        Grant.web_session_id,
        Grant.sid,
        Grant.auth_time,
        Grant.amr,
        Profile.subject,
        WebSession.ended_at,
        WebSession.authenticated_at,
        WebSession.last_seen_at,
        WebSession.created_at,
    )
    .join(Grant, Grant.id == RefreshToken.grant_id)
    .join(Profile, Profile.id == Grant.profile_id)
    .outerjoin(WebSession, WebSession.id == Grant.web_session_id)
    .where(RefreshToken.token_hash == bindparam("hash"))
)


def _refreshable(row, client_id: str, offline: bool) -> bool:
    """The refresh token stands for this client: unspent, unexpired, its grant unrevoked, and an
    online grant's browser session live (as ``standing_refresh_token`` reads it)."""
    if row is None or row.used_at is not None or row.client_id != client_id:
        return False
    if row.expires_at < utcnow() or row.revoked_at is not None:
        return False
    return offline or (row.web_session_id is not None and row.last_seen_at is not None and is_live(row))


# A person's grant with the profile's columns the claims need (all of ``idp.oauth.claims.userinfo``'s
# but ``services``), in one round trip.
_GRANT_AND_CLAIMED_COLUMNS = grant_of_token_with(
    Profile.subject,
    Profile.first_name,
    Profile.last_name,
    Profile.locale,
    Profile.updated_at,
    Profile.email,
    Profile.email_verified_at,
    Profile.phone,
    join_on=Profile.id == Grant.profile_id,
)


class ClaimedProfile:
    """The claimed columns of a profile, read with its grant, shaped as the claims read a profile:
    a tenth of the cost of loading the whole row through the session."""

    full_name = Profile.full_name
    email_verified = Profile.email_verified

    def __init__(self, row) -> None:
        self.subject, self.first_name, self.last_name = row.subject, row.first_name, row.last_name
        self.locale, self.updated_at, self.phone = row.locale, row.updated_at, row.phone
        self.email, self.email_verified_at = row.email, row.email_verified_at


def _read_form(environ) -> dict[str, str] | None:
    """The form of a small urlencoded body, each name once and no NUL; the body stays readable."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= 4096:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # for the full path, should it take the request
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    if len(form) != len(pairs) or any("\x00" in name or "\x00" in value for name, value in pairs):
        return None
    return form


def _client_credentials(authorization: str | None, form: dict[str, str]) -> tuple[str, str] | None:
    """(client_id, secret) from HTTP Basic or from the form, as Authlib reads them; None when the
    request has both, neither or anything unusual."""
    in_form = "client_id" in form or "client_secret" in form
    if authorization is None:
        if in_form and form.get("client_id") and form.get("client_secret"):
            return form["client_id"], form["client_secret"]
        return None
    scheme, _, encoded = authorization.partition(" ")
    if in_form or scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    client_id, secret = unquote(client_id), unquote(secret)
    if not client_id or not secret or len(client_id) > 64 or "\x00" in client_id + secret:
        return None
    return client_id, secret


def _may_have_token(client: ClientSnapshot, scope: str | None) -> bool:
    """The client may use the grant and asks only for its own scopes."""
    if "client_credentials" not in client.grant_types:
        return False
    allowed = set(client.scopes) - set(IDENTITY_SCOPES)
    return set((scope or "").split()) <= allowed


def _granted(client: ClientSnapshot, scope: str | None) -> str:
    """The scope of the token: the requested scopes the client has, in order (Client.get_allowed_scope)."""
    allowed = set(client.scopes)
    return " ".join(dict.fromkeys(s for s in (scope or "").split() if s in allowed))


def init_app(app: Flask) -> None:
    """Put the fast path in front of ``app``'s Flask dispatch (inside ProxyFix, which it needs)."""
    app.wsgi_app = app.extensions["idp_machine"] = MachineEndpoints(app, app.wsgi_app)  # type: ignore[method-assign]
