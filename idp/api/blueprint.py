"""The provisioning API's blueprint: ``/api/v1``, JSON only, no cookies, no CSRF (a bearer token
authenticates every call, and no browser sends one by itself)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from idp.api.problems import Problem, problem_response
from idp.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.errorhandler(Problem)
def _problem(problem: Problem) -> Response:
    return problem.response()


def init_app(app: Flask) -> None:
    """Problems as JSON for every error under /api/ (an unknown route, a 405, a 500, a database
    outage), not the people's error page."""
    from idp.errors import register_error_surface

    register_error_surface(app, "/api/", problem_response)
