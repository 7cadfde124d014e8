"""Test helpers: read the development outbox, create profiles, post forms with their CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from idp.delivery.services import OutboxEntry, outbox
from idp.profiles.models import Profile
from idp.profiles.services import create_profile

PASSWORD = "Corr3ctHorseBattery"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_ERRORS = re.compile(r'class="field__error" role="alert">([^<]+)<')
_FLASHES = re.compile(r'class="flash flash--(\w+)" role="\w+">([^<]+)<')


class Outbox:
    """The messages an app stored, newest first."""

    def __init__(self, app: Flask):
        self.app = app

    def messages(self, to: str | None = None) -> list[OutboxEntry]:
        with self.app.app_context():
            return outbox(200, to)

    def last(self, to: str, kind: str | None = None) -> OutboxEntry:
        for message in self.messages(to):
            if kind is None or message.kind == kind:
                return message
        raise AssertionError(f"no {kind or 'message'} to {to}")

    def code(self, phone: str) -> str:
        """Return the newest SMS code sent to ``phone``."""
        return re.search(r"\b(\d{6})\b", self.last(phone, "sms_code").text).group(1)

    def link(self, email: str, kind: str | None = None) -> str:
        """Return the path of the newest link e-mailed to ``email``."""
        url = re.search(r"https?://\S+", self.last(email, kind).text).group(0)
        return re.sub(r"^https?://[^/]+", "", url)


class Users:
    """Factories of profiles."""

    def __init__(self, app: Flask):
        self.app = app
        self.count = 0

    def create(self, phone: str | None = None, email: str | None = None,
               password: str = PASSWORD, locale: str = "en", **changes) -> Profile:
        self.count += 1
        phone = phone or f"+38067100{self.count:04d}"
        email = email or f"user{self.count}@example.com"
        with self.app.app_context():
            profile = create_profile(phone, email, "Olena", "Koval", password, locale,
                                     email_verified=True)
            for key, value in changes.items():
                setattr(profile, key, value)
            from idp.extensions import db

            db.session.commit()
            db.session.refresh(profile)
            db.session.expunge(profile)
            return profile


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


def csrf_token(client: FlaskClient, page: str) -> str:
    """Open ``page`` and return the CSRF token of its form."""
    response = client.get(page)
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, f"no form with a CSRF token on {page} ({response.status_code})"
    return match.group(1)


def submit(client: FlaskClient, url: str, data: dict | None = None, page: str | None = None,
           follow: bool = False, **kwargs) -> Page:
    """Post ``data`` to ``url`` with the CSRF token of ``page`` (default: ``url``)."""
    token = csrf_token(client, page or url)
    response = client.post(url, data={"csrf_token": token, **(data or {})},
                           follow_redirects=follow, **kwargs)
    return Page(response.status_code, response.headers.get("Location"),
                response.get_data(as_text=True))


def sign_in(client: FlaskClient, identifier: str, password: str = PASSWORD) -> Page:
    """Sign in with the first step only; returns where the sign-in led."""
    return submit(client, "/signin", {"identifier": identifier, "password": password})
