"""Journey fixtures: the app served on loopback and Debian's Chromium driven by Playwright.

Chromium is never downloaded: ``IDP_TEST_CHROMIUM`` (default ``/usr/bin/chromium``) must exist,
and a missing browser fails the journeys instead of skipping them. Screenshots of every journey
land in ``test-artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = os.environ.get("IDP_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ACCEPT_LANGUAGE = {
    "uk": "uk-UA,uk;q=0.9",
    "ru": "ru-RU,ru;q=0.9",
    "en": "en-GB,en;q=0.9",
    "de": "de-DE,de;q=0.9",  # none of ours: the profile's language, else the default
}


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL each journey runs in one of its variants (the first: a language, a phone):
    the others differ in what the browser shows, not in what the database does, and SQLite runs
    them all. This keeps a journey per database and halves the browser's share of the suite."""
    seen: set[str] = set()
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        in_journeys = "tests/journeys/" in str(item.path).replace("\\", "/")
        if not in_journeys or callspec is None or callspec.params.get("backend") != "postgresql":
            kept.append(item)
            continue
        function = f"{item.path}::{item.originalname}"
        (dropped if function in seen else kept).append(item)
        seen.add(function)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set IDP_TEST_CHROMIUM)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(live_server, browser):
    """The app served on loopback; browser contexts a journey left open are closed before it stops.

    A context the test did not close (it failed half-way, or never closes its pages) would keep
    its pages, their scripts and their open connections to a server that is going away.
    """
    yield live_server
    for context in browser.contexts:
        context.close()


# What went wrong in each page that the user would not see: blocked inline code (CSP), script
# errors, missing stylesheets or scripts. ``shot`` fails on any of them.
PROBLEMS: dict[int, list[str]] = {}


def new_page(browser, lang: str = "en", mobile: bool = False, javascript: bool = True) -> Page:
    """Open a fresh browser context that asks for ``lang``."""
    viewport = {"width": 390, "height": 844} if mobile else {"width": 1280, "height": 860}
    context = browser.new_context(
        locale=lang,
        viewport=viewport,
        is_mobile=mobile,
        has_touch=mobile,
        java_script_enabled=javascript,
        extra_http_headers={"Accept-Language": ACCEPT_LANGUAGE[lang]},
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = PROBLEMS.setdefault(id(page), [])
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if "/static/" in response.url and response.status >= 400
            else None
        ),
    )
    page.on("close", lambda _page: PROBLEMS.pop(id(page), None))
    return page


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
        no_horizontal_overflow(page)
        assert not PROBLEMS.get(id(page)), PROBLEMS[id(page)]
        if backend == "sqlite":  # one set of pictures is enough to look at
            page.screenshot(path=str(path), full_page=True)
        return path

    return take


# --- Helpers shared by the journeys -------------------------------------------------------------

MAIN_SUBMIT = "main form:not([action]) button[type=submit]"  # the page's own form, not resend etc.


def no_horizontal_overflow(page: Page) -> None:
    """Fail when the page scrolls sideways: something is wider than the viewport."""
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]}px wide in a {widths[1]}px window"


@pytest.fixture
def text(app):
    """``text(lang, msgid[, plural], **values)``: the catalogue's translation (``num`` for plurals)."""
    import flask_babel

    def translate(lang: str, msgid: str, plural: str | None = None, **values) -> str:
        with app.test_request_context(), flask_babel.force_locale(lang):
            if plural is not None:
                return flask_babel.ngettext(msgid, plural, values.pop("num"), **values)
            return flask_babel.gettext(msgid, **values)

    return translate


def submit(page: Page) -> None:
    """Press the page's own submit button and wait for the answer page to load."""
    with page.expect_navigation():
        page.click(MAIN_SUBMIT)


def fill_code(page: Page, code: str) -> None:
    page.fill("#code", code)
    submit(page)


def sign_in(page: Page, base: str, identifier: str, password: str) -> None:
    """Submit the first sign-in step (the caller checks where it leads)."""
    page.goto(base + "/signin")
    page.fill("#identifier", identifier)
    page.fill("#password", password)
    submit(page)


def confirm_link(page: Page) -> None:
    """Back from the profile's sign-in, the page names the account being linked: link it."""
    page.wait_for_url("**/link/complete?flow=*")
    assert page.locator("[data-link-confirm]").count() == 1
    with page.expect_navigation():
        page.click("[data-link-confirm]")


def sign_out(page: Page) -> None:
    """Sign out through the account menu in the header."""
    page.click("[data-account-menu] summary")
    page.click("[data-signout]")
    page.wait_for_url("**/signin")


def is_signed_in(page: Page) -> bool:
    return page.locator("[data-account-menu]").count() == 1


def flash_texts(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("main .flash").all_inner_texts()]


def error_texts(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("main .field__error").all_inner_texts()]


# --- Layout measured in the browser (bounding boxes) --------------------------------------------


def rows_of(page: Page, selector: str) -> list[list[str]]:
    """The elements of ``selector`` grouped into the rows they are laid out in (by their top
    edge), each row a list of the elements' ``data-card`` (or text) from left to right."""
    boxes = page.eval_on_selector_all(
        selector,
        """items => items.map(item => {
            const box = item.getBoundingClientRect();
            return [Math.round(box.top), Math.round(box.left), item.dataset.card || item.innerText];
        })""",
    )
    rows: dict[int, list[tuple[int, str]]] = {}
    for top, left, name in boxes:
        row = next((key for key in rows if abs(key - top) <= 2), top)
        rows.setdefault(row, []).append((left, name))
    return [[name for _left, name in sorted(rows[top])] for top in sorted(rows)]


_LINES = """element => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const tops = [...range.getClientRects()].filter(r => r.width > 0).map(r => r.top);
    tops.sort((a, b) => a - b);
    return tops.filter((top, i) => i === 0 || top - tops[i - 1] > 3).length;
}"""


def text_lines(page: Page, selector) -> int:
    """How many lines the text of an element (the first of a selector, or a Locator) takes."""
    if isinstance(selector, str):
        return page.eval_on_selector(selector, _LINES)
    return selector.evaluate(_LINES)


def switch_language(page: Page, lang: str) -> None:
    """Choose ``lang`` with the switch in the header (the page reloads in it)."""
    with page.expect_navigation():
        page.click(f".langs button[lang={lang}]")
