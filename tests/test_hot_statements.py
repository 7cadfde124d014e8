"""The machine endpoints' statements (idp.hot_statements): on psycopg's cursor on PostgreSQL, the
same rows and row counts as SQLAlchemy's; through SQLAlchemy on SQLite and for a column SQLAlchemy
converts."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import TypeDecorator, bindparam, event, exc, literal, select, text
from sqlalchemy.types import String

from idp.extensions import db
from idp.hot_statements import _compiled, first_row
from idp.oauth.machine import _GRANT_AND_CLAIMED_COLUMNS, _REFRESH_ROW
from idp.oauth.models import RefreshToken
from idp.oauth.server import successor_row
from idp.oauth.spending import spend
from idp.oauth.tokens import _GRANT_OF_TOKEN, _TOKEN_REVOKED_ALONE, read
from idp.security.crypto import token_digest
from idp.timeutil import utcnow
from tests.oauth.helpers import signed_in_tokens


class Shouted(TypeDecorator):
    """A column SQLAlchemy converts as it reads it."""

    impl = String
    cache_ok = True

    def process_result_value(self, value, dialect):
        return None if value is None else value.upper()


SHOUTED = select(literal("quiet", type_=Shouted).label("word"), literal(7).label("seven")).where(
    literal(1) == bindparam("one")
)


def _statements(app, tokens) -> list[tuple[str, object, dict]]:
    with app.app_context():
        claims = read(tokens["access_token"], "at+jwt")
    grant = {"jti": claims["jti"], "gid": str(claims["gid"])}
    return [
        ("refresh", _REFRESH_ROW, {"hash": token_digest(tokens["refresh_token"])}),
        ("userinfo", _GRANT_AND_CLAIMED_COLUMNS, grant),
        ("grant", _GRANT_OF_TOKEN, grant),
        ("client's own", _TOKEN_REVOKED_ALONE, {"jti": claims["jti"]}),
    ]


def test_each_read_gives_the_row_sqlalchemy_gives(app, client, users, backend):
    _profile, _request, tokens = signed_in_tokens(client, users, app, scope="openid offline_access")
    for name, statement, params in _statements(app, tokens):
        with app.app_context(), db.engine.connect() as connection:
            expected = connection.execute(statement, params).first()
            found = first_row(connection, statement, params)
        assert expected is not None, name
        assert tuple(found) == tuple(expected), name
        for key in expected._fields:
            assert getattr(found, key) == getattr(expected, key), (name, key)
        # On PostgreSQL the read skips SQLAlchemy's execution; on SQLite it is SQLAlchemy's.
        assert (_compiled(statement, connection.dialect).row is not None) == (backend == "postgresql")


def test_no_row_is_none(app):
    with app.app_context(), db.engine.connect() as connection:
        assert first_row(connection, _REFRESH_ROW, {"hash": token_digest("no such token")}) is None
        assert first_row(connection, _GRANT_OF_TOKEN, {"jti": "none", "gid": "0"}) is None


def test_on_postgresql_sqlalchemy_runs_no_statement_of_a_read(app, client, users, backend):
    _profile, _request, tokens = signed_in_tokens(client, users, app, scope="openid")
    name, statement, params = _statements(app, tokens)[1]
    seen: list[str] = []

    def note(_connection, _cursor, sql, *_args):
        seen.append(sql)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            with db.engine.connect() as connection:
                assert first_row(connection, statement, params) is not None
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
    assert len(seen) == (0 if backend == "postgresql" else 1)


def test_a_column_sqlalchemy_converts_is_read_through_sqlalchemy(app):
    with app.app_context(), db.engine.connect() as connection:
        assert _compiled(SHOUTED, connection.dialect).row is None
        row = first_row(connection, SHOUTED, {"one": 1})
    assert (row.word, row.seven) == ("QUIET", 7)


def test_a_broken_connection_is_invalidated_and_the_error_is_sqlalchemy_s(app, backend):
    if backend != "postgresql":
        pytest.skip("SQLite's reads are SQLAlchemy's own; a PostgreSQL backend can be ended")
    with app.app_context():
        with db.engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
            with db.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                other.commit()
            with pytest.raises(exc.DBAPIError) as raised:
                first_row(connection, _REFRESH_ROW, {"hash": token_digest("secret refresh token")})
            assert connection.invalidated
        assert token_digest("secret refresh token") not in str(raised.value)  # no parameter shown
        with db.engine.connect() as connection:  # the pool gives a working connection again
            assert first_row(connection, _GRANT_OF_TOKEN, {"jti": "none", "gid": "0"}) is None


def test_a_spend_on_postgresql_skips_sqlalchemy_and_counts_its_row(app, client, users, backend):
    """The fast refresh's one statement (idp.oauth.spending) on the cursor: its row count is the
    answer, once; on SQLite the spend is SQLAlchemy's statements."""
    _profile, _request, tokens = signed_in_tokens(client, users, app, scope="openid")
    now = utcnow() + timedelta(minutes=5)
    with app.app_context():
        spent = db.session.get(RefreshToken, token_digest(tokens["refresh_token"]))
        grant_id, token_hash = spent.grant_id, spent.token_hash
        db.session.remove()
        seen: list[str] = []

        def note(_connection, _cursor, sql, *_args):
            seen.append(sql)

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            outcomes = []
            for _ in "12":
                successor = successor_row(grant_id, False, secrets.token_urlsafe(32), "openid", now)
                with db.engine.begin() as connection:
                    outcomes.append(spend(connection, token_hash, now, successor, None))
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        assert outcomes == [True, False]
        kept = db.session.scalars(select(RefreshToken).where(RefreshToken.grant_id == grant_id)).all()
        assert len(kept) == 2  # the spent token and one successor
    assert (len(seen) == 0) == (backend == "postgresql")
