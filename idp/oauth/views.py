"""The provider's machine endpoints: discovery, keys, token, userinfo, revocation, introspection."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request

from idp.extensions import csrf, db
from idp.i18n import LANGUAGES
from idp.links import external_url
from idp.oauth.clients import CLIENT_AUTH_METHODS
from idp.oauth.keys import ALGORITHMS, public_jwks
from idp.oauth.models import ACR_MULTI_FACTOR, ACR_PASSWORD, Client
from idp.oauth.server import authorization_server
from idp.oauth.tokens import issuer

bp = Blueprint("oauth", __name__)

SCOPES = ["openid", "profile", "email", "phone", "offline_access", "services"]
CLAIMS = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "name",
    "given_name",
    "family_name",
    "locale",
    "updated_at",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "services",
]


@bp.get("/.well-known/openid-configuration")
def discovery():
    """OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414)."""
    alg = current_app.config["IDP_SIGNING_ALG"]
    metadata = {
        "issuer": issuer(),
        "authorization_endpoint": external_url("authorize.authorize"),
        "token_endpoint": external_url("oauth.token"),
        "userinfo_endpoint": external_url("oauth.userinfo"),
        "jwks_uri": external_url("oauth.keys"),
        "end_session_endpoint": external_url("logout.end_session"),
        "revocation_endpoint": external_url("oauth.revoke"),
        "introspection_endpoint": external_url("oauth.introspect"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        # RS256 must be there (Discovery §3); ES256 is the default, RS256 on a client's request.
        "id_token_signing_alg_values_supported": list(dict.fromkeys([alg, *ALGORITHMS])),
        "userinfo_signing_alg_values_supported": [alg],
        "token_endpoint_auth_methods_supported": [*CLIENT_AUTH_METHODS, "none"],
        "revocation_endpoint_auth_methods_supported": [*CLIENT_AUTH_METHODS, "none"],
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": CLAIMS,
        "acr_values_supported": [ACR_PASSWORD, ACR_MULTI_FACTOR],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": list(LANGUAGES),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }
    return _published(jsonify(metadata))


@bp.get("/jwks.json")
def keys():
    """The JSON Web Key Set relying parties verify signatures with (cacheable for a while)."""
    return _published(jsonify(public_jwks()))


def _published(response: Response) -> Response:
    """A public document: cacheable for a while, with an ETag a cache can ask again with.
    (``idp.oauth.machine`` serves the same bytes and headers without coming here.)"""
    response.headers["Cache-Control"] = "public, max-age=300"
    response.add_etag()
    response.make_conditional(request)
    return response


CLIENT_AUTHENTICATING = {"oauth.token", "oauth.revoke", "oauth.introspect"}


@bp.before_request
def drop_empty_client_credentials() -> None:
    """An Authorization header that names a scheme and nothing else ("Basic ", "Bearer ") says
    nothing; Authlib's client authentication would fail on it, so it is dropped."""
    value = request.environ.get("HTTP_AUTHORIZATION")
    if request.endpoint in CLIENT_AUTHENTICATING and value is not None and len(value.split()) < 2:
        del request.environ["HTTP_AUTHORIZATION"]


@bp.post("/token")
@csrf.exempt
def token():
    """Token endpoint: authorization_code, refresh_token, client_credentials. What a grant
    stores (the code spent, the grant, the refresh token) is committed once, with the answer
    made; a refusal keeps nothing (a reuse's revocation is committed where it is found)."""
    response = authorization_server().create_token_response()
    if response.status_code == 200:
        db.session.commit()
    else:
        db.session.rollback()
    return response


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo():
    """Claims about the profile an access token was issued for."""
    response = _without_bearer_token() or authorization_server().create_endpoint_response("userinfo")
    response.headers["Cache-Control"] = "no-store"
    return response


def _without_bearer_token() -> Response | None:
    """RFC 6750 §3.1: a request with no bearer token at all gets the challenge without an error
    code; a malformed one is an ``invalid_request``. None when a token is there to check."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        response = Response(status=401)
        response.headers["WWW-Authenticate"] = f'Bearer realm="{issuer()}"'
        return response
    if not token.strip():
        response = jsonify(error="invalid_request", error_description="The bearer token is empty.")
        response.status_code = 400
        response.headers["WWW-Authenticate"] = f'Bearer realm="{issuer()}", error="invalid_request"'
        return response
    return None


@bp.post("/revoke")
@csrf.exempt
def revoke():
    """RFC 7009 token revocation."""
    return authorization_server().create_endpoint_response("revocation")


@bp.post("/introspect")
@csrf.exempt
def introspect():
    """RFC 7662 token introspection."""
    response = authorization_server().create_endpoint_response("introspection")
    response.headers["Cache-Control"] = "no-store"
    return response


# Browser apps (public clients) call these from their own origin; metadata and keys are public.
PUBLIC_DATA = {"oauth.discovery", "oauth.keys"}
BROWSER_APP_ENDPOINTS = {"oauth.token", "oauth.userinfo"}


def _browser_app_origins() -> set[str]:
    """Origins of the redirect URIs of public clients: the web apps allowed to call the token endpoint."""
    origins = set()
    for uris in db.session.scalars(db.select(Client.redirect_uris_json).where(Client.secret_hash.is_(None))):
        for uri in Client(redirect_uris_json=uris).redirect_uris:
            parts = urlsplit(uri)
            if parts.scheme in ("http", "https"):
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return origins


@bp.after_request
def allow_browser_apps(response):
    """CORS for single-page apps: public data to anyone, tokens to registered browser apps."""
    origin = request.headers.get("Origin")
    if not origin or request.endpoint not in PUBLIC_DATA | BROWSER_APP_ENDPOINTS:
        return response
    if request.endpoint in PUBLIC_DATA:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin in _browser_app_origins():
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, DPoP"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Max-Age"] = "600"
        response.vary.add("Origin")
    return response
