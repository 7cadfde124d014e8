"""The virtual PBX portal: a confidential OpenID Connect client of Business ID.

It signs people in with the authorization code flow (PKCE S256, nonce, client_secret_basic)
through Authlib's Flask client, shows what the provider said about them, signs out through the
provider's end-session endpoint (RP-initiated logout) and accepts back-channel logout tokens.

Its sessions live in this process's memory, keyed by a random cookie value, with the tokens
kept there and never sent to the browser, so a logout token can end them: the person's next page
shows they are signed out.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, abort, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SessionInterface, SessionMixin
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from werkzeug.datastructures import CallbackDict

log = logging.getLogger("pbx_portal")

SCOPE = "openid profile email phone"
COOKIE = "pbx_portal_session"  # the provider's cookie lives on the same host (another port)
SESSION_IDLE_SECONDS = 8 * 3600
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPES = ("logout+jwt", "application/logout+jwt")
LOGOUT_TOKEN_MAX_AGE = 300  # seconds a logout token is accepted after its "iat"
CLOCK_LEEWAY = 60
ID_TOKEN_CLAIMS = ("sub", "acr", "amr", "auth_time", "sid")
DEFAULTS = {
    "PBX_ISSUER": "http://127.0.0.1:5000",
    "PBX_URL": "http://127.0.0.1:5001",
    "PBX_CLIENT_FILE": "instance/pbx-portal-client.json",
}


# --- server-side sessions -----------------------------------------------------------------------


class PortalSession(CallbackDict, SessionMixin):
    """A session whose data stays on the server; the cookie only names it."""

    def __init__(self, initial: dict | None = None, key: str | None = None, version: int = 0):
        def on_update(data):
            data.modified = True

        super().__init__(initial or {}, on_update)
        self.key = key
        self.version = version
        self.new = key is None
        self.modified = False
        self.rotate = False

    def regenerate(self) -> None:
        """Give this session a new cookie value when it is saved (on sign-in: no fixation)."""
        self.rotate = True
        self.modified = True


@dataclass
class _Entry:
    data: dict
    version: int
    seen: float = field(default_factory=time.monotonic)


class SessionStore:
    """The portal's sessions in memory, keyed by a random cookie value; safe across threads."""

    def __init__(self, idle_seconds: int = SESSION_IDLE_SECONDS):
        self.idle_seconds = idle_seconds
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._versions = 0

    def load(self, key: str) -> tuple[dict, int] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry.seen > self.idle_seconds:
                self._entries.pop(key, None)
                return None
            entry.seen = time.monotonic()
            return json.loads(json.dumps(entry.data)), entry.version

    def save(self, key: str | None, data: dict, version: int, rotate: bool) -> str | None:
        """Store ``data`` under ``key`` (a new key when None or ``rotate``); return the key.

        Nothing is stored (None is returned) when the entry changed since it was loaded: a
        back-channel logout that ended it meanwhile is never undone by a slower request.
        """
        with self._lock:
            self._purge()
            current = self._entries.get(key) if key else None
            if key and (current is None or current.version != version):
                return None
            if key and rotate:
                del self._entries[key]
                key = None
            key = key or secrets.token_urlsafe(32)
            self._versions += 1
            self._entries[key] = _Entry(json.loads(json.dumps(data)), self._versions)
            return key

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def end(self, issuer: str, sid: str | None, sub: str | None) -> int:
        """End the signed-in sessions of ``sid`` (or of ``sub``); return how many ended."""
        ended = 0
        with self._lock:
            for entry in self._entries.values():
                user = entry.data.get("user")
                if not user or user["iss"] != issuer:
                    continue
                if (sid is not None and user.get("sid") != sid) or (sub is not None and user["sub"] != sub):
                    continue
                self._versions += 1
                entry.data, entry.version = {"notice": "ended_elsewhere"}, self._versions
                ended += 1
        return ended

    def signed_in(self, sid: str | None = None) -> list[dict]:
        """The users of the signed-in sessions (of one provider session ``sid``, if given)."""
        with self._lock:
            users = [e.data["user"] for e in self._entries.values() if e.data.get("user")]
        return [u for u in users if sid is None or u.get("sid") == sid]

    def _purge(self) -> None:
        now = time.monotonic()
        for key in [k for k, e in self._entries.items() if now - e.seen > self.idle_seconds]:
            del self._entries[key]


