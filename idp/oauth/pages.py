"""The pages a person meets when a relying service signs them in or out.

``/authorize`` checks the request with Authlib, then decides what the person must do first: sign in
(or again: ``prompt=login``, ``max_age``, an ``id_token_hint`` for someone else, a second factor
asked for by ``acr_values``), pick the profile (``prompt=select_account``) or agree to what the
client asks for (consent; first-party clients skip it). ``/logout`` is the RP-initiated logout.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import AccessDeniedError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.audit.services import record
from idp.config import LANGUAGES
from idp.connectors.links import activate, links_of, posted_link
from idp.extensions import csrf, db
from idp.forms import EmptyForm
from idp.oauth.checks import GRANT_CHECKS, RAW_CHECKS, first_refusal
from idp.oauth.keys import public_jwks
from idp.oauth.models import ACR_MULTI_FACTOR, Client, Consent
from idp.oauth.server import Authorization, authorization_server
from idp.oauth.tokens import ALGORITHMS, ID_TOKEN_TYPE, issuer, read
from idp.sessions.flows import Flow
from idp.sessions.services import current_profile, current_session_row, sign_out
from idp.timeutil import utcnow

bp = Blueprint("authorize", __name__)
LOGOUT = Flow("logout_confirmation", minutes=10)  # where to go once the person confirmed

SCOPE_TEXTS = {
    "openid": _l("An identifier that tells it who you are (not your phone number)"),
    "profile": _l("Your name and language"),
    "email": _l("Your e-mail address"),
    "phone": _l("Your phone number"),
    "services": _l("Your linked service accounts and your role in them"),
    "offline_access": _l(
        "Access to your profile while you are not using the application (renewed without asking you)"
    ),
}


def _with_issuer(response: Response) -> Response:
    """RFC 9207: every redirect back to the client names this issuer."""
    location = response.headers.get("Location")
    if response.status_code == 302 and location:
        response.headers["Location"] = add_params_to_uri(location, [("iss", issuer())])
    return response


def _error_response(error: OAuth2Error) -> Response:
    """Redirect a protocol error to a verified redirect URI; otherwise show it as a page."""
    if error.redirect_uri:
        server = authorization_server()
        return _with_issuer(server.handle_error_response(request, error))
    return render_template("oauth/error.html", description=error.description or error.error), 400


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt  # a protocol request, which may be a form POST (Core §3.1.2.1); our consent form
def authorize():  # still proves its CSRF token (``_answered_consent``)
    """The authorization endpoint (query on GET, form-encoded on POST, and the consent form)."""
    params = request.values
    refused = first_refusal(RAW_CHECKS, params)
    if refused is not None:
        return _error_response(refused)
    profile = current_profile()
    server = authorization_server()
    try:
        grant = server.get_consent_grant(end_user=profile)
    except OAuth2Error as error:
        return _error_response(error)
    refused = first_refusal(GRANT_CHECKS, params, grant.redirect_uri, params.get("state"))
    if refused is not None:
        return _error_response(refused)
    client: Client = grant.client
    prompts = set(params.get("prompt", "").split())
    decision = request.form.get("decision") if request.method == "POST" else None
    _remember_ui_locale(params.get("ui_locales", ""))

    reason = _why_sign_in_again(profile, params, prompts)
    if reason is not None:
        if "none" in prompts:
            return _error_response(
                LoginRequiredError(redirect_uri=grant.redirect_uri, state=params.get("state"))
            )
        return _to_sign_in(params, step_up=reason == "step_up")

    if "select_account" in prompts and decision is None:
        continue_url = _authorize_url(params, drop_prompts={"select_account"})
        scopes = (grant.request.scope or "").split()
        return render_template(
            "oauth/select_account.html",
            client=client,
            profile=profile,
            continue_url=continue_url,
            other_url=url_for("authorize.switch_account", next=continue_url),
            service_links=links_of(profile.id) if "services" in scopes else [],
            form=EmptyForm(),
        )

    scopes = (grant.request.scope or "").split()
    if decision is not None:
        _answered_consent()
        if decision != "allow":  # a denial is always one, whatever was agreed before
            record("oauth.consent_denied", profile.id, client=client.client_id)
            db.session.commit()
            return _error_response(
                AccessDeniedError(redirect_uri=grant.redirect_uri, state=params.get("state"))
            )
        if not client.first_party:
            _save_consent(profile.id, client, scopes)
    elif not _consented(profile, client, scopes, prompts):
        if "none" in prompts:
            return _error_response(
                ConsentRequiredError(redirect_uri=grant.redirect_uri, state=params.get("state"))
            )
        return render_template(
            "oauth/consent.html",
            client=client,
            profile=profile,
            scopes=[(s, SCOPE_TEXTS[s]) for s in scopes if s in SCOPE_TEXTS],
            form=EmptyForm(),
            action=_authorize_url(params, drop_prompts={"consent"}),
        )

    row = current_session_row()
    if row.sid is None:
        row.sid = secrets.token_urlsafe(16)
        db.session.commit()
    record("oauth.authorized", profile.id, client=client.client_id, scope=" ".join(scopes))
    db.session.commit()
    response = server.create_authorization_response(grant=grant, grant_user=Authorization(profile, row))
    return _with_issuer(response)


def _answered_consent() -> None:
    """The consent form was sent: it must carry this session's CSRF token (raises CSRFError)."""
    csrf.protect()


