"""``/authorize``: the authorization endpoint, run as a pipeline of small named steps.

As in node-oidc-provider's ``lib/actions/authorization/``, a request goes through ``STEPS`` in
order. Each step takes the request's ``Context`` (and may fill in what it learnt) and either answers
(a page, a redirect, or a protocol error) or passes the request on (None); once every step passed,
``issue_code`` answers with the code:

1. ``check_raw_parameters``: ``checks.RAW_CHECKS``, before Authlib reads the request (a refusal is a
   page: the redirect URI is not verified yet);
2. ``validate_with_authlib``: Authlib checks the client, the redirect URI, the response type, the
   scopes and PKCE, for the signed-in profile if there is one;
3. ``check_grant_parameters``: ``checks.GRANT_CHECKS`` (a refusal goes back to the client);
4. ``remember_ui_locale``: the sign-in pages speak the first of ``ui_locales`` this product speaks;
5. ``require_sign_in``: sign in (again) first: nobody signed in, ``prompt=login``, ``max_age``, an
   ``id_token_hint`` for someone else, or a second factor asked for by ``acr_values``
   (``prompt=none``: ``login_required``);
6. ``offer_account_choice``: ``prompt=select_account`` shows the profile and its service accounts;
7. ``take_consent_answer``: the consent form's answer, with this session's CSRF token: a denial is
   ``access_denied``, an agreement is remembered;
8. ``ask_consent``: the consent page, unless the client has what it asks for (first-party clients
   always have; ``prompt=none``: ``consent_required``).

Every redirect back to the client names this issuer (RFC 9207). ``/authorize/service-account`` and
``/authorize/switch`` are the account chooser's forms.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import AccessDeniedError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from idp.audit.services import record
from idp.config import LANGUAGES
from idp.connectors.links import activate, links_of, posted_link
from idp.extensions import csrf, db
from idp.forms import EmptyForm
from idp.oauth.checks import GRANT_CHECKS, RAW_CHECKS, first_refusal
from idp.oauth.models import ACR_MULTI_FACTOR, Client, Consent
from idp.oauth.server import CHOSEN_ACCOUNT, Authorization, authorization_server
from idp.oauth.tokens import issuer, read
from idp.profiles.models import Profile
from idp.sessions.services import current_profile, current_session_row, sign_out
from idp.timeutil import utcnow

bp = Blueprint("authorize", __name__)

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


@dataclass
class Context:
    """One authorization request as the steps see it."""

    params: MultiDict[str, str]  # the query (GET) or the form (POST), the consent form's fields too
    prompts: set[str]
    decision: str | None  # the consent form's answer ("allow" or not); None: no form was sent
    profile: Profile | None = None  # who is signed in (``validate_with_authlib``)
    grant: Any = field(default=None, repr=False)  # Authlib's validated grant (``validate_with_authlib``)

    @classmethod
    def of(cls, flask_request) -> Context:
        params = flask_request.values
        return cls(
            params=params,
            prompts=set(params.get("prompt", "").split()),
            decision=flask_request.form.get("decision") if flask_request.method == "POST" else None,
        )

    @property
    def signed_in(self) -> Profile:
        """The profile, which every step after ``require_sign_in`` has."""
        assert self.profile is not None, "only after require_sign_in"
        return self.profile

    @property
    def client(self) -> Client:
        return self.grant.client

    @property
    def scopes(self) -> list[str]:
        return (self.grant.request.scope or "").split()

    def refuse(self, error: type[OAuth2Error]) -> OAuth2Error:
        """``error``, to send back to the verified redirect URI with the request's ``state``."""
        return error(redirect_uri=self.grant.redirect_uri, state=self.params.get("state"))


Answer: TypeAlias = ResponseReturnValue | OAuth2Error  # a page, a redirect, or a protocol error
Step: TypeAlias = Callable[[Context], Answer | None]


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt  # a protocol request, which may be a form POST (Core §3.1.2.1); our consent form
def authorize():  # still proves its CSRF token (``take_consent_answer``)
    """The authorization endpoint (query on GET, form-encoded on POST, and the consent form)."""
    context = Context.of(request)
    for step in STEPS:
        answer = step(context)
        if answer is not None:
            return _error_response(answer) if isinstance(answer, OAuth2Error) else answer
    return issue_code(context)


# --- the steps, in order ----------------------------------------------------------------------


def check_raw_parameters(context: Context) -> OAuth2Error | None:
    """What Authlib would choke on or quote in an error (``checks.RAW_CHECKS``)."""
    return first_refusal(RAW_CHECKS, context.params)


def validate_with_authlib(context: Context) -> OAuth2Error | None:
    """Authlib's checks of the client, redirect URI, response type, scopes and PKCE."""
    context.profile = current_profile()
    try:
        context.grant = authorization_server().get_consent_grant(end_user=context.profile)
    except OAuth2Error as error:
        return error
    return None


def check_grant_parameters(context: Context) -> OAuth2Error | None:
    """What Authlib lets through but this provider refuses (``checks.GRANT_CHECKS``)."""
    params = context.params
    return first_refusal(GRANT_CHECKS, params, context.grant.redirect_uri, params.get("state"))


def remember_ui_locale(context: Context) -> None:
    """Show the sign-in pages in the first of ``ui_locales`` this product speaks."""
    for tag in context.params.get("ui_locales", "").split():
        code = tag.split("-")[0].lower()
        if code in LANGUAGES:
            session["ui_locale"] = code
            return


def require_sign_in(context: Context) -> Answer | None:
    """Send the person to sign in (again, or with a second factor) when they must."""
    reason = _why_sign_in_again(context.profile, context.params, context.prompts)
    if reason is None:
        return None
    if "none" in context.prompts:
        return context.refuse(LoginRequiredError)
    return _to_sign_in(context.params, step_up=reason == "step_up")