class MemorySessionInterface(SessionInterface):
    """Flask's session backed by a :class:`SessionStore`."""

    def __init__(self, store: SessionStore, secure: bool):
        self.store = store
        self.secure = secure

    def open_session(self, app: Flask, request) -> PortalSession:
        key = request.cookies.get(COOKIE)
        loaded = self.store.load(key) if key and len(key) < 100 else None
        if loaded is None:
            return PortalSession()
        data, version = loaded
        return PortalSession(data, key, version)

    def save_session(self, app: Flask, session: PortalSession, response) -> None:
        if not session.modified:
            return
        if not session:
            if session.key:
                self.store.delete(session.key)
                response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=self.secure)
            return
        key = self.store.save(session.key, dict(session), session.version, session.rotate)
        if key is not None and key != session.key:
            response.set_cookie(COOKIE, key, path="/", httponly=True, samesite="Lax", secure=self.secure)
        response.vary.add("Cookie")


# --- back-channel logout ------------------------------------------------------------------------


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


# --- the app ------------------------------------------------------------------------------------


@dataclass
class Portal:
    """What the portal's views share: its addresses, its Business ID client and its sessions."""

    issuer: str
    base_url: str
    client_id: str
    store: SessionStore
    oauth: Any
    verifier: LogoutTokenVerifier

    @property
    def provider(self):
        return self.oauth.business_id


def create_app(issuer: str, base_url: str, client_id: str, client_secret: str) -> Flask:
    """The portal for a provider at ``issuer``, served at ``base_url`` with these credentials."""
    issuer, base_url = issuer.rstrip("/"), base_url.rstrip("/")
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secrets.token_hex(32), MAX_CONTENT_LENGTH=64 * 1024)
    store = SessionStore()
    app.session_interface = MemorySessionInterface(store, secure=base_url.startswith("https://"))

    oauth = OAuth(app)
    oauth.register(
        "business_id",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=issuer + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": 10,
        },
    )
    provider = oauth.business_id
    portal = Portal(
        issuer,
        base_url,
        client_id,
        store,
        oauth,
        LogoutTokenVerifier(
            issuer,
            client_id,
            provider.load_server_metadata,
            lambda force: provider.fetch_jwk_set(force=force),
        ),
    )
    app.extensions["pbx_portal"] = portal

    issuer_origin = "{0.scheme}://{0.netloc}".format(urlsplit(issuer))
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"form-action 'self' {issuer_origin}; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    )

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def helpers():
        return {"csrf_token": _csrf_token, "issuer": issuer, "user": session.get("user")}

    _register_views(app, portal)
    return app


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def _check_csrf() -> None:
    sent, kept = request.form.get("csrf_token", ""), session.get("csrf", "")
    if not kept or not hmac.compare_digest(sent, kept):
        abort(400)


