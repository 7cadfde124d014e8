"""Operations: health checks for a load balancer and Prometheus metrics.

``/healthz`` says the process lives, ``/readyz`` that the database, Redis and the signing key are
reachable, ``/metrics`` gives the Prometheus metrics to an allowed scraper (IDP_METRICS_ALLOW,
IDP_METRICS_TOKEN). Requests are counted by a WSGI middleware (``wrap``) around the whole app,
so a fast path in front of Flask is counted too; the product counts sign-ins and refusals with
``count_signin`` and ``count_throttled``; delivery metrics are read from the database at scrape
time. Multiprocess mode (gunicorn): see ``idp.metrics.registry``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from idp.metrics.counters import count_signin, count_throttled
from idp.metrics.middleware import ENDPOINT_KEY, wrap
from idp.metrics.registry import mark_process_dead

__all__ = ["count_signin", "count_throttled", "init_app", "mark_process_dead", "wrap"]


def init_app(app: Flask) -> None:
    """Add the operations endpoints, name each request's endpoint, and count every request."""
    from idp.metrics import views

    views.init_app(app)
    app.url_value_preprocessor(_name_endpoint)
    app.wsgi_app = wrap(app.wsgi_app)  # type: ignore[method-assign,assignment]


def _name_endpoint(endpoint: str | None, _values: Any) -> None:
    # A URL value preprocessor runs before every before_request hook (the limiter's, the session
    # check's), so a request one of them refuses is still counted under its endpoint.
    request.environ[ENDPOINT_KEY] = endpoint
