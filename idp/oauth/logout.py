"""``/logout``: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

Authlib's end-session endpoint (``EndSession``, registered with the authorization server in
``idp.oauth.server``) validates the request. With an ``id_token_hint`` of the signed-in person the
session ends at once; without one, nobody can tell that the client asks on this person's behalf,
so they are asked (``/logout/confirm``). Back-channel notices to the clients are
``idp.oauth.backchannel``'s.
"""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp.audit.services import record
from idp.extensions import csrf, db
from idp.forms import EmptyForm
from idp.oauth.models import Client
from idp.oauth.server import END_SESSION, authorization_server
from idp.sessions.flows import Flow
from idp.sessions.services import current_profile, sign_out

bp = Blueprint("logout", __name__)
LOGOUT = Flow("logout_confirmation", minutes=10)  # where to go once the person confirmed


@bp.route("/logout", methods=["GET", "POST"])
@csrf.exempt
def end_session():
    """RP-initiated logout: at once with a valid ``id_token_hint``, otherwise after asking."""
    server = authorization_server()
    try:
        ended = server.validate_endpoint_request(END_SESSION)
    except OAuth2Error as error:
        return render_template("oauth/error.html", description=error.description or error.error), 400
    claims = ended.id_token_claims
    profile = current_profile()
    if claims is not None and (profile is None or claims.get("sub") == profile.subject):
        # Signs out (``EndSession.end_session``), then redirects to a registered redirect URI, if any.
        return server.create_endpoint_response(END_SESSION, ended) or _after_logout(None, ended.client)
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
