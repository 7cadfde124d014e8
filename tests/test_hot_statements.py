"""The machine endpoints' statements (idp.hot_statements): on psycopg's cursor on PostgreSQL, the
same rows and row counts as SQLAlchemy's; through SQLAlchemy on SQLite and for a column SQLAlchemy
converts."""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Numeric, TypeDecorator, bindparam, event, exc, literal, select, text
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


@contextmanager
def _run_by_sqlalchemy():
    """The statements SQLAlchemy's execution sends while the block runs (in an app context)."""
    seen: list[str] = []

    def note(_connection, _cursor, sql, *_args):
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


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
    with app.app_context(), _run_by_sqlalchemy() as seen, db.engine.connect() as connection:
        assert first_row(connection, statement, params) is not None
    assert len(seen) == (0 if backend == "postgresql" else 1)


def test_a_column_sqlalchemy_converts_is_read_through_sqlalchemy(app):
    with app.app_context(), db.engine.connect() as connection:
        assert _compiled(SHOUTED, connection.dialect).row is None
        row = first_row(connection, SHOUTED, {"one": 1})
    assert (row.word, row.seven) == ("QUIET", 7)


def _refresh_token_of(app, client, users) -> tuple[str, str]:
    """A signed-in person's refresh token: its grant's id and its hash."""
    _profile, _request, tokens = signed_in_tokens(client, users, app, scope="openid")
    with app.app_context():
        spent = db.session.get(RefreshToken, token_digest(tokens["refresh_token"]))
        grant_id, token_hash = spent.grant_id, spent.token_hash
        db.session.remove()
    return grant_id, token_hash


def test_a_spend_on_postgresql_skips_sqlalchemy_and_counts_its_row(app, client, users, backend):
    """The fast refresh's one statement (idp.oauth.spending) on the cursor: its row count is the
    answer, once; on SQLite the spend is SQLAlchemy's statements."""
    grant_id, token_hash = _refresh_token_of(app, client, users)
    now = utcnow() + timedelta(minutes=5)
    with app.app_context():
        outcomes = []
        with _run_by_sqlalchemy() as seen:
            for _ in "12":
                successor = successor_row(grant_id, False, secrets.token_urlsafe(32), "openid", now)
                with db.engine.begin() as connection:
                    outcomes.append(spend(connection, token_hash, now, successor, None))
        assert outcomes == [True, False]
        kept = db.session.scalars(select(RefreshToken).where(RefreshToken.grant_id == grant_id)).all()
        assert len(kept) == 2  # the spent token and one successor
    assert (len(seen) == 0) == (backend == "postgresql")


NUMERIC = select(literal(Decimal("1.50"), Numeric(10, 2)).label("price")).where(
    literal(1) == bindparam("one")
)


def test_a_numeric_column_is_read_through_sqlalchemy(app):
    """psycopg's numeric processor depends on the column's type code: SQLAlchemy reads it."""
    with app.app_context(), db.engine.connect() as connection:
        assert first_row(connection, NUMERIC, {"one": 1}).price == Decimal("1.50")


def test_a_write_on_a_connection_outside_a_transaction_is_committed_by_its_commit(
    app, client, users, backend
):
    """As ``execute`` does, the write begins a transaction on a plain connection (neither in
    autocommit nor begun), which the caller's commit commits."""
    grant_id, token_hash = _refresh_token_of(app, client, users)
    now = utcnow() + timedelta(minutes=5)
    with app.app_context():
        with db.engine.connect() as connection:
            successor = successor_row(grant_id, False, secrets.token_urlsafe(32), "openid", now)
            assert spend(connection, token_hash, now, successor, None)
            assert connection.in_transaction()
            connection.commit()
        kept = db.session.scalars(select(RefreshToken).where(RefreshToken.grant_id == grant_id)).all()
    assert len(kept) == 2


def test_a_missing_parameter_is_an_error_as_in_sqlalchemy(app):
    with app.app_context(), db.engine.connect() as connection, pytest.raises(exc.StatementError):
        first_row(connection, _REFRESH_ROW, {"hsh": "a misspelt name"})


def _through_sqlalchemy(connection, statement, params):
    return connection.execute(statement, params).first()


def test_a_disconnection_is_seen_as_sqlalchemy_sees_it(app, backend):
    """The error says the connection was invalidated, without the parameters, and the pool
    replaces its older connections: a working one comes next."""
    if backend != "postgresql":
        pytest.skip("SQLite's reads are SQLAlchemy's own; a PostgreSQL backend can be ended")
    secret = token_digest("secret refresh token")
    seen = {}
    for way in ("sqlalchemy", "cursor"):
        with app.app_context():
            pool = db.engine.pool
            before = pool._invalidate_time
            with db.engine.connect() as connection:
                pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
                connection.commit()
                with db.engine.connect() as other:
                    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                    other.commit()
                read = first_row if way == "cursor" else _through_sqlalchemy
                with pytest.raises(exc.DBAPIError) as raised:
                    read(connection, _REFRESH_ROW, {"hash": secret})
                assert connection.invalidated
            error = raised.value
            seen[way] = (type(error), error.connection_invalidated, pool._invalidate_time != before)
            with db.engine.connect() as connection:
                assert first_row(connection, _GRANT_OF_TOKEN, {"jti": "none", "gid": "0"}) is None
        if way == "cursor":
            assert secret not in str(error)
    assert seen["cursor"] == seen["sqlalchemy"] == (exc.OperationalError, True, True)


def test_beyond_its_plans_a_statement_goes_through_sqlalchemy_uncompiled(app, monkeypatch):
    """A statement made per call would fill the plans: beyond them, SQLAlchemy runs it, and it is
    not compiled again on every call."""
    from idp import hot_statements

    monkeypatch.setattr(hot_statements, "_plans", {})
    monkeypatch.setattr(hot_statements, "MAX_PLANS", 0)

    def compile_again(*_args):
        raise AssertionError("compiled again")

    monkeypatch.setattr(hot_statements, "_compiled", compile_again)
    with app.app_context(), db.engine.connect() as connection, _run_by_sqlalchemy() as seen:
        assert first_row(connection, SHOUTED, {"one": 1}).word == "QUIET"
    assert len(seen) == 1
