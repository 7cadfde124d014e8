"""A browser without JavaScript for the interoperability tests, over real HTTP on loopback.

The relying parties under test (pyoidc, openid-client) build the authorization URL and read the
redirect back; in between a person signs in on the provider's pages. ``Browser`` plays that
person with ``requests``: it follows redirects, fills the sign-in form (and the consent form when
one is shown) with the CSRF token of the page, and stops at the redirect to the relying party.
It refuses to send anything anywhere but a loopback address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from tests.helpers.records import PASSWORD


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, list[str]] = field(default_factory=dict)


class _Forms(HTMLParser):
    """Collect the forms of a page: their action, hidden and text fields, and submit buttons."""

    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower()))
        elif not self.forms or "name" not in values:
            return
        elif tag == "input" and values.get("type") != "submit":
            self.forms[-1].fields[values["name"]] = values.get("value", "")
        elif tag in ("button", "input"):
            self.forms[-1].buttons.setdefault(values["name"], []).append(values.get("value", ""))


def forms_of(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Browser:
    """One person's browser: its cookies, the pages it saw, and where it was sent."""

    def __init__(self, timeout: float = 10):
        self.http = requests.Session()
        self.timeout = timeout
        self.visited: list[str] = []
        self.answered: list[str] = []  # the provider's forms filled in: "signin", "consent"

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        assert is_loopback(url), f"the test browser only visits loopback addresses, not {url}"
        self.visited.append(url)
        return self.http.request(method, url, allow_redirects=False, timeout=self.timeout, **kwargs)

    def get(self, url: str) -> requests.Response:
        return self.request("GET", url)

    def submit(self, page: requests.Response, form: Form, **values) -> requests.Response:
        """Submit ``form`` of ``page`` (with its hidden fields, the CSRF token among them)."""
        assert form.method == "post", form
        return self.request("POST", urljoin(page.url, form.action), data={**form.fields, **values})

    def visit(
        self,
        url: str,
        until: str,
        identifier: str | None = None,
        password: str = PASSWORD,
        consent: str = "allow",
        max_steps: int = 12,
    ) -> str:
        """Open ``url`` and act as the person would until the provider redirects to ``until``.

        Signs in with ``identifier`` and ``password`` when the sign-in form is shown, and answers
        the consent page with ``consent``. Returns the full URL of the redirect to ``until``.
        """
        response = self.get(url)
        for _ in range(max_steps):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if location.startswith(until):
                    return location
                response = self.get(location)
                continue
            assert response.status_code == 200, (response.status_code, response.url, response.text[:500])
            forms = forms_of(response.text)
            signin = next((f for f in forms if "identifier" in f.fields), None)
            decision = next((f for f in forms if "decision" in f.buttons), None)
            if signin is not None:
                assert identifier, f"asked to sign in at {response.url}"
                response = self.submit(response, signin, identifier=identifier, password=password)
                self.answered.append("signin")
                assert response.is_redirect, f"sign-in refused: {response.text[:500]}"
                identifier = None  # once: a second sign-in form means the first one failed
            elif decision is not None:
                response = self.submit(response, decision, decision=consent)
                self.answered.append("consent")
            else:
                raise AssertionError(f"nothing to do on {response.url}: {response.text[:500]}")
        raise AssertionError(f"no redirect to {until} after {max_steps} steps: {self.visited}")

    def signed_in(self, base_url: str) -> bool:
        """Whether the provider's home page opens (it sends a signed-out browser to sign in)."""
        return self.get(base_url + "/").status_code == 200
