"""Fixtures of the interoperability tests: the provider served on loopback, a person, a browser."""

from __future__ import annotations

import pytest

from tests.oauth.interop.browser import Browser


@pytest.fixture
def issuer(live_server) -> str:
    """The provider's issuer URL; the app is served there (ask for it before ``app``/``users``)."""
    return live_server


@pytest.fixture
def browser():
    browser = Browser()
    yield browser
    browser.http.close()