def offer_account_choice(context: Context) -> Answer | None:
    """``prompt=select_account``: go on with this profile (and pick the service account), or another."""
    if "select_account" not in context.prompts or context.decision is not None:
        return None
    continue_url = _authorize_url(context.params, drop_prompts={"select_account"})
    return render_template(
        "oauth/select_account.html",
        client=context.client,
        profile=context.profile,
        continue_url=continue_url,
        other_url=url_for("authorize.switch_account", next=continue_url),
        service_links=links_of(context.signed_in.id) if "services" in context.scopes else [],
        form=EmptyForm(),
    )


def take_consent_answer(context: Context) -> Answer | None:
    """The consent form was sent: a denial is always one, whatever was agreed before; an agreement
    is remembered (first-party clients need none)."""
    if context.decision is None:
        return None
    _answered_consent()
    if context.decision != "allow":
        record("oauth.consent_denied", context.signed_in.id, client=context.client.client_id)
        db.session.commit()
        return context.refuse(AccessDeniedError)
    if not context.client.first_party:
        _save_consent(context.signed_in.id, context.client, context.scopes)
    return None


def ask_consent(context: Context) -> Answer | None:
    """Ask the person to agree, unless they just did or the client has what it asks for."""
    if context.decision is not None or _consented(context):
        return None
    if "none" in context.prompts:
        return context.refuse(ConsentRequiredError)
    return render_template(
        "oauth/consent.html",
        client=context.client,
        profile=context.profile,
        scopes=[(s, SCOPE_TEXTS[s]) for s in context.scopes if s in SCOPE_TEXTS],
        form=EmptyForm(),
        action=_authorize_url(context.params, drop_prompts={"consent"}),
    )


STEPS: tuple[Step, ...] = (
    check_raw_parameters,
    validate_with_authlib,
    check_grant_parameters,
    remember_ui_locale,
    require_sign_in,
    offer_account_choice,
    take_consent_answer,
    ask_consent,
)


def issue_code(context: Context) -> Response:
    """Every step passed: give the browser session its ``sid``, audit, and send the code back."""
    row = current_session_row()
    assert row is not None, "require_sign_in saw the session"
    if row.sid is None:
        row.sid = secrets.token_urlsafe(16)
    client_id, scope = context.client.client_id, " ".join(context.scopes)
    record("oauth.authorized", context.signed_in.id, client=client_id, scope=scope)
    # The request was validated by ``validate_with_authlib``: the grant makes the code from that
    # (Authlib's create_authorization_response would validate it all again), and the session's
    # sid, the audit event and the code are committed together (``save_authorization_code``).
    grant, server = context.grant, authorization_server()
    try:
        response = server.handle_response(
            *grant.create_authorization_response(grant.redirect_uri, Authorization(context.signed_in, row))
        )
    except OAuth2Error as error:  # as Authlib's own create_authorization_response answers it
        error.state = context.params.get("state")
        response = server.handle_error_response(grant.request, error)
    grant.execute_hook("after_authorization_response", response)
    return _with_issuer(response)


# --- what the steps share ---------------------------------------------------------------------


def _with_issuer(response: Response) -> Response:
    """RFC 9207: every redirect back to the client names this issuer."""
    location = response.headers.get("Location")
    if response.status_code == 302 and location:
        response.headers["Location"] = add_params_to_uri(location, [("iss", issuer())])
    return response


def _error_response(error: OAuth2Error) -> ResponseReturnValue:
    """Redirect a protocol error to a verified redirect URI; otherwise show it as a page."""
    if error.redirect_uri:
        return _with_issuer(authorization_server().handle_error_response(request, error))
    return render_template("oauth/error.html", description=error.description or error.error), 400


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
    ``prompt=select_account`` (the person just chose the profile): none is asked again on the way
    back, but for the choice of the service account when the client asks for ``services``.
    """
    satisfied = {"login"} if "services" in params.get("scope", "").split() else {"login", "select_account"}
    arguments: dict[str, Any] = {
        "next": _authorize_url(params, drop_prompts=satisfied, drop=("max_age",)),
        "reauth": "1",
    }
    hint = params.get("login_hint", "")
    if hint and len(hint) <= 254:
        arguments["login_hint"] = hint
    if step_up:
        arguments["mfa"] = "1"
    return redirect(url_for("auth.signin", **arguments))


def _consented(context: Context) -> bool:
    """Whether the client has what it asks for: first-party, or agreed to before (no ``prompt=consent``)."""
    client = context.client
    if client.first_party:
        return True
    if "consent" in context.prompts:
        return False
    consent = db.session.get(Consent, (context.signed_in.id, client.client_id))
    return consent is not None and set(context.scopes) <= set(consent.scope.split())


def _save_consent(profile_id: int, client: Client, scopes: list[str]) -> None:
    consent = db.session.get(Consent, (profile_id, client.client_id))
    if consent is None:
        consent = Consent(profile_id=profile_id, client_id=client.client_id, scope="")
        db.session.add(consent)
    consent.scope = " ".join(dict.fromkeys(consent.scope.split() + scopes))
    consent.granted_at = utcnow()
    record("oauth.consent_given", profile_id, client=client.client_id, scope=" ".join(scopes))
    db.session.commit()


# --- the account chooser's forms --------------------------------------------------------------


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
            client_id = parse_qs(urlsplit(next_url).query).get("client_id", [""])[0]
            CHOSEN_ACCOUNT.start(client_id=client_id, account=f"{chosen.connector}:{chosen.account}")
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
