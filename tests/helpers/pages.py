"""What a browser does in tests: open pages, post forms with their CSRF token, read what the
person sees (errors, flashes), sign in, register, link accounts, solve a proof of work."""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass

import altcha
from flask import Flask
from flask.testing import FlaskClient

from idp.profiles.models import Profile
from tests.helpers.records import PASSWORD, Outbox

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


# Any input holding a CSRF token (a form's hidden_tag, or the layout's own forms).
_CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')


_ERRORS = re.compile(r'class="field__error" role="alert">([^<]+)<')


_FLASHES = re.compile(r'class="flash flash--(\w+)" role="\w+">([^<]+)<')


@dataclass
class Page:
    """A response with what the person sees parsed out of it."""

    status: int
    location: str | None
    text: str

    @property
    def errors(self) -> list[str]:
        return [e.strip() for e in _ERRORS.findall(self.text)]

    @property
    def flashes(self) -> list[tuple[str, str]]:
        return _FLASHES.findall(self.text)


_PROOF = re.compile(r'data-pow-challenge="([^"]+)"')


def proof_challenge(text: str) -> dict | None:
    """The proof-of-work challenge a page asks its browser to solve, or None."""
    match = _PROOF.search(text)
    return json.loads(html.unescape(match.group(1))) if match else None


def solve_proof(text: str) -> str:
    """Solve the page's proof of work as ui/static/pow.js does; return the form's ``altcha`` value."""
    challenge = proof_challenge(text)
    assert challenge, "the page asks for no proof of work"
    solution = altcha.solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"]
    )
    return base64.b64encode(
        json.dumps(
            {
                "algorithm": challenge["algorithm"],
                "challenge": challenge["challenge"],
                "number": solution.number,
                "salt": challenge["salt"],
                "signature": challenge["signature"],
            }
        ).encode()
    ).decode()


def csrf_token(client: FlaskClient, page: str) -> str:
    """Open ``page`` and return the CSRF token of its form."""
    response = client.get(page)
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, f"no form with a CSRF token on {page} ({response.status_code})"
    return match.group(1)


def submit(
    client: FlaskClient,
    url: str,
    data: dict | None = None,
    page: str | None = None,
    follow: bool = False,
    **kwargs,
) -> Page:
    """Post ``data`` to ``url`` with the CSRF token of ``page`` (default: ``url``)."""
    token = csrf_token(client, page or url)
    response = client.post(url, data={"csrf_token": token, **(data or {})}, follow_redirects=follow, **kwargs)
    return Page(response.status_code, response.headers.get("Location"), response.get_data(as_text=True))


@dataclass
class CabinetClient:
    """A browser signed in to the cabinet of a connector (at ``base``) for ``number``."""

    client: FlaskClient
    profile: Profile
    number: str
    base: str  # e.g. "/services/multifon"

    def get(self, path: str = "/cabinet") -> Page:
        response = self.client.get(self.base + path)
        return Page(response.status_code, response.headers.get("Location"), response.get_data(as_text=True))

    def post(
        self,
        path: str,
        data: dict | None = None,
        account: str | None = None,
        follow: bool = True,
        page: str | None = None,
    ) -> Page:
        """Submit to ``path`` for ``account`` (default: the active one) with the CSRF token of
        ``page`` (default: ``path``)."""
        fields = {"service_account": account or self.number, **(data or {})}
        return submit(self.client, self.base + path, fields, follow=follow, page=self.base + (page or path))


_LINK_SIGNIN = re.compile(r'href="([^"]+)" data-link-signin')


def link_through_sign_in(
    client: FlaskClient, base: str, phone: str, password: str = PASSWORD, decision: str = "link"
) -> Page:
    """On a service's link page (at ``base``/link): sign in with the profile as the page offers,
    then answer the confirmation naming the account; return the answer to the confirmation."""
    text = client.get(f"{base}/link").get_data(as_text=True)
    match = _LINK_SIGNIN.search(text)
    assert match, f"no sign-in offered on {base}/link"
    page = submit(client, html.unescape(match.group(1)), {"identifier": phone, "password": password})
    assert f"{base}/link/complete?flow=" in (page.location or ""), (page.location, page.errors)
    return submit(client, page.location, {"decision": decision})


def sign_in(client: FlaskClient, identifier: str, password: str = PASSWORD) -> Page:
    """Sign in with the first step only; returns where the sign-in led."""
    return submit(client, "/signin", {"identifier": identifier, "password": password})


def register(
    client: FlaskClient,
    outbox: Outbox,
    phone: str,
    email: str = "new@example.com",
    password: str = PASSWORD,
    until: str = "email",
    start: str = "/register",
) -> Page:
    """Walk the registration wizard from ``start`` (its first page, maybe with a ``next``) up to
    the page of step ``until`` (code, details, password, email) and return the last answer."""
    page = submit(client, start, {"phone": phone})
    assert page.location == "/register/code", page.errors
    if until == "code":
        return page
    page = submit(client, "/register/code", {"code": outbox.code(phone)})
    assert page.location == "/register/details", page.errors
    if until == "details":
        return page
    page = submit(
        client,
        "/register/details",
        {"last_name": "Koval", "first_name": "Olena", "email": email, "accept_offer": "y"},
    )
    assert page.location == "/register/password", page.errors
    if until == "password":
        return page
    page = submit(client, "/register/password", {"password": password, "confirm": password})
    assert page.location == "/register/email", page.errors
    return page


def session_token(client: FlaskClient) -> str | None:
    """Return the value of the browser's session cookie (None when it has none)."""
    cookie = client.get_cookie("idp_session")
    return cookie.value if cookie else None


def is_signed_in(client: FlaskClient) -> bool:
    """Tell whether the client's session opens the profile's home page."""
    return client.get("/").status_code == 200


_RECOVERY_CODE = re.compile(r"\b([a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5})\b")


_TOTP_SECRET = re.compile(r'data-secret(?:="([A-Z2-7]+)"|>([A-Z2-7]+)<)')


def recovery_codes_in(text: str) -> list[str]:
    """Return the recovery codes shown on a page."""
    return _RECOVERY_CODE.findall(text)


def totp_secret(client: FlaskClient) -> str:
    """Open the authenticator enrolment page and return the secret it shows."""
    match = _TOTP_SECRET.search(client.get("/security/totp").get_data(as_text=True))
    assert match, "no TOTP secret on /security/totp"
    return match.group(1) or match.group(2)


def without_csrf_tokens(text: str) -> str:
    """The page with its CSRF tokens blanked: they carry the second they were made, so two pages
    that are otherwise the same differ when a second turns between them."""
    return _CSRF_INPUT.sub("CSRF", text)


def code_flow_pages(app: Flask, flow: str, start: str, phone: str) -> list:
    """Walk a code flow for ``phone`` in a new browser: what a person sees at each step.

    Tokens and the number itself are blanked, so the pages of two numbers can be compared.
    """
    from idp.security.phones import display_phone

    def normalised(text: str) -> str:
        return without_csrf_tokens(text).replace(display_phone(phone), "PHONE").replace(phone, "PHONE")

    client = app.test_client()
    first = submit(client, start, {"phone": phone})
    code_page = client.get(f"{start}/code")
    wrong = submit(client, f"{start}/code", {"code": "000000"})
    return [
        (first.status, first.location),
        (code_page.status_code, normalised(code_page.get_data(as_text=True))),
        (wrong.status, wrong.errors, normalised(wrong.text)),
        client.get(f"/sms/status/{flow}").get_json(),
    ]
