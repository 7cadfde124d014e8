"""Public endpoints of the provider's keys."""

from flask import Blueprint, current_app, jsonify

from idp.oauth.keys import ensure_keys, jwks

bp = Blueprint("oauth", __name__)


@bp.get("/jwks.json")
def keys():
    """The JSON Web Key Set relying parties verify signatures with (cacheable for a while)."""
    ensure_keys(current_app.config["IDP_SIGNING_ALG"])
    response = jsonify(jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
