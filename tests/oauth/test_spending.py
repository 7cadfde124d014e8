"""A refresh token spent on the fast path (idp.oauth.spending): once, with its successor and the
browser session's touch, or not at all — one statement on PostgreSQL, a transaction on SQLite."""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import request_started

from idp.extensions import db
from idp.oauth.models import Grant, RefreshToken
from idp.oauth.server import successor_row
from idp.oauth.spending import spend
from idp.security.crypto import token_digest
from idp.sessions.interface import TOUCH_EVERY
from idp.sessions.models import WebSession
from idp.timeutil import utcnow
from tests.oauth.helpers import signed_in_tokens


def _row(app, value: str) -> RefreshToken:
    with app.app_context():
        row = db.session.get(RefreshToken, token_digest(value))
        db.session.expunge_all()
        return row


def _session_of(app, value: str) -> WebSession:
    with app.app_context():
        token = db.session.get(RefreshToken, token_digest(value))
        session = db.session.get(WebSession, token.grant.web_session_id)
        db.session.expunge_all()
        return session


def test_a_token_is_spent_once_with_its_successor_and_its_session_s_touch(app, client, users):
    _profile, _request, tokens = signed_in_tokens(client, users, app, scope="openid")
    spent = _row(app, tokens["refresh_token"])
    session = _session_of(app, tokens["refresh_token"])
    now = utcnow() + timedelta(minutes=5)
    with app.app_context():
        engine = db.engine
        first, second = (
            successor_row(spent.grant_id, False, secrets.token_urlsafe(32), "openid", now) for _ in "12"
        )
        with engine.begin() as connection:
            assert spend(connection, spent.token_hash, now, first, session.id) is True
        # The same token again (a simultaneous use that lost): nothing is written, nothing touched.
        with engine.begin() as connection:
            later = now + timedelta(minutes=1)
            assert spend(connection, spent.token_hash, later, second, session.id) is False
        assert db.session.get(RefreshToken, first["token_hash"]).grant_id == spent.grant_id
        assert db.session.get(RefreshToken, second["token_hash"]) is None
        assert db.session.get(RefreshToken, spent.token_hash).used_at == now
        assert db.session.get(WebSession, session.id).last_seen_at == now


def test_a_token_spent_without_a_touch_leaves_the_session_as_it_was(app, client, users):
    _profile, _request, tokens = signed_in_tokens(client, users, app, scope="openid")
    spent = _row(app, tokens["refresh_token"])
    session = _session_of(app, tokens["refresh_token"])
    now = utcnow()
    with app.app_context():
        successor = successor_row(spent.grant_id, False, secrets.token_urlsafe(32), "openid", now)
        with db.engine.begin() as connection:
            assert spend(connection, spent.token_hash, now, successor, None) is True
        assert db.session.get(WebSession, session.id).last_seen_at == session.last_seen_at


def test_a_fast_refresh_of_a_session_seen_long_ago_keeps_the_session_alive(app, client, users):
    _profile, request, tokens = signed_in_tokens(client, users, app, scope="openid profile")
    session = _session_of(app, tokens["refresh_token"])
    long_ago = utcnow() - TOUCH_EVERY - timedelta(seconds=5)
    with app.app_context():
        db.session.get(WebSession, session.id).last_seen_at = long_ago
        db.session.commit()
    app.test_client().get("/jwks.json")  # the fast path learns the page headers from it
    dispatched: list[str] = []
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    with request_started.connected_to(lambda sender, **extra: dispatched.append("flask"), app):
        answered = app.test_client().post("/token", data=data, headers=request.client.basic_auth)
    assert answered.status_code == 200 and dispatched == []  # the fast path answered it
    touched = _session_of(app, answered.get_json()["refresh_token"])
    assert touched.last_seen_at > long_ago + TOUCH_EVERY
    assert _row(app, tokens["refresh_token"]).used_at is not None


def test_a_token_whose_grant_was_revoked_after_its_read_is_left_unspent(app, client, users):
    _profile, _request, tokens = signed_in_tokens(client, users, app, scope="openid")
    spent = _row(app, tokens["refresh_token"])
    with app.app_context():
        db.session.get(Grant, spent.grant_id).revoked_at = utcnow()  # between the read and the spend
        db.session.commit()
        now = utcnow()
        successor = successor_row(spent.grant_id, False, secrets.token_urlsafe(32), "openid", now)
        with app.extensions["idp_machine"].refreshing() as connection:
            assert spend(connection, spent.token_hash, now, successor, None) is False
        assert db.session.get(RefreshToken, spent.token_hash).used_at is None
        assert db.session.get(RefreshToken, successor["token_hash"]) is None


def test_of_many_simultaneous_spends_of_one_token_one_wins(app, client, users):
    """Each on a connection of its own, as the fast path makes them (autocommit on PostgreSQL)."""
    _profile, _request, tokens = signed_in_tokens(client, users, app, scope="openid")
    spent = _row(app, tokens["refresh_token"])
    machine = app.extensions["idp_machine"]
    start = threading.Barrier(8)

    def one(_n: int) -> bool:
        with app.app_context():
            now = utcnow()
            successor = successor_row(spent.grant_id, False, secrets.token_urlsafe(32), "openid", now)
            start.wait()
            with machine.refreshing() as connection:
                return spend(connection, spent.token_hash, now, successor, None)

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(one, range(8)))
    assert won.count(True) == 1
    with app.app_context():
        successors = db.session.scalars(
            db.select(RefreshToken).where(
                RefreshToken.grant_id == spent.grant_id, RefreshToken.token_hash != spent.token_hash
            )
        ).all()
        assert len(successors) == 1
