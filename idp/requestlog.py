"""Request ids and one log line per request, as a thin WSGI middleware around the whole app.

Every request gets an id: the incoming ``X-Request-ID`` when it is safe (1–64 characters of
``A-Z a-z 0-9 . _ -``; HAProxy in front sets it with ``unique-id-header``), else a new random one.
It is put in ``environ["idp.request_id"]``, echoed in the response's ``X-Request-ID``, added to
every log record written during the request and stored in each audit event the request records
(``current_request_id``).

With IDP_REQUEST_LOG on, each request ends with one INFO line of the ``idp.request`` logger:
method, path (redacted, without its query string: queries carry codes and tokens), endpoint,
status, duration_ms, remote_addr, user_agent (truncated) and request_id, as extra fields of a JSON
line or in a compact text line. The middleware wraps the WSGI app last, so requests answered in
front of Flask are logged too; such a fast path may name its endpoint in ``environ["idp.endpoint"]``.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from flask import Flask, has_request_context, request

from idp.logs import log_format, redact
from idp.wsgi_body import ClosingBody

log = logging.getLogger("idp.request")

HEADER = "X-Request-ID"
ENVIRON_KEY = "idp.request_id"
ENDPOINT_KEY = "idp.endpoint"
USER_AGENT_LENGTH = 200
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The id of the request this thread (or task) is serving, for log records written outside Flask's
# request context: the middleware itself, a fast path in front of Flask.
_current: ContextVar[str | None] = ContextVar("idp_request_id", default=None)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def request_id_for(environ: dict[str, Any]) -> str:
    """The incoming ``X-Request-ID`` when it is safe to log and store, else a new random id."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    if _SAFE_ID.fullmatch(incoming):
        return incoming
    # An id to find a request by, not a secret: 64 bits of the process's generator (reseeded in
    # each forked worker) cost a tenth of a system call for random bytes.
    return f"{random.getrandbits(64):016x}"  # noqa: S311


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    if has_request_context():
        return request.environ.get(ENVIRON_KEY)
    return _current.get()


class AddRequestId(logging.Filter):
    """Give each record written during a request its ``request_id`` (a handler filter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "request_id" not in record.__dict__:
            request_id = current_request_id()
            if request_id is not None:
                record.request_id = request_id
        return True


class RequestLog:
    """The middleware: assign the request id, echo it, and log the request when it ends."""

    def __init__(self, wsgi_app: WSGIApp, *, log_lines: bool = True, text: bool = False) -> None:
        self.wsgi_app = wsgi_app
        self.log_lines = log_lines
        self.text = text

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = environ[ENVIRON_KEY] = request_id_for(environ)
        _current.set(request_id)
        status: list[str] = []

        def start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[:] = [code]
            headers.append((HEADER, request_id))
            return start_response(code, headers, exc_info)

        try:
            body = self.wsgi_app(environ, start)
        except BaseException:
            self._finish(environ, "500", started)
            raise
        if isinstance(body, list) and status:
            # A whole answer (the machine endpoints'): ended now, and passed on as the list it is,
            # which a server sends in one write instead of iterating it.
            self._finish(environ, status[0], started)
            return body
        return ClosingBody(body, lambda: self._finish(environ, status[0] if status else "500", started))

    def _finish(self, environ: dict[str, Any], status: str, started: float) -> None:
        try:
            if self.log_lines and log.isEnabledFor(logging.INFO):
                self._log(environ, int(status[:3]), (time.perf_counter() - started) * 1000)
        finally:
            _current.set(None)

    def _log(self, environ: dict[str, Any], status: int, duration_ms: float) -> None:
        fields = {
            "method": environ.get("REQUEST_METHOD", ""),
            "path": redact(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")),
            "endpoint": environ.get(ENDPOINT_KEY),
            "status": status,
            "duration_ms": round(duration_ms, 1),
            "remote_addr": environ.get("REMOTE_ADDR"),  # read last: ProxyFix has set the client's
            "user_agent": environ.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH],
            "request_id": environ[ENVIRON_KEY],
        }
        if self.text:  # a decoded %0A in a path must not start a forged line
            shown = {
                **fields,
                "path": _printable(fields["path"]),
                "user_agent": _printable(fields["user_agent"]),
            }
            log.info(
                "%(method)s %(path)s %(status)s %(duration_ms)sms endpoint=%(endpoint)s ip=%(remote_addr)s "
                'id=%(request_id)s ua="%(user_agent)s"',
                shown,
                extra=fields,
            )
        else:
            log.info("%s %s %s", fields["method"], fields["path"], status, extra=fields)


def _printable(text: str) -> str:
    return _CONTROL.sub("?", text)


def wrap(wsgi_app: WSGIApp, *, log_lines: bool = True, text: bool = False) -> RequestLog:
    """``wsgi_app`` with request ids and, when ``log_lines``, one line per request."""
    return RequestLog(wsgi_app, log_lines=log_lines, text=text)


def request_log_enabled(config: Any) -> bool:
    """IDP_REQUEST_LOG, where ``auto`` means on in production only (tests and benchmarks stay quiet)."""
    chosen = config.get("IDP_REQUEST_LOG", "auto")
    return config.get("IDP_ENV") == "production" if chosen == "auto" else bool(chosen)


def init_app(app: Flask) -> None:
    """Wrap the app's WSGI stack (call last), name each request's endpoint, tag log records."""
    app.wsgi_app = wrap(  # type: ignore[method-assign]
        app.wsgi_app,
        log_lines=request_log_enabled(app.config),
        text=log_format(app.config) == "text",
    )

    @app.url_value_preprocessor
    def _name_endpoint(endpoint: str | None, _values: Any) -> None:
        # Runs before every before_request hook, so a request they answer is named too.
        request.environ[ENDPOINT_KEY] = endpoint

    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, AddRequestId) for f in handler.filters):
            handler.addFilter(AddRequestId())
