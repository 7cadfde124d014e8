"""One error handler for people: a localised page in the layout, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("idp.errors")

MESSAGES = {
    400: (_l("Something in the request was wrong"),
          _l("The page could not process what was sent. Go back and try again.")),
    403: (_l("Access denied"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("The page you are looking for does not exist or has moved.")),
    405: (_l("Not allowed"), _l("This page cannot be used this way.")),
    429: (_l("Too many attempts"),
          _l("There were too many attempts from your address. Wait a little and try again.")),
    500: (_l("Something went wrong on our side"),
          _l("We could not complete your request. Try again in a few minutes.")),
}


def _render(status: int, title=None, text=None):
    default_title, default_text = MESSAGES.get(status, MESSAGES[400])
    return render_template("errors/error.html", status=status, title=title or default_title,
                           text=text or default_text), status


def register_error_handlers(app: Flask) -> None:
    """Attach the HTML error pages to ``app``."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, _l("The form has expired"),
                       _l("For your security the form is valid for a limited time. Go back, "
                          "reload the page and send it again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if type(error).__module__.startswith("authlib."):
            return error  # a protocol error for a program (JSON and WWW-Authenticate), not a page
        return _render(error.code or 500)

    @app.errorhandler(InternalServerError)
    def internal_error(error):
        log.error("unhandled error", exc_info=getattr(error, "original_exception", None))
        return _render(500)
