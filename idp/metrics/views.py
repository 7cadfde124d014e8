"""/healthz, /readyz and /metrics: machine endpoints outside the page machinery.

No session is read or written (``SESSIONLESS_PATHS``), no CSRF applies (they are GET), no rate
limit counts them, and they answer plain HTTP even in production (a load balancer or a scraper
on the private network probes each instance directly).
"""

from __future__ import annotations

import json

from flask import Blueprint, Flask, Response, abort, request

from idp.extensions import limiter, talisman
from idp.metrics import access, health, registry
from idp.sessions.interface import SESSIONLESS_PATHS

bp = Blueprint("ops", __name__)

PATHS = ("/healthz", "/readyz", "/metrics")
HEALTHY = json.dumps({"status": "ok"})
# The Prometheus text format 0.0.4 that ``generate_latest`` writes, which every Prometheus reads.
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _json(text: str, status: int) -> Response:
    return Response(text, status, mimetype="application/json", headers={"Cache-Control": "no-store"})


@bp.get("/healthz")
@talisman(force_https=False)
@limiter.exempt
def healthz() -> Response:
    """The process lives and answers: no database, nothing else is asked."""
    return _json(HEALTHY, 200)


@bp.get("/readyz")
@talisman(force_https=False)
@limiter.exempt
def readyz() -> Response:
    """The database, Redis (when configured) and the signing key are reachable: 200, else 503."""
    ready, checks = health.readiness()
    body = json.dumps({"status": "ready" if ready else "unavailable", "checks": checks})
    return _json(body, 200 if ready else 503)


@bp.get("/metrics")
@talisman(force_https=False)
@limiter.exempt
def metrics() -> Response:
    """Prometheus metrics for an allowed address or the bearer token; 404 to anyone else."""
    if not access.admitted(request):
        abort(404)
    return Response(registry.render(), 200, content_type=METRICS_CONTENT_TYPE)


def init_app(app: Flask) -> None:
    """Register the endpoints and keep sessions away from them."""
    access.init_app(app)
    app.register_blueprint(bp)
    SESSIONLESS_PATHS.update(PATHS)
