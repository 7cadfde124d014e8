"""Journey fixtures: the app served on loopback and Debian's Chromium driven by Playwright.

Chromium is never downloaded: ``IDP_TEST_CHROMIUM`` (default ``/usr/bin/chromium``) must exist,
and a missing browser fails the journeys instead of skipping them. Screenshots of every journey
land in ``test-artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("IDP_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic",
                 "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ACCEPT_LANGUAGE = {"uk": "uk-UA,uk;q=0.9", "ru": "ru-RU,ru;q=0.9", "en": "en-GB,en;q=0.9"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def base_url(settings) -> str:
    """The loopback URL the app will be served at (also its IDP_ISSUER, for e-mail links)."""
    url = f"http://127.0.0.1:{_free_port()}"
    settings["IDP_ISSUER"] = url
    return url


@pytest.fixture
def live_server(base_url, app):
    """Serve ``app`` on ``base_url`` in a thread for the duration of a test."""
    port = int(base_url.rsplit(":", 1)[1])
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium "
                    "(or set IDP_TEST_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser, lang: str = "en", mobile: bool = False) -> Page:
    """Open a fresh browser context that asks for ``lang``."""
    viewport = {"width": 390, "height": 844} if mobile else {"width": 1280, "height": 860}
    context = browser.new_context(locale=lang, viewport=viewport,
                                  extra_http_headers={"Accept-Language": ACCEPT_LANGUAGE[lang]})
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def page(browser, live_server):
    """A desktop page in English; tests that need a language use ``new_page``."""
    page = new_page(browser)
    yield page
    page.context.close()


@pytest.fixture
def shot(request, backend):
    """Save a full-page screenshot named after the test and a step."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^\w.-]+", "_", request.node.name)

    def take(page: Page, step: str) -> Path:
        path = SCREENSHOTS / f"{test_name}--{step}.png"
        if backend == "sqlite":  # one set of pictures is enough to look at
            page.screenshot(path=str(path), full_page=True)
        return path

    return take
