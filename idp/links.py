"""Absolute links for messages, always built from IDP_ISSUER, never from the Host header."""

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """Return the public absolute URL of ``endpoint``."""
    return current_app.config["IDP_ISSUER"].rstrip("/") + url_for(endpoint, **values)
