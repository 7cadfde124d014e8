"""Absolute links for messages, always built from IDP_ISSUER, never from the Host header."""

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """Return the public absolute URL of ``endpoint`` under IDP_ISSUER (with or without a request)."""
    issuer = urlsplit(current_app.config["IDP_ISSUER"].rstrip("/"))
    adapter = current_app.url_map.bind(
        issuer.netloc, script_name=issuer.path or "/", url_scheme=issuer.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
