"""Logging that never writes a secret: tokens in URLs are blanked before a line is written.

Access logs show request lines, and some of our URLs carry secrets: an ID token in
``/logout?id_token_hint=``, an authorization code on its way back, e-mail links whose path is a
signed token (``/email/confirm/<token>``, ``/services/iptel/reset/<token>``). ``RedactSecrets``
blanks the values of such query parameters and every long token-like path segment; it is put on the
handlers the product configures (``idp run``'s server) and on gunicorn's access log through
``RedactingGunicornLogger`` (``gunicorn --logger-class idp.logs.RedactingGunicornLogger``).

In json format (IDP_LOG_FORMAT) every record is one JSON object per line (``JsonLines``), and
``gunicorn_logconfig`` gives gunicorn's own lines the same form.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from idp.config import SETTINGS, read_settings

SECRET_PARAMETERS = (
    "id_token_hint",
    "logout_token",
    "code",
    "code_verifier",
    "token",
    "access_token",
    "refresh_token",
    "client_secret",
    "password",
    "login_hint",
    "altcha",
)
REDACTED = "[redacted]"
# Extra fields of a record that may hold a URL (JSON lines write them beside the message).
URL_FIELDS = ("path", "url", "referrer")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_PARAMETER = re.compile(r"(?P<name>(?:^|[?&\s])(?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&\s\"]*")
# A path segment of 32 or more token characters: an itsdangerous link, a random id (also in a
# query parameter's path, e.g. ``next=/invite/<token>&phone=…``).
_PATH_TOKEN = re.compile(r"(?<=/)[A-Za-z0-9_\-.=]{32,}(?=[/?&\s\"]|$)")


def redact(text: str) -> str:
    """``text`` with the secret values of URLs in it blanked."""
    return _PATH_TOKEN.sub(REDACTED, _PARAMETER.sub(lambda m: m.group("name") + REDACTED, text))


class RedactSecrets(logging.Filter):
    """Blank secrets in every record a handler writes: its message (formatted first) and the URL
    fields of ``URL_FIELDS``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for name in URL_FIELDS:
            value = record.__dict__.get(name)
            if isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class JsonLines(JsonFormatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, then the extra
    fields (``request_id`` in a request, the request line's fields, ``exc_info``)."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"], rename_fields={"levelname": "level", "name": "logger"}
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]):
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)


def log_format(config: Mapping[str, Any]) -> str:
    """``text`` or ``json``: IDP_LOG_FORMAT, where ``auto`` is json in production."""
    chosen = config.get("IDP_LOG_FORMAT", "auto")
    if chosen == "auto":
        return "json" if config.get("IDP_ENV") == "production" else "text"
    return chosen


def configure_logging(level: str, fmt: str) -> None:
    """Give the root logger a handler (unless the server gave one), JSON lines in ``json``
    format, and ``RedactSecrets`` on every handler."""
    logging.basicConfig(level=level, format=TEXT_FORMAT)
    if fmt == "json":
        for handler in logging.getLogger().handlers:
            if not isinstance(handler.formatter, JsonLines):
                handler.setFormatter(JsonLines())
    protect_handlers()


def gunicorn_logconfig(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: empty in text format (gunicorn's defaults); in json format its
    own lines (start-up, workers killed or replaced) as JSON lines on stderr like the app's, and no
    access log, since the app writes one line per request (``idp.requestlog``)."""
    wanted = tuple(s for s in SETTINGS if s.name in ("IDP_ENV", "IDP_LOG_FORMAT", "IDP_LOG_LEVEL"))
    values, _ = read_settings(wanted, environ)
    if log_format(values) != "json":
        return {}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": values["IDP_LOG_LEVEL"], "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["redact"],
                "stream": "ext://sys.stderr",
            }
        },
        "formatters": {"json": {"()": JsonLines}},
        "filters": {"redact": {"()": RedactSecrets}},
    }


def protect_handlers(logger: logging.Logger | None = None) -> None:
    """Put ``RedactSecrets`` on the handlers of ``logger`` (default: the root logger)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())


try:  # gunicorn is the production server, but the product also runs without it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = None

if _GunicornLogger is not None:

    class RedactingGunicornLogger(_GunicornLogger):
        """gunicorn's logger with the request line, path and query of access logs redacted."""

        def access(self, resp, req, environ, request_time):
            # gunicorn_logconfig turns its access log off in json format: then skip the line's work.
            if self.access_log.isEnabledFor(logging.INFO):
                super().access(resp, req, environ, request_time)

        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "U", "q"):
                if isinstance(atoms.get(key), str):
                    atoms[key] = redact(atoms[key])
            return atoms
