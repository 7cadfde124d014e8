"""Real parallel HTTP requests at a live server: many tabs of one browser, released at once.

A limit that reads a count, decides and writes it back lets simultaneous requests through; these
helpers send the same form many times at the same moment, so a test can assert the exact limit.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import requests

T = TypeVar("T")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ERRORS = re.compile(r'class="field__error" role="alert">([^<]+)<')


class Browser:
    """One browser (its cookies) at ``base``; parallel requests share its cookies like tabs."""

    def __init__(self, base: str, language: str = "en"):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = language

    def token(self, path: str) -> str:
        """Open ``path`` and return the CSRF token of its form."""
        page = self.http.get(self.base + path)
        match = CSRF.search(page.text)
        assert match, f"no form on {path} ({page.status_code})"
        return match.group(1)

    def submit(self, path: str, data: dict, page: str | None = None) -> requests.Response:
        """Send the form of ``page`` (default ``path``) to ``path``, without following redirects."""
        token = self.token(page or path)
        return self.http.post(self.base + path, data={"csrf_token": token, **data}, allow_redirects=False)

    def tabs(
        self, count: int, path: str, data: dict | Callable[[int], dict], page: str | None = None
    ) -> list[requests.Response]:
        """Send ``path``'s form ``count`` times at once from as many tabs of this browser."""
        token = self.token(page or path)
        cookies = self.http.cookies.get_dict()
        headers = dict(self.http.headers)

        def send(n: int) -> requests.Response:
            fields = data(n) if callable(data) else data
            return requests.post(
                self.base + path,
                data={"csrf_token": token, **fields},
                cookies=cookies,
                headers=headers,
                allow_redirects=False,
                timeout=60,
            )

        return at_once(count, send)


def at_once(count: int, call: Callable[[int], T]) -> list[T]:
    """Run ``call(0) … call(count - 1)`` in threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(n: int) -> T:
        barrier.wait()
        return call(n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def errors(response: requests.Response) -> list[str]:
    """The field errors a page shows."""
    import html

    return [html.unescape(e.strip()) for e in ERRORS.findall(response.text)]


def assert_no_server_error(responses: list[requests.Response]) -> None:
    statuses = [r.status_code for r in responses]
    assert all(status < 500 for status in statuses), statuses
    assert not any("Traceback" in r.text for r in responses)
