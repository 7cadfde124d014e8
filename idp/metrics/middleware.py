"""The WSGI middleware that counts and times every request, Flask's and any fast path's.

Its cost is a few dictionary lookups and two clock reads per request: label children are looked
up once per (endpoint, method, status line) and kept. The endpoint is ``environ["idp.endpoint"]``
(a Flask hook sets it to ``request.endpoint``; a WSGI fast path in front of Flask sets its own),
"unmatched" when nothing named it (a 404, a request refused before routing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from time import perf_counter
from typing import Any

from idp.metrics.counters import LATENCY, REQUESTS
from idp.wsgi_body import ClosingBody

ENDPOINT_KEY = "idp.endpoint"
UNMATCHED = "unmatched"
# Any other method is "other": a label value a client could invent would grow the series forever.
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wrap(wsgi_app: WSGIApp) -> WSGIApp:
    """Return ``wsgi_app`` counting its requests (idp_http_requests_total) and timing them
    (idp_http_request_duration_seconds) until it returns its body."""
    # (endpoint, method, status line) -> the bound ``inc`` and ``observe`` of its label children.
    observers: dict[tuple[str, str, str], tuple[Callable[[], None], Callable[[float], None]]] = {}

    def observe(environ: dict[str, Any], status: str, seconds: float) -> None:
        endpoint = environ.get(ENDPOINT_KEY) or UNMATCHED
        method = environ.get("REQUEST_METHOD")
        if method not in METHODS:
            method = "other"
        key = (endpoint, method, status)
        pair = observers.get(key)
        if pair is None:
            pair = observers[key] = (
                REQUESTS.labels(endpoint, method, status[:3]).inc,
                LATENCY.labels(endpoint).observe,
            )
        pair[0]()
        pair[1](seconds)

    def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.append(status)
            return start_response(status, headers, exc_info)

        started = perf_counter()
        try:
            body = wsgi_app(environ, start)
        except BaseException:
            observe(environ, "500", perf_counter() - started)
            raise
        if seen:
            observe(environ, seen[-1], perf_counter() - started)
            return body
        # A generator app calls start_response only once its body is read: count it when closed.
        return ClosingBody(
            body, lambda: observe(environ, seen[-1] if seen else "500", perf_counter() - started)
        )

    return counted
