"""Spending a refresh token on the fast path: the token marked used, its successor kept and the
browser session touched, all or nothing.

Of two simultaneous uses of one token, the one whose UPDATE finds it unspent wins; the other
changes nothing. On PostgreSQL the three writes are one statement (data-modifying CTEs), which the
fast path sends in autocommit after reading the token the same way: two round trips and one commit,
where a transaction costs five (BEGIN, the read, the spend, the successor, COMMIT) and more with the
touch. Elsewhere (SQLite, in the process) they are statements of the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, exists, insert, literal_column, select, update

from idp.hot_statements import row_count
from idp.oauth.models import Grant, RefreshToken
from idp.sessions.models import WebSession

SUCCESSOR_COLUMNS = ("token_hash", "grant_id", "scope", "created_at", "expires_at")

# Unspent, and its grant unrevoked as the spend is made (a revocation after the token's read
# leaves it unspent, for the full path to refuse).
_SPEND = (
    update(RefreshToken)
    .where(
        RefreshToken.token_hash == bindparam("hash"),
        RefreshToken.used_at.is_(None),
        exists().where(Grant.id == RefreshToken.grant_id, Grant.revoked_at.is_(None)),
    )
    .values(used_at=bindparam("now"))
)
_TOUCH = (
    update(WebSession).where(WebSession.id == bindparam("session_id")).values(last_seen_at=bindparam("now"))
)
# Every parameter is named unlike any column of the two tables (hash, now, session_id, new_<column>):
# SQLAlchemy would add a parameter named as a column to the UPDATEs' SET clauses.
_KEEP = insert(RefreshToken).values({name: bindparam("new_" + name) for name in SUCCESSOR_COLUMNS})


def _spend_touch_and_keep():
    """``WITH spent AS (UPDATE … RETURNING 1), touched AS (UPDATE web_sessions … WHERE EXISTS
    spent) INSERT INTO oauth_refresh_tokens … SELECT … FROM spent``: the successor's row count
    says whether the token was spent."""
    spent = _SPEND.returning(literal_column("1").label("one")).cte("spent")
    touched = _TOUCH.where(exists(select(spent.c.one))).cte("touched")
    columns = RefreshToken.__table__.c
    successor = select(*(bindparam("new_" + name, type_=columns[name].type) for name in SUCCESSOR_COLUMNS))
    return (
        insert(RefreshToken)
        .from_select(list(SUCCESSOR_COLUMNS), successor.select_from(spent))
        .add_cte(spent)
        .add_cte(touched)
        .execution_options(preserve_rowcount=True)  # an INSERT's row count is not kept otherwise
    )


_SPEND_TOUCH_AND_KEEP = _spend_touch_and_keep()


def spend(
    connection: Connection, token_hash: str, now: datetime, successor: dict, session_id: int | None
) -> bool:
    """Mark the refresh token ``token_hash`` used at ``now`` and keep ``successor`` (the columns of
    ``SUCCESSOR_COLUMNS``), touching the browser session ``session_id`` if one is given; False,
    with nothing changed, when the token was already spent or its grant revoked. On PostgreSQL
    ``connection`` may be in autocommit (the statement is whole on its own); elsewhere it must be
    in a transaction."""
    parameters = {"hash": token_hash, "now": now, "session_id": session_id}
    parameters.update({"new_" + name: successor[name] for name in SUCCESSOR_COLUMNS})
    if connection.dialect.name == "postgresql":
        return row_count(connection, _SPEND_TOUCH_AND_KEEP, parameters) == 1
    if connection.execute(_SPEND, parameters).rowcount != 1:
        return False
    if session_id is not None:
        connection.execute(_TOUCH, parameters)
    connection.execute(_KEEP, parameters)
    return True
