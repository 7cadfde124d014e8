"""Logging that never writes a secret: tokens in URLs are blanked before a line is written.

Access logs show request lines, and some of our URLs carry secrets: an ID token in
``/logout?id_token_hint=``, an authorization code on its way back, e-mail links whose path is a
signed token (``/email/confirm/<token>``, ``/services/iptel/reset/<token>``). ``RedactSecrets``
blanks the values of such query parameters and every long token-like path segment; it is put on the
handlers the product configures (``idp run``'s server) and on gunicorn's access log through
``RedactingGunicornLogger`` (``gunicorn --logger-class idp.logs.RedactingGunicornLogger``).
"""

from __future__ import annotations

import logging
import re

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

_PARAMETER = re.compile(r"(?P<name>(?:^|[?&\s])(?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&\s\"]*")
# A path segment of 32 or more token characters: an itsdangerous link, a random id (also in a
# query parameter's path, e.g. ``next=/invite/<token>&phone=…``).
_PATH_TOKEN = re.compile(r"(?<=/)[A-Za-z0-9_\-.=]{32,}(?=[/?&\s\"]|$)")


def redact(text: str) -> str:
    """``text`` with the secret values of URLs in it blanked."""
    return _PATH_TOKEN.sub(REDACTED, _PARAMETER.sub(lambda m: m.group("name") + REDACTED, text))


class RedactSecrets(logging.Filter):
    """Blank secrets in every record a handler writes (the message is formatted first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


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

        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "U", "q"):
                if isinstance(atoms.get(key), str):
                    atoms[key] = redact(atoms[key])
            return atoms