def _why_sign_in_again(profile, params, prompts) -> str | None:
    """Return why the person must sign in now ("login" or "step_up"), or None."""
    if profile is None or "login" in prompts:
        return "login"
    row = current_session_row()
    if row is None or row.authenticated_at is None:
        return "login"
    max_age = params.get("max_age")  # a number: check_max_age refused anything else
    if max_age is not None and (utcnow() - row.authenticated_at).total_seconds() > int(max_age):
        return "login"
    hint = params.get("id_token_hint")
    if hint:
        claims = read(hint)
        if claims is None or claims.get("sub") != profile.subject:
            return "login"
    if ACR_MULTI_FACTOR in params.get("acr_values", "").split() and len((row.amr or "").split()) < 2:
        return "step_up"
    return None


def _authorize_url(params, drop_prompts: set[str], drop: tuple[str, ...] = ()) -> str:
    """This authorization request again, without the prompts (and ``drop``) already satisfied."""
    query = [
        (k, v) for k, v in params.items(multi=True) if k not in ("prompt", "csrf_token", "decision", *drop)
    ]
    prompts = [p for p in params.get("prompt", "").split() if p not in drop_prompts]
    if prompts:
        query.append(("prompt", " ".join(prompts)))
    return url_for("authorize.authorize") + "?" + urlencode(query)


def _to_sign_in(params, step_up: bool) -> Response:
    """Send the person to sign in, coming back to this request.

    Signing in satisfies ``prompt=login``, ``max_age`` (else ``max_age=0`` would ask forever) and
    ``prompt=select_account`` (the person just chose the profile): none is asked again on the way back.
    """
    arguments = {
        "next": _authorize_url(params, drop_prompts={"login", "select_account"}, drop=("max_age",)),
        "reauth": "1",
    }
    hint = params.get("login_hint", "")
    if hint and len(hint) <= 254:
        arguments["login_hint"] = hint
    if step_up:
        arguments["mfa"] = "1"
    return redirect(url_for("auth.signin", **arguments))


def _remember_ui_locale(ui_locales: str) -> None:
    """Show the sign-in pages in the first of ``ui_locales`` this product speaks."""
    for tag in ui_locales.split():
        code = tag.split("-")[0].lower()
        if code in LANGUAGES:
            session["ui_locale"] = code
            return


def _consented(profile, client: Client, scopes: list[str], prompts: set[str]) -> bool:
    if client.first_party:
        return True
    if "consent" in prompts:
        return False
    consent = db.session.get(Consent, (profile.id, client.client_id))
    return consent is not None and set(scopes) <= set(consent.scope.split())


