"""Sign a browser in and out, and let a profile see and end its sessions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from flask import Flask, current_app, g, session

from idp.extensions import db
from idp.profiles.models import Profile
from idp.sessions.models import WebSession
from idp.sessions.signals import sessions_ended
from idp.timeutil import utcnow

if TYPE_CHECKING:
    from sqlalchemy import CursorResult, Select

    from idp.sessions.interface import ServerSession


def current_profile() -> Profile | None:
    """Return the signed-in profile of this request, or None."""
    if "profile" not in g:
        profile_id = getattr(session, "profile_id", None)
        found = db.session.get(Profile, profile_id) if profile_id else None
        g.profile = found if found is not None and not found.disabled else None  # disabled: nobody
    profile: Profile | None = g.profile
    return profile


# What a sign-in may carry from the session before it: functions of (where the sign-in goes on,
# the profile) returning session values to keep, registered per app (the account waiting to be
# linked, idp.connectors.links).
Carrier = Callable[[str | None, int], dict[str, Any]]


def carry_through_sign_in(app: Flask, carrier: Carrier) -> None:
    """Let ``carrier`` choose what of the session a sign-in keeps."""
    app.extensions.setdefault("idp_sign_in_carriers", []).append(carrier)


def sign_in(profile: Profile, amr: list[str], next_url: str | None = None) -> None:
    """Sign this browser in as ``profile`` after the methods in ``amr`` (new session token); of
    the session before, only what the carriers keep for a sign-in going on to ``next_url``. The
    language the browser signed in with becomes the profile's (``idp.i18n.adopt_language``)."""
    from idp.i18n import adopt_language

    adopt_language(profile)
    keep: dict[str, Any] = {}
    for carrier in current_app.extensions.get("idp_sign_in_carriers", []):
        keep.update(carrier(next_url, profile.id))
    cast("ServerSession", session).authenticate(profile.id, amr, keep)
    g.profile = profile


def sign_out() -> None:
    """End this browser's session."""
    cast("ServerSession", session).end()
    g.profile = None


def current_session_row() -> WebSession | None:
    """Return the stored row of this browser's session (None before it is first saved)."""
    return getattr(session, "row", None)


def _limits() -> tuple[datetime, datetime]:
    """Return (last use, sign-in) times before which a session is over (idle, absolute limit)."""
    now = utcnow()
    return (
        now - timedelta(minutes=current_app.config["IDP_SESSION_IDLE_MINUTES"]),
        now - timedelta(hours=current_app.config["IDP_SESSION_MAX_HOURS"]),
    )


def _live(query: Select[WebSession]) -> Select[WebSession]:
    """Restrict a query to sessions neither ended nor past their idle or absolute limit."""
    idle_since, signed_in_since = _limits()
    return query.where(
        WebSession.ended_at.is_(None),
        WebSession.last_seen_at > idle_since,
        WebSession.authenticated_at > signed_in_since,
    )


def is_past_its_limits(row: WebSession) -> bool:
    """Tell whether a session went idle too long or is older than its lifetime (counted from the
    sign-in, or from its start while nobody is signed in)."""
    idle_since, started_since = _limits()
    return row.last_seen_at <= idle_since or (row.authenticated_at or row.created_at) <= started_since


def is_live(row: WebSession) -> bool:
    """Tell whether a signed-in session is neither ended nor past its idle or absolute limit."""
    return row.ended_at is None and row.authenticated_at is not None and not is_past_its_limits(row)


def active_sessions(profile_id: int) -> list[WebSession]:
    """Return the profile's live sessions, most recently used first."""
    return list(
        db.session.scalars(
            _live(db.select(WebSession).where(WebSession.profile_id == profile_id)).order_by(
                WebSession.last_seen_at.desc()
            )
        )
    )


def end_session(profile_id: int, session_id: int) -> bool:
    """End one of the profile's sessions; return False when there is no such live session."""
    row = db.session.scalar(
        db.select(WebSession).where(
            WebSession.id == session_id, WebSession.profile_id == profile_id, WebSession.ended_at.is_(None)
        )
    )
    if row is None:
        return False
    row.ended_at = utcnow()
    sessions_ended.send(current_app._get_current_object(), session_ids=[row.id])  # type: ignore[attr-defined]
    return True


def end_sessions(profile_id: int, keep_id: int | None = None) -> int:
    """End every session of a profile except ``keep_id``; return how many ended."""
    query = db.select(WebSession.id).where(WebSession.profile_id == profile_id, WebSession.ended_at.is_(None))
    if keep_id is not None:
        query = query.where(WebSession.id != keep_id)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(db.update(WebSession).where(WebSession.id.in_(ids)).values(ended_at=utcnow()))
        sessions_ended.send(current_app._get_current_object(), session_ids=ids)  # type: ignore[attr-defined]
    return len(ids)


def prune_sessions(older_than: timedelta) -> int:
    """Delete session rows that ended or went idle more than ``older_than`` ago."""
    cutoff = utcnow() - older_than
    stale = db.or_(WebSession.ended_at < cutoff, WebSession.last_seen_at < cutoff)
    return cast("CursorResult[Any]", db.session.execute(db.delete(WebSession).where(stale))).rowcount
