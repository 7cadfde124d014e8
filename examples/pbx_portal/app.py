"""The virtual PBX portal: a confidential OpenID Connect client of Business ID.

It signs people in with the authorization code flow (PKCE S256, nonce, client_secret_basic)
through Authlib's Flask client, asks for the ``services`` scope and shows the person's service
accounts with their organisation and role, signs out through the provider's end-session endpoint
(RP-initiated logout) and accepts back-channel logout tokens. It speaks Ukrainian, Russian and
English (Flask-Babel, its own catalogue in ``translations/``), and asks Business ID for the same
language.

Its sessions live in this process's memory (``sessions.py``), with the tokens kept there and
never sent to the browser, so a logout token (``backchannel.py``) can end them.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, abort, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from examples.pbx_portal import accounts, i18n
from examples.pbx_portal.backchannel import LogoutTokenError, LogoutTokenVerifier, ProviderUnavailable
from examples.pbx_portal.sessions import MemorySessionInterface, SessionStore

log = logging.getLogger("pbx_portal")

SCOPE = "openid profile email phone services"
ID_TOKEN_CLAIMS = ("sub", "acr", "amr", "auth_time", "sid")
DEFAULTS = {
    "PBX_ISSUER": "http://127.0.0.1:5000",
    "PBX_URL": "http://127.0.0.1:5001",
    "PBX_CLIENT_FILE": "instance/pbx-portal-client.json",
}


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
    i18n.init_app(app)

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
            response.headers["Content-Language"] = i18n.current_language()
            response.vary.add("Accept-Language")
        return response

    @app.context_processor
    def helpers():
        return {"csrf_token": _csrf_token, "issuer": issuer, "user": session.get("user")}

    @app.errorhandler(requests.RequestException)
    def provider_unreachable(exc):
        log.warning("cannot reach Business ID: %s", exc)
        return render_template("message.html", kind="unavailable"), 503

    _register_views(app, portal)
    return app


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def _csrf_ok() -> bool:
    sent, kept = request.form.get("csrf_token", ""), session.get("csrf", "")
    return bool(kept) and hmac.compare_digest(sent.encode(), kept.encode())


def _check_csrf() -> None:
    if not _csrf_ok():
        abort(400)


def _when(epoch: Any) -> str:
    if not isinstance(epoch, int | float):
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _shown(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):  # amr
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _account_page(user: dict, notice: str | None) -> str:
    """The signed-in page: the service accounts Business ID listed, then the raw claims."""
    claims = user["id_token_claims"]
    id_rows = [
        (name, _shown(claims[name]), _when(claims[name]) if name == "auth_time" else "")
        for name in ID_TOKEN_CLAIMS
        if name in claims
    ]
    info_rows = [(name, _shown(value)) for name, value in sorted(user["userinfo"].items())]
    organisations = accounts.by_organisation(user["userinfo"].get("services"))
    return render_template(
        "account.html",
        user=user,
        id_rows=id_rows,
        info_rows=info_rows,
        organisations=organisations,
        chosen=accounts.selected(organisations),
        notice=notice,
    )


def _sign_in_failed(detail: str, status: int = 400):
    return render_template("message.html", kind="error", detail=detail), status


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
        return _account_page(user, notice)

    @app.get("/login")
    def login():
        """Send the person to Business ID, in the page's language; ``?prompt=select_account``
        lets them choose the profile and the service account (also when already signed in)."""
        choose = request.args.get("prompt") == "select_account"
        if session.get("user") and not choose:
            return redirect(url_for("home"))
        extra = {"prompt": "select_account"} if choose else {}
        return portal.provider.authorize_redirect(
            portal.base_url + "/callback", ui_locales=i18n.current_language(), **extra
        )

    @app.post("/lang")
    def switch_language():
        """The switch in the header: remember the language in this session (not a profile's)."""
        if _csrf_ok():
            i18n.choose(request.form.get("lang"))
        return redirect(url_for("home"))

    @app.get("/callback")
    def callback():
        provider = portal.provider
        if request.args.get("error") == "access_denied":
            return render_template("message.html", kind="denied"), 403
        # RFC 9207: the answer must name the provider we sent the person to (no mix-up).
        if request.args.get("iss") != provider.load_server_metadata().get("issuer"):
            return _sign_in_failed(_("The answer does not name the expected sign-in provider."))
        try:
            token = provider.authorize_access_token()  # checks state, PKCE, ID token, nonce
            if "id_token" not in token or "userinfo" not in token:
                raise OAuthError(description="no ID token in the token response")
            info = provider.userinfo(token=token)
        except OAuthError as exc:
            log.warning("sign-in failed: %s", exc)
            return _sign_in_failed(str(exc))
        claims = dict(token["userinfo"])
        if info.get("sub") != claims["sub"]:
            return _sign_in_failed(_("The profile details are about somebody else."))
        kept = {k: session[k] for k in ("csrf", i18n.SESSION_KEY) if k in session}
        session.clear()
        session.regenerate()
        session.update(kept)
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
