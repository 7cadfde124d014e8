"""One error handler per surface: JSON for the protocol endpoints, a localised page for people.

Neither ever shows a stack trace. A database that cannot be reached answers 503 with
``Retry-After`` (a page, or JSON on a protocol endpoint) instead of a 500, and the next request
after it is back works (connections are checked before use). A NUL character, which no form or
protocol parameter of ours can hold and PostgreSQL refuses to store, is refused at the door.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

from idp.extensions import db

log = logging.getLogger("idp.errors")

RETRY_AFTER_SECONDS = 10
DB_UNAVAILABLE = "idp.database_unavailable"  # request.environ key set by the session interface

MESSAGES = {
    400: (
        _l("Something in the request was wrong"),
        _l("The page could not process what was sent. Go back and try again."),
    ),
    403: (_l("Access denied"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("The page you are looking for does not exist or has moved.")),
    405: (_l("Not allowed"), _l("This page cannot be used this way.")),
    429: (
        _l("Too many attempts"),
        _l("There were too many attempts from your address. Wait a little and try again."),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("We could not complete your request. Try again in a few minutes."),
    ),
    503: (
        _l("The service is briefly unavailable"),
        _l("We cannot reach our data right now. Nothing you sent was lost; try again in a minute."),
    ),
}

# The OAuth error code a protocol client reads for each status (RFC 6749 §5.2, RFC 6750 §3.1).
PROTOCOL_ERRORS = {
    400: "invalid_request",
    401: "invalid_client",
    403: "access_denied",
    404: "invalid_request",
    405: "invalid_request",
    413: "invalid_request",
    429: "slow_down",
    500: "server_error",
    503: "temporarily_unavailable",
}


def is_protocol_request() -> bool:
    """Tell whether this request is for a machine endpoint (discovery, token, userinfo, …)."""
    paths = g.get("protocol_paths")
    if paths is None:
        from flask import current_app

        paths = g.protocol_paths = current_app.extensions["idp_protocol_paths"]
    return request.path in paths or request.path.startswith("/.well-known/")


def _page(status: int, title=None, text=None) -> tuple[str, int]:
    default_title, default_text = MESSAGES.get(status, MESSAGES[400])
    return render_template(
        "errors/error.html", status=status, title=title or default_title, text=text or default_text
    ), status


def _protocol(status: int, description: str | None = None) -> Response:
    body = {"error": PROTOCOL_ERRORS.get(status, "invalid_request")}
    if description:
        body["error_description"] = description
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def register_error_surface(app: Flask, prefix: str, render: Callable[[int], Response]) -> None:
    """Errors of requests under ``prefix`` (an API) are answered by ``render(status)`` instead
    of a page or an OAuth error."""
    app.extensions.setdefault("idp_error_surfaces", {})[prefix] = render


def _surface() -> Callable[[int], Response] | None:
    surfaces = current_app.extensions.get("idp_error_surfaces", {})
    return next((render for prefix, render in surfaces.items() if request.path.startswith(prefix)), None)


def _database_unavailable(error: Exception):
    log.error("database unavailable: %s", type(error).__name__)
    with suppress(DBAPIError):  # the connection is gone; the pool will replace it
        db.session.rollback()
    g.profile = None  # the page must not ask the database who is signed in
    render = _surface()
    if render is not None:
        response = render(503)
    elif is_protocol_request():
        response = _protocol(503, "the service is briefly unavailable")
    else:
        text, status = _page(503)
        response = Response(text, status, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _is_database_outage(error: BaseException | None) -> bool:
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def register_error_handlers(app: Flask) -> None:
    """Attach the error pages and JSON errors to ``app``."""
    app.extensions["idp_protocol_paths"] = {
        rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("oauth.")
    }
    # First of all hooks: the session could not be read, so nothing else may run on it.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_unservable_requests)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(
            400,
            _l("The form has expired"),
            _l(
                "For your security the form is valid for a limited time. Go back, "
                "reload the page and send it again."
            ),
        )

    app.register_error_handler(HTTPException, _http_error)

    @app.errorhandler(OperationalError)
    def database_error(error):
        return _database_unavailable(error)

    @app.errorhandler(InternalServerError)
    def internal_error(error):
        original = getattr(error, "original_exception", None)
        if _is_database_outage(original):
            return _database_unavailable(original)
        log.error("unhandled error", exc_info=original)
        render = _surface()
        if render is not None:
            return render(500)
        if is_protocol_request():
            return _protocol(500)
        return _page(500)


def _http_error(error: HTTPException):
    """An HTTP error: a problem under an API, JSON for a protocol endpoint, else a page."""
    if type(error).__module__.startswith("authlib."):
        return error  # a protocol error for a program (JSON and WWW-Authenticate), not a page
    render = _surface()
    if render is not None:
        response = render(error.code or 500)
        if error.code == 405:
            response.headers["Allow"] = ", ".join(getattr(error, "valid_methods", None) or [])
        return response
    if is_protocol_request():
        response = _protocol(error.code or 500, error.description if error.code == 405 else None)
        if error.code == 405:
            response.headers["Allow"] = ", ".join(error.valid_methods or [])
        return response
    return _page(error.code or 500)


def _refuse_unservable_requests() -> None:
    """Answer 503 when the session could not be read, and 400 for a NUL in the request."""
    unavailable = request.environ.get(DB_UNAVAILABLE)
    if unavailable is not None:
        raise unavailable
    if "\x00" in request.path or any(
        "\x00" in key or "\x00" in value
        for values in (request.args, request.form)
        for key, value in values.items(multi=True)
    ):
        raise BadRequest("NUL characters are not allowed")
