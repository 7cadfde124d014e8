"""``/scim/v2/<org id>/…``: each organisation's SCIM 2.0 endpoint, served by scim2-server over
the organisation's storage; and the organisation page's card "Directory sync (SCIM)" (make a
token, shown once; revoke one).

A SCIM request carries ``Authorization: Bearer <token>`` of the organisation its URL names; any
other request (no token, a wrong or revoked one, another organisation's, an organisation that
does not exist) gets the same 401 with a SCIM Error body. Every endpoint, the service provider
configuration included, asks for the token, so nothing tells whether an organisation exists.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import cast

from flask import Blueprint, Flask, abort, current_app, flash, make_response, render_template, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from scim2_models import Error, UnauthorizedException
from scim2_server.applications.wsgi import WSGIApplication
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from werkzeug.exceptions import TooManyRequests
from wtforms import StringField
from wtforms.validators import Length

from idp.auth.guards import login_required
from idp.extensions import csrf, limiter
from idp.links import external_url
from idp.orgs import pages
from idp.orgs.forms import ConfirmForm
from idp.orgs.models import Organisation
from idp.orgs.services import get_organisation
from idp.orgs.views import action_page, attempt, back_to, confirmed, scope_of
from idp.scim import services, tokens
from idp.scim.app import GROUP_MODEL, PROVIDER, SERVICE, USER_MODEL
from idp.scim.models import ScimToken
from idp.scim.storage import OrganisationStorage
from idp.security.crypto import token_digest

bp = Blueprint("scim", __name__)
csrf.exempt(bp)  # machine requests with a bearer token; the card's forms carry their own token
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
RATE_LIMIT = "600 per minute"  # per presented token: a directory's sync cycle, with room


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    state.app.add_template_global(tokens.tokens_of, "scim_tokens")
    state.app.add_template_global(scim_base_url)
    services.init_app(cast(Flask, state.app))


def scim_base_url(org: Organisation) -> str:
    """What the organisation pastes into Entra ID (Tenant URL) or Okta (SCIM connector base URL)."""
    return external_url("scim.root", org_ref=str(org.id))


# --- the SCIM endpoint ------------------------------------------------------------------------


def _token_key() -> str:
    """Throttle per presented token (a digest of it: never the token itself in a limiter key)."""
    return "scim:" + token_digest(request.headers.get("Authorization", ""))[:24]


def _send(response: ScimResponse) -> ResponseReturnValue:
    body = "" if response.body is None else json.dumps(response.body)
    return make_response(body, response.status.value, response.headers)


def _authenticated(org_ref: str) -> tuple[Organisation, ScimToken] | None:
    scheme, _space, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not org_ref.isdigit():
        return None
    token = tokens.authenticate(int(org_ref), presented.strip())
    org = get_organisation(token.org_id) if token is not None else None
    return (org, token) if org is not None and token is not None else None


@bp.route("/scim/v2/<org_ref>", defaults={"path": ""}, methods=METHODS, endpoint="root")
@bp.route("/scim/v2/<org_ref>/<path:path>", methods=METHODS)
@limiter.limit(RATE_LIMIT, key_func=_token_key)
def endpoint(org_ref: str, path: str) -> ResponseReturnValue:
    """One SCIM request of an organisation's directory."""
    found = _authenticated(org_ref)
    if found is None:
        return _send(SERVICE.error_response(UnauthorizedException(detail="A valid SCIM token is required")))
    org, token = found
    storage = OrganisationStorage(org, services.actor_of(token.id, org.id), USER_MODEL, GROUP_MODEL)
    scim_request = ScimRequest(
        method=request.method,
        base_url=current_app.config["IDP_ISSUER"].rstrip("/") + f"/scim/v2/{org.id}",
        path="/" + path,
        query=request.args.to_dict(),
        headers=list(request.headers.items()),
        body=request.get_data(),
    )
    return _send(WSGIApplication(storage, PROVIDER, SERVICE).serve(scim_request))


@bp.errorhandler(TooManyRequests)
def _too_many(_exception: TooManyRequests) -> ResponseReturnValue:
    error = Error(status=429, detail="Too many requests: slow down")
    response = ScimResponse(HTTPStatus.TOO_MANY_REQUESTS, error.model_dump(), {"Retry-After": "60"})
    return _send(response)


# --- the organisation page's card -------------------------------------------------------------


class TokenForm(ConfirmForm):
    label = StringField(
        _l("Name of the token (e.g. the directory it is for)"),
        [Length(max=tokens.LABEL_LIMIT)],
        render_kw={"placeholder": "Microsoft Entra ID", "maxlength": tokens.LABEL_LIMIT},
    )


def _managed_scope(org_id: int) -> pages.Scope:
    """The organisation's owner and administrators only; anybody else gets 404."""
    scope = scope_of(org_id)
    if not scope.manages:
        abort(404)
    return scope


@bp.route("/org/<int:org_id>/scim/new", methods=["GET", "POST"])
@login_required
def new_token(org_id: int) -> ResponseReturnValue:
    """Make a SCIM token: shown on the next page once, never again."""
    scope = _managed_scope(org_id)
    form = TokenForm()
    refused = False
    if confirmed(form):
        made: list[tuple[ScimToken, str]] = []
        if attempt(lambda: made.append(tokens.create_token(scope.actor, scope.org, form.label.data or ""))):
            row, secret = made[0]
            page = render_template(
                "scim/token.html", scope=scope, token=row, secret=secret, base_url=scim_base_url(scope.org)
            )
            response = make_response(page)
            response.headers["Cache-Control"] = "no-store"
            return response
        refused = True
    return action_page(
        scope,
        form,
        refused,
        title=_("Make a SCIM token"),
        lines=[
            _("Microsoft Entra ID or Okta uses it to add and remove the organisation's people."),
            _("The token is shown once, on the next page. Keep it in the directory's settings only."),
        ],
        submit=_("Make the token"),
    )


@bp.route("/org/<int:org_id>/scim/<int:token_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_token(org_id: int, token_id: int) -> ResponseReturnValue:
    """Revoke a SCIM token: the directory's next request with it is refused."""
    scope = _managed_scope(org_id)
    row = tokens.token_of(scope.org, token_id)
    if row is None or not row.active:
        abort(404)
    form = ConfirmForm()
    refused = False
    if confirmed(form):
        if attempt(lambda: tokens.revoke_token(scope.actor, scope.org, row)):
            flash(_("The SCIM token %(label)s was revoked.", label=row.label), "success")
            return back_to(scope, "scim")
        refused = True
    return action_page(
        scope,
        form,
        refused,
        title=_("Revoke the SCIM token"),
        lines=[_("The directory that uses %(label)s can no longer add or remove people.", label=row.label)],
        submit=_("Revoke"),
        danger=True,
    )
