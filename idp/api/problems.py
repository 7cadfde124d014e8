"""Errors of the provisioning API as problem details (RFC 9457, ``application/problem+json``).

The ``title`` names the kind of problem and ``detail`` says what went wrong this time, both in the
language the request asks for (``Accept-Language``: uk, ru or en). A refused field is named in
``errors`` by a JSON pointer into the request (``/address``) with a message of its own.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

PROBLEM_TYPE = "application/problem+json"

TITLES = {
    400: _l("Bad request"),
    401: _l("Not authenticated"),
    403: _l("Forbidden"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    406: _l("Not acceptable"),
    409: _l("Conflict"),
    412: _l("Precondition failed"),
    413: _l("Request too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid request"),
    429: _l("Too many requests"),
    500: _l("Internal error"),
    503: _l("Service unavailable"),
}


def default_detail(status: int) -> str:
    """What a bare status means, for a request that got no more specific answer."""
    details = {
        400: _("The request could not be read."),
        401: _("Send a valid access token: Authorization: Bearer <token>."),
        403: _("This client may not do this."),
        404: _("There is nothing at this address."),
        405: _("This address does not accept this method."),
        406: _("This API answers in JSON only."),
        413: _("The request body is too large."),
        415: _("Send the body as application/json."),
        429: _("Too many requests from this client. Wait a little and try again."),
        500: _("Something went wrong on our side. Nothing was changed; try again later."),
        503: _("The service is briefly unavailable. Nothing was lost; try again in a minute."),
    }
    return details.get(status, _("The request could not be processed."))


class Problem(Exception):
    """An API call refused with ``status``; raise it anywhere below a view."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail or "")
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> Response:
        return problem_response(self.status, self.detail, self.errors, self.headers)


def field_problem(status: int, pointer: str, detail: str) -> Problem:
    """A refusal of one field (``/account``, ``#/phone_number``): its message is the detail too."""
    return Problem(status, detail, errors=[{"pointer": pointer, "detail": detail}])


def problem_response(
    status: int,
    detail: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The problem document of ``status``, localised."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": str(TITLES.get(status, TITLES[400])),
        "status": status,
        "detail": detail or default_detail(status),
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype=PROBLEM_TYPE)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = _content_language()
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _content_language() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "en")
