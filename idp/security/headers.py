"""Response headers beyond Talisman's: nothing a page shows is kept by a browser or proxy cache.

Pages carry secrets (a TOTP seed, recovery codes, the profile's details, CSRF tokens): every
response that does not say otherwise gets ``Cache-Control: no-store`` (ASVS V14.3). The public
ones that may be cached (discovery, the JWKS, static files) say so themselves.
"""

from __future__ import annotations

from flask import Flask, Response, request


def register(app: Flask) -> None:
    """Give ``app``'s responses their cache headers."""

    @app.after_request
    def no_store_by_default(response: Response) -> Response:
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
