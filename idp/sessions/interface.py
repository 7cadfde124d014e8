"""A Flask session interface that keeps every session in the database.

The cookie carries only a random token; the ``web_sessions`` row keyed by its hash holds the data
and, once signed in, the profile, the sign-in time and the methods used. Any instance can serve any
request, a session can be listed and ended from elsewhere, and signing in issues a new token.

A row is stored only once something is written to the session. Until then a visitor's session
holds at most the secret behind the CSRF tokens of its forms, which a signed cookie of its own
carries: opening a form page stores nothing, however many times it is opened.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timedelta

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import CallbackDict

from idp.errors import DB_UNAVAILABLE
from idp.extensions import db
from idp.profiles.models import Profile
from idp.security.crypto import token_digest
from idp.sessions.models import WebSession
from idp.sessions.services import is_past_its_limits
from idp.sessions.signals import sessions_ended
from idp.timeutil import utcnow

log = logging.getLogger("idp.sessions")

TOUCH_EVERY = timedelta(seconds=60)  # how stale last_seen_at may get before it is written
CSRF_KEY = "csrf_token"  # where Flask-WTF keeps the secret of a session's CSRF tokens
# Set on the fresh session of a browser whose signed-in session was ended elsewhere (another
# device, an administrator taking access away): its next page says so (``tell_ended_sessions``).
ENDED_ELSEWHERE = "ended_elsewhere"
CSRF_SALT = "idp.csrf-secret"
# Paths answered without a session (health checks, metrics): no row is read and nothing is stored,
# whatever cookies the caller sends. idp.metrics adds its paths.
SESSIONLESS_PATHS: set[str] = set()


class ServerSession(CallbackDict, SessionMixin):
    """Session data plus the authentication facts of its row."""

    def __init__(self, initial=None, row: WebSession | None = None):
        def on_update(session):
            session.modified = True

        super().__init__(initial or {}, on_update)
        self.row = row
        self.modified = False
        self.regenerate = False
        self.ended = False
        self.unreadable = False  # the row could not be read: never write over it
        self.profile_id = row.profile_id if row else None
        self.authenticated_at = row.authenticated_at if row else None
        self.amr = row.amr.split() if row and row.amr else []
        # As read: a commit during the request expires the row, and reading it again to learn that
        # nothing needs writing would cost a query.
        self.last_seen_at = row.last_seen_at if row else None
        self.profile: Profile | None = None  # the signed-in profile as read with the row

    def authenticate(self, profile_id: int, amr: list[str], keep: dict | None = None) -> None:
        """Mark the session as signed in; a new token is issued when the response is sent.

        Nothing of the session before survives but ``keep`` (what the caller carries through).
        """
        self.clear()
        self.update(keep or {})
        self.profile_id = profile_id
        self.authenticated_at = utcnow()
        self.amr = amr
        self.regenerate = True
        self.modified = True

    def end(self) -> None:
        """End the session: the row is closed and the cookie removed."""
        self.clear()
        self.ended = True
        self.profile_id = None
        self.authenticated_at = None
        self.amr = []


class DatabaseSessionInterface(SessionInterface):
    """Store sessions in ``web_sessions``; see the module docstring."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        if request.path in SESSIONLESS_PATHS:
            return ServerSession()
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 100:
            return self._without_row(app, request)
        try:
            # The signed-in profile comes with its row: ``current_profile`` then finds it in the
            # session's identity map, without a round trip of its own.
            found = db.session.execute(
                db.select(WebSession, Profile)
                .outerjoin(Profile, Profile.id == WebSession.profile_id)
                .where(WebSession.token_hash == token_digest(token), WebSession.ended_at.is_(None))
            ).first()
            row, profile = found if found is not None else (None, None)
        except SQLAlchemyError as exc:
            # The database is away: the request is answered 503 (idp.errors), the session kept.
            db.session.rollback()
            request.environ[DB_UNAVAILABLE] = exc
            unreadable = ServerSession()
            unreadable.unreadable = True
            return unreadable
        if row is None or is_past_its_limits(row):
            fresh = self._without_row(app, request)
            if row is None and self._ended_elsewhere(token):
                fresh[ENDED_ELSEWHERE] = True
            return fresh
        try:
            data = json.loads(row.data)
        except ValueError:
            data = {}
        opened = ServerSession(data, row=row)
        opened.profile = profile  # held: the identity map keeps only what something refers to
        return opened

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        if session.unreadable or request.path in SESSIONLESS_PATHS:
            return
        now = utcnow()
        try:
            token = self._renewed_token(session)
            row, finished = self._end_if_asked(app, session, response, now)
            if finished:
                return
            if row is None and not session.modified:
                return
            if row is None and set(session) <= {CSRF_KEY} and session.profile_id is None:
                db.session.commit()  # an ended row, and what ending it queued
                self._keep_csrf_secret_only(app, session, response)
                return
            if row is None:
                token = self._insert_row(app, session, now, response)
            else:
                self._write(session, row, token, now)
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("could not save the session")
            return
        if token:
            response.set_cookie(
                self.get_cookie_name(app),
                token,
                domain=self.get_cookie_domain(app),
                path=self.get_cookie_path(app),
                secure=self.get_cookie_secure(app),
                httponly=True,
                samesite=self.get_cookie_samesite(app),
            )
        response.vary.add("Cookie")

    @staticmethod
    def _renewed_token(session: ServerSession) -> str | None:
        """The same person signed in again (a relying service asked for a fresh sign-in): the
        session goes on under a new token, so its sid and what it granted stay."""
        row = session.row
        if not (
            session.regenerate
            and row is not None
            and not session.ended
            and row.profile_id is not None
            and row.profile_id == session.profile_id
        ):
            return None
        token = secrets.token_urlsafe(32)
        row.token_hash = token_digest(token)
        session.regenerate = False
        return token

    def _end_if_asked(
        self, app: Flask, session: ServerSession, response: Response, now: datetime
    ) -> tuple[WebSession | None, bool]:
        """End the row of a session signed out (or signed in anew as somebody else); return the
        row that goes on (None: a new one if anything is stored) and whether saving is over."""
        row = session.row
        if not (session.ended or (session.regenerate and row is not None)):
            return row, False
        if row is not None:
            row.ended_at = now
            if row.profile_id is not None:
                sessions_ended.send(app, session_ids=[row.id])
        if session.ended and not session:
            db.session.commit()
            response.delete_cookie(
                self.get_cookie_name(app), domain=self.get_cookie_domain(app), path=self.get_cookie_path(app)
            )
            return None, True
        # Data stored after the end (the "signed out" message) goes to a new anonymous session
        # with a new token.
        return None, False

    def _insert_row(self, app: Flask, session: ServerSession, now: datetime, response: Response) -> str:
        """Store the session in a new row under a new token (one INSERT, no object for the ORM to
        flush) with what the request changed besides; the CSRF-only cookie it replaces goes."""
        if self._csrf_cookie_name(app) in request.cookies:
            response.delete_cookie(self._csrf_cookie_name(app), path=self.get_cookie_path(app))
        token = secrets.token_urlsafe(32)
        db.session.connection().execute(
            WebSession.__table__.insert().values(
                token_hash=token_digest(token),
                data=json.dumps(dict(session)),
                profile_id=session.profile_id,
                authenticated_at=session.authenticated_at,
                amr=" ".join(session.amr) or None,
                created_at=now,
                last_seen_at=now,
                ip=self._ip(),
                user_agent=self._user_agent(),
            )
        )
        db.session.commit()
        return token

    def _write(self, session: ServerSession, row: WebSession, token: str | None, now: datetime) -> None:
        """Store what changed, and the last activity at most every few minutes."""
        if session.modified or token:
            row.data = json.dumps(dict(session))
            row.profile_id = session.profile_id
            row.authenticated_at = session.authenticated_at
            row.amr = " ".join(session.amr) or None
        seen = session.last_seen_at if session.row is row else None
        if token or session.modified or seen is None or now - seen > TOUCH_EVERY:
            row.last_seen_at = now
            row.ip = self._ip()
            db.session.commit()

    @staticmethod
    def _ended_elsewhere(token: str) -> bool:
        """Whether the cookie names a signed-in session that was ended while this browser kept it."""
        try:
            return (
                db.session.scalar(
                    db.select(WebSession.id).where(
                        WebSession.token_hash == token_digest(token),
                        WebSession.ended_at.is_not(None),
                        WebSession.profile_id.is_not(None),
                    )
                )
                is not None
            )
        except SQLAlchemyError:
            db.session.rollback()
            return False

    def _without_row(self, app: Flask, request: Request) -> ServerSession:
        """A session with no row (yet): only the CSRF secret of its signed cookie, if any."""
        raw = request.cookies.get(self._csrf_cookie_name(app), "")
        try:
            secret = URLSafeSerializer(app.secret_key, salt=CSRF_SALT).loads(raw) if raw else None
        except BadSignature:
            secret = None
        return ServerSession({CSRF_KEY: secret} if isinstance(secret, str) else None)

    def _keep_csrf_secret_only(self, app: Flask, session: ServerSession, response: Response) -> None:
        """Nothing but the CSRF secret was written: a signed cookie holds it, no row is stored."""
        if session.ended:
            response.delete_cookie(
                self.get_cookie_name(app), domain=self.get_cookie_domain(app), path=self.get_cookie_path(app)
            )
        secret = session.get(CSRF_KEY)
        if secret:
            response.set_cookie(
                self._csrf_cookie_name(app),
                URLSafeSerializer(app.secret_key, salt=CSRF_SALT).dumps(secret),
                path=self.get_cookie_path(app),
                secure=self.get_cookie_secure(app),
                httponly=True,
                samesite=self.get_cookie_samesite(app),
            )
        response.vary.add("Cookie")

    def _csrf_cookie_name(self, app: Flask) -> str:
        # "__Host-" as for the session cookie: only this origin, over HTTPS, may set it.
        return "__Host-idp_csrf" if self.get_cookie_secure(app) else "idp_csrf"

    @staticmethod
    def _ip() -> str | None:
        return request.remote_addr

    @staticmethod
    def _user_agent() -> str:
        return (request.user_agent.string or "")[:300]


def tell_ended_sessions(app: Flask) -> None:
    """Tell a browser whose session was ended elsewhere why it is signed out, on its next page."""

    @app.before_request
    def _tell() -> None:
        from flask import flash, session
        from flask_babel import gettext as _

        if session.pop(ENDED_ELSEWHERE, None):
            flash(
                _(
                    "You were signed out: your session was ended on another device or by your "
                    "organisation's administrator. Sign in again to go on."
                ),
                "info",
            )
