"""The counters and histograms the product updates as it works (prometheus-client).

They live in prometheus-client's default registry; under several worker processes with
``PROMETHEUS_MULTIPROC_DIR`` set (before the first import) each process writes them to its own
files there and a scrape adds them up (``idp.metrics.registry``). This module imports nothing of
the app, so any module may count without an import cycle.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram, disable_created_metrics

# No *_created series: they would double the series of every counter and histogram for a value
# (the process's start) that rate() never needs.
disable_created_metrics()

# Sub-millisecond endpoints (token, JWKS) up to a slow page with Argon2id and a database round trip.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "idp_http_requests",
    "HTTP requests answered, by endpoint, method and status.",
    ("endpoint", "method", "status"),
)
LATENCY = Histogram(
    "idp_http_request_duration_seconds",
    "Time to answer an HTTP request (until the WSGI app returns), by endpoint.",
    ("endpoint",),
    buckets=LATENCY_BUCKETS,
)
SIGNINS = Counter(
    "idp_signins",
    "Password sign-ins by result: success (the whole sign-in, second factor included), failure "
    "(wrong identifier or password), disabled (a right password of a disabled profile).",
    ("result",),
)
THROTTLED = Counter(
    "idp_throttled",
    "Attempts refused by a limit or budget, by limit: signin_delay, signin_lock, sms_profile, "
    "sms_ceiling, sms_proof_required, invitation_budget, letter_budget, api_client, or "
    "http:<endpoint> for a Flask-Limiter limit of that endpoint.",
    ("limit",),
)

SIGNIN_RESULTS = ("success", "failure", "disabled")
for _result in SIGNIN_RESULTS:
    SIGNINS.labels(_result)  # shown as 0 from the start, so rates need no absent series


def count_signin(result: str) -> None:
    """Count one sign-in with ``result`` (one of SIGNIN_RESULTS)."""
    SIGNINS.labels(result).inc()


def count_throttled(limit: str) -> None:
    """Count one attempt refused by ``limit``."""
    THROTTLED.labels(limit).inc()


def count_limiter_breach(_limit: object = None) -> None:
    """Flask-Limiter's ``on_breach``: count the refused request under its endpoint."""
    from flask import request

    count_throttled(f"http:{request.endpoint or 'unmatched'}")