def _when(epoch: Any) -> str:
    if not isinstance(epoch, int | float):
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _register_views(app: Flask, portal: Portal) -> None:
    @app.get("/")
    def home():
        if request.args.get("state"):
            # Back from Business ID's end-session endpoint: was it our own logout request?
            try:
                portal.provider.validate_logout_response()
                session["notice"] = "signed_out"
            except OAuthError:
                pass
            return redirect(url_for("home"))
        notice = session.pop("notice", None)
        user = session.get("user")
        if user is None:
            return render_template("home.html", notice=notice)
        claims = user["id_token_claims"]
        id_rows = [
            (name, _shown(claims[name]), _when(claims[name]) if name == "auth_time" else "")
            for name in ID_TOKEN_CLAIMS
            if name in claims
        ]
        info_rows = [(name, _shown(value)) for name, value in sorted(user["userinfo"].items())]
        return render_template("account.html", user=user, id_rows=id_rows, info_rows=info_rows, notice=notice)

    @app.get("/login")
    def login():
        if session.get("user"):
            return redirect(url_for("home"))
        language = request.accept_languages.best_match(["uk", "ru", "en"]) or "uk"
        return portal.provider.authorize_redirect(portal.base_url + "/callback", ui_locales=language)

    @app.get("/callback")
    def callback():
        provider = portal.provider
        if request.args.get("error") == "access_denied":
            return render_template("message.html", kind="denied"), 403
        # RFC 9207: the answer must name the provider we sent the person to (no mix-up).
        if request.args.get("iss") != provider.load_server_metadata().get("issuer"):
            return render_template(
                "message.html", kind="error", detail="the answer does not name the expected issuer"
            ), 400
        try:
            token = provider.authorize_access_token()  # checks state, PKCE, ID token, nonce
            if "id_token" not in token or "userinfo" not in token:
                raise OAuthError(description="no ID token in the token response")
            info = provider.userinfo(token=token)
        except OAuthError as exc:
            log.warning("sign-in failed: %s", exc)
            return render_template("message.html", kind="error", detail=str(exc)), 400
        claims = dict(token["userinfo"])
        if info.get("sub") != claims["sub"]:
            return render_template("message.html", kind="error", detail="userinfo is about someone else"), 400
        csrf = session.get("csrf")
        session.clear()
        session.regenerate()
        if csrf:
            session["csrf"] = csrf
        session["user"] = {
            "iss": claims["iss"],
            "sub": claims["sub"],
            "sid": claims.get("sid"),
            "name": info.get("name") or claims["sub"],
            "id_token_claims": claims,
            "userinfo": dict(info),
            "id_token": token["id_token"],
        }
        session["tokens"] = {
            k: token[k] for k in ("access_token", "refresh_token", "expires_at") if k in token
        }
        return redirect(url_for("home"))

    @app.post("/logout")
    def logout():
        _check_csrf()
        user = session.pop("user", None)
        session.pop("tokens", None)
        if user is None:
            return redirect(url_for("home"))
        session.regenerate()
        return portal.provider.logout_redirect(
            post_logout_redirect_uri=portal.base_url + "/", id_token_hint=user["id_token"]
        )

    @app.post("/backchannel-logout")
    def backchannel_logout():
        try:
            claims = portal.verifier.verify(request.form.get("logout_token"))
        except LogoutTokenError as exc:
            log.warning("refused a logout token: %s", exc)
            return jsonify(error="invalid_request", error_description=str(exc)), 400
        except ProviderUnavailable as exc:  # a 5xx: the provider retries later
            log.warning("cannot check a logout token now: %s", exc)
            return jsonify(error="temporarily_unavailable", error_description=str(exc)), 503
        ended = portal.store.end(claims["iss"], claims.get("sid"), claims.get("sub"))
        log.info("back-channel logout: ended %d session(s)", ended)
        return "", 200


# --- running it ---------------------------------------------------------------------------------


def settings_from_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Read PBX_* settings and the client file ``idp demo`` wrote; raise SystemExit if missing."""
    environ = dict(os.environ if environ is None else environ)
    path = Path(environ.get("PBX_CLIENT_FILE") or DEFAULTS["PBX_CLIENT_FILE"])
    try:
        credentials = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(
            f"cannot read the portal's client credentials from {path} ({exc}); "
            "run `idp demo` first (in development it registers the portal)"
        ) from exc
    return {
        "issuer": environ.get("PBX_ISSUER") or credentials.get("issuer") or DEFAULTS["PBX_ISSUER"],
        "base_url": environ.get("PBX_URL") or DEFAULTS["PBX_URL"],
        "client_id": credentials["client_id"],
        "client_secret": credentials["client_secret"],
    }