def _save_consent(profile_id: int, client: Client, scopes: list[str]) -> None:
    consent = db.session.get(Consent, (profile_id, client.client_id))
    if consent is None:
        consent = Consent(profile_id=profile_id, client_id=client.client_id, scope="")
        db.session.add(consent)
    consent.scope = " ".join(dict.fromkeys(consent.scope.split() + scopes))
    consent.granted_at = utcnow()
    record("oauth.consent_given", profile_id, client=client.client_id, scope=" ".join(scopes))
    db.session.commit()


@bp.post("/authorize/service-account")
def choose_service_account():
    """The account chooser of ``prompt=select_account``: the chosen account becomes the browser's
    active account of its service, then the authorization request goes on."""
    profile = current_profile()
    next_url = request.args.get("next", "")
    if not next_url.startswith(url_for("authorize.authorize") + "?"):
        next_url = url_for("profiles.home")
    if profile is not None and EmptyForm().validate_on_submit():
        chosen = posted_link(profile.id, request.form.get("link"))
        if chosen is not None:
            activate(chosen)
    return redirect(next_url)


@bp.post("/authorize/switch")
def switch_account():
    """ "Use another profile": sign this browser out and sign in again for the same request."""
    if EmptyForm().validate_on_submit() and current_profile() is not None:
        sign_out()
    next_url = request.args.get("next", "")
    if not next_url.startswith(url_for("authorize.authorize") + "?"):
        next_url = url_for("profiles.home")
    return redirect(url_for("auth.signin", next=next_url))


# --- RP-initiated logout ----------------------------------------------------------------------


class EndSession(EndSessionEndpoint):
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


@bp.route("/logout", methods=["GET", "POST"])
@csrf.exempt
def end_session():
    """RP-initiated logout: at once with a valid ``id_token_hint``, otherwise after asking."""
    endpoint = EndSession(authorization_server())
    try:
        ended = endpoint.validate_request(authorization_server().create_oauth2_request(request))
    except OAuth2Error as error:
        return render_template("oauth/error.html", description=error.description or error.error), 400
    hint = request.values.get("id_token_hint")
    if hint and read(hint, ID_TOKEN_TYPE) is None:
        # Signed by us but no ID token (an access token a resource server saw): no proof of the RP.
        return render_template("oauth/error.html", description="id_token_hint is not an ID token"), 400
    claims = ended.id_token_claims
    profile = current_profile()
    if claims is not None and (profile is None or claims.get("sub") == profile.subject):
        endpoint.end_session(ended)
        return _after_logout(ended.redirect_uri, ended.client)
    if profile is None:
        return _after_logout(None, ended.client)
    # No proof that the client asks on this person's behalf: ask them.
    target = _confirmable_redirect(ended.client, request.values)
    LOGOUT.start(redirect=target)
    return render_template("oauth/logout.html", profile=profile, client=ended.client, form=EmptyForm())


def _confirmable_redirect(client: Client | None, params) -> str | None:
    uri = params.get("post_logout_redirect_uri")
    if client is None or not uri or uri not in client.post_logout_redirect_uris:
        return None
    state = params.get("state")
    return add_params_to_uri(uri, [("state", state)]) if state else uri


@bp.post("/logout/confirm")
def confirm_logout():
    """The person confirmed signing out that a client asked for."""
    target = (LOGOUT.end() or {}).get("redirect")
    if EmptyForm().validate_on_submit() and current_profile() is not None:
        profile = current_profile()
        record("signout", profile.id)
        db.session.commit()
        sign_out()
        return _after_logout(target, None)
    return redirect(url_for("profiles.home"))


def _after_logout(redirect_uri: str | None, client: Client | None) -> Response:
    if redirect_uri:
        return redirect(redirect_uri)
    return Response(render_template("oauth/logged_out.html", client=client), mimetype="text/html")
