"""Checks of an authorization request that Authlib does not make, each one small and named.

``RAW_CHECKS`` run on the request's parameters before Authlib looks at them: what they refuse
cannot be sent back to the client, because its redirect URI is not verified yet (RFC 6749
§4.1.2.1). ``GRANT_CHECKS`` run once Authlib has verified the client and the redirect URI: what they
refuse goes back to the client as a protocol error. Each returns an error or None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oidc.core.errors import RequestNotSupportedError, RequestURINotSupportedError

# Parameters Authlib quotes in its error descriptions, which RFC 6749 restricts to visible ASCII.
QUOTED_IN_ERRORS = ("redirect_uri", "response_type")
MAX_LENGTH = 2048


def check_parameter_characters(params: Mapping[str, str]) -> OAuth2Error | None:
    """Refuse a redirect URI or response type an error description could not quote."""
    for name in QUOTED_IN_ERRORS:
        value = params.get(name) or ""
        if len(value) > MAX_LENGTH or invalid_error_characters(value):
            return InvalidRequestError(f"The {name} parameter contains characters that are not allowed.")
    return None


def check_request_objects(
    params: Mapping[str, str], redirect_uri: str, state: str | None
) -> OAuth2Error | None:
    """Request objects are not supported, and discovery says so (OpenID Connect Core §6)."""
    if "request" in params:
        return RequestNotSupportedError(redirect_uri=redirect_uri, state=state)
    if "request_uri" in params:
        return RequestURINotSupportedError(redirect_uri=redirect_uri, state=state)
    return None


def check_max_age(params: Mapping[str, str], redirect_uri: str, state: str | None) -> OAuth2Error | None:
    """``max_age`` is a number of seconds (Core §3.1.2.1): anything else is an invalid request."""
    value = params.get("max_age")
    if value is not None and not (value.isascii() and value.isdigit() and len(value) <= 10):
        return InvalidRequestError(
            "max_age must be a non-negative integer number of seconds.",
            redirect_uri=redirect_uri,
            state=state,
        )
    return None


RAW_CHECKS: tuple[Callable[[Mapping[str, str]], OAuth2Error | None], ...] = (check_parameter_characters,)
GRANT_CHECKS: tuple[Callable[[Mapping[str, str], str, str | None], OAuth2Error | None], ...] = (
    check_request_objects,
    check_max_age,
)


def first_refusal(checks, *args) -> OAuth2Error | None:
    """The error of the first check that refuses, or None."""
    for check in checks:
        error = check(*args)
        if error is not None:
            return error
    return None
