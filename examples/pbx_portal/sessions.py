"""The portal's sessions: kept in this process's memory, keyed by a random cookie value.

The tokens stay on the server and never reach the browser, and a back-channel logout token can
end a session: the person's next page shows they are signed out.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from flask import Flask
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

COOKIE = "pbx_portal_session"  # the provider's cookie lives on the same host (another port)
SESSION_IDLE_SECONDS = 8 * 3600
KEPT_AFTER_LOGOUT = ("lang", "csrf")  # what a back-channel logout leaves of a session


class PortalSession(CallbackDict, SessionMixin):
    """A session whose data stays on the server; the cookie only names it."""

    def __init__(self, initial: dict | None = None, key: str | None = None, version: int = 0):
        def on_update(data):
            data.modified = True

        super().__init__(initial or {}, on_update)
        self.key = key
        self.version = version
        self.new = key is None
        self.modified = False
        self.rotate = False

    def regenerate(self) -> None:
        """Give this session a new cookie value when it is saved (on sign-in: no fixation)."""
        self.rotate = True
        self.modified = True


@dataclass
class _Entry:
    data: dict
    version: int
    seen: float = field(default_factory=time.monotonic)


class SessionStore:
    """The portal's sessions in memory, keyed by a random cookie value; safe across threads."""

    def __init__(self, idle_seconds: int = SESSION_IDLE_SECONDS):
        self.idle_seconds = idle_seconds
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._versions = 0

    def load(self, key: str) -> tuple[dict, int] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry.seen > self.idle_seconds:
                self._entries.pop(key, None)
                return None
            entry.seen = time.monotonic()
            return json.loads(json.dumps(entry.data)), entry.version

    def save(self, key: str | None, data: dict, version: int, rotate: bool) -> str | None:
        """Store ``data`` under ``key`` (a new key when None or ``rotate``); return the key.

        Nothing is stored (None is returned) when the entry changed since it was loaded: a
        back-channel logout that ended it meanwhile is never undone by a slower request.
        """
        with self._lock:
            self._purge()
            current = self._entries.get(key) if key else None
            if key and (current is None or current.version != version):
                return None
            if key and rotate:
                del self._entries[key]
                key = None
            key = key or secrets.token_urlsafe(32)
            self._versions += 1
            self._entries[key] = _Entry(json.loads(json.dumps(data)), self._versions)
            return key

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def end(self, issuer: str, sid: str | None, sub: str | None) -> int:
        """End the signed-in sessions of ``sid`` (or of ``sub``); return how many ended."""
        ended = 0
        with self._lock:
            for entry in self._entries.values():
                user = entry.data.get("user")
                if not user or user["iss"] != issuer:
                    continue
                if (sid is not None and user.get("sid") != sid) or (sub is not None and user["sub"] != sub):
                    continue
                self._versions += 1
                kept = {k: entry.data[k] for k in KEPT_AFTER_LOGOUT if k in entry.data}
                entry.data, entry.version = {**kept, "notice": "ended_elsewhere"}, self._versions
                ended += 1
        return ended

    def signed_in(self, sid: str | None = None) -> list[dict]:
        """The users of the signed-in sessions (of one provider session ``sid``, if given)."""
        with self._lock:
            users = [e.data["user"] for e in self._entries.values() if e.data.get("user")]
        return [u for u in users if sid is None or u.get("sid") == sid]

    def _purge(self) -> None:
        now = time.monotonic()
        for key in [k for k, e in self._entries.items() if now - e.seen > self.idle_seconds]:
            del self._entries[key]


class MemorySessionInterface(SessionInterface):
    """Flask's session backed by a :class:`SessionStore`."""

    def __init__(self, store: SessionStore, secure: bool):
        self.store = store
        self.secure = secure

    def open_session(self, app: Flask, request) -> PortalSession:
        key = request.cookies.get(COOKIE)
        loaded = self.store.load(key) if key and len(key) < 100 else None
        if loaded is None:
            return PortalSession()
        data, version = loaded
        return PortalSession(data, key, version)

    def save_session(self, app: Flask, session: PortalSession, response) -> None:
        if not session.modified:
            return
        if not session:
            if session.key:
                self.store.delete(session.key)
                response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=self.secure)
            return
        key = self.store.save(session.key, dict(session), session.version, session.rotate)
        if key is not None and key != session.key:
            response.set_cookie(COOKIE, key, path="/", httponly=True, samesite="Lax", secure=self.secure)
        response.vary.add("Cookie")
