"""What the app stored, read and made in tests: profiles, the development outbox, table rows,
catalogue texts."""

from __future__ import annotations

import re

from flask import Flask

from idp.delivery.services import OutboxEntry, outbox
from idp.delivery.worker import Worker
from idp.profiles.models import Profile
from idp.profiles.services import create_profile

PASSWORD = "Corr3ctHorseBattery"


class Outbox:
    """The messages an app stored, newest first."""

    def __init__(self, app: Flask):
        self.app = app

    def messages(self, to: str | None = None) -> list[OutboxEntry]:
        """The stored messages, once the delivery worker has run the jobs pages left for it."""
        with self.app.app_context():
            Worker(self.app, name="test-jobs").run_once(channels=("job",))
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

    def create(
        self,
        phone: str | None = None,
        email: str | None = None,
        password: str = PASSWORD,
        locale: str = "en",
        **changes,
    ) -> Profile:
        self.count += 1
        phone = phone or f"+38067100{self.count:04d}"
        email = email or f"user{self.count}@example.com"
        with self.app.app_context():
            profile = create_profile(phone, email, "Olena", "Koval", password, locale, email_verified=True)
            for key, value in changes.items():
                setattr(profile, key, value)
            from idp.extensions import db

            db.session.commit()
            db.session.refresh(profile)
            db.session.expunge(profile)
            return profile


# Tables whose rows a refused form must leave exactly as they were (sessions, audit events and
# sign-in throttles legitimately record the attempt itself).
WATCHED_TABLES = ("profiles", "messages", "sms_challenges", "email_links", "recovery_codes")


def db_rows(app: Flask, tables: tuple[str, ...] = WATCHED_TABLES) -> dict[str, list[tuple]]:
    """Return every row of ``tables`` as sorted tuples of strings, to compare before and after."""
    from idp.extensions import db

    with app.app_context():
        return {
            name: sorted(
                tuple(str(value) for value in row)
                for row in db.session.execute(db.metadata.tables[name].select())
            )
            for name in tables
        }


def find_profile(app: Flask, phone: str) -> Profile | None:
    """Return the profile with this E.164 number, detached from the session."""
    from idp.extensions import db

    with app.app_context():
        profile = db.session.scalar(db.select(Profile).where(Profile.phone == phone))
        if profile is not None:
            db.session.expunge(profile)
        return profile


def translated(app: Flask, locale: str, text: str, **values) -> str:
    """Return ``text`` as the app's catalogue renders it in ``locale`` (HTML-escaped)."""
    from flask_babel import force_locale, gettext
    from markupsafe import escape

    with app.test_request_context(), force_locale(locale):
        return str(escape(gettext(text, **values)))
