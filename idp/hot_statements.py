"""The machine endpoints' statements on PostgreSQL, straight on psycopg's cursor: one-row reads
(``first_row``) and a write whose row count is its answer (``row_count``).

A userinfo, an introspection or a refresh reads one row with one statement (and a refresh spends
its token with one more). Through SQLAlchemy's connection such a read costs about 140 – 170 µs of
the client's CPU on PostgreSQL (an execution context, a result's metadata, psycopg's description
of the columns), against about 100 µs for the same statement on psycopg's cursor; the rest of a
userinfo is about 200 µs. These functions run a module-level statement the second way: compiled
once by SQLAlchemy for the connection's dialect (the same SQL, its casts included), its parameters
passed as they are, a row given back as a named tuple with the names SQLAlchemy's row would have.

It does so only where that is the same answer: on PostgreSQL, for a statement none of whose
parameters or columns SQLAlchemy would convert (no bind or result processor: strings, numbers,
booleans and timestamps, which psycopg itself converts). Anything else, and SQLite, goes through
SQLAlchemy as before. As SQLAlchemy's execution would, a statement on a connection outside a
transaction begins one (the caller's commit commits it), a disconnection invalidates the connection
and the pool's older ones, and a driver error is raised as SQLAlchemy's ``DBAPIError`` (the same
subclass, ``OperationalError`` for a disconnection), here without its parameters.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, exc
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Plan:
    sql: str
    defaults: dict[str, Any]  # the statement's own bound values (a LIMIT's, a literal's)
    row: Any  # the named tuple class of a row (empty for a write); None: SQLAlchemy runs it
    required: frozenset[str] = frozenset()  # the parameters a call must give


_THROUGH_SQLALCHEMY = _Plan("", {}, None)
# Plans kept at most: the hot statements are a handful of module-level constants; a statement made
# per call would otherwise be kept for ever (beyond this, statements go through SQLAlchemy).
MAX_PLANS = 64
_plans: dict[tuple[int, str, str, str], tuple[Executable, _Plan]] = {}


def first_row(connection: Connection, statement: Executable, params: dict[str, Any]) -> Any:
    """The first row of ``statement`` with ``params`` (as ``connection.execute(...).first()``
    gives it, by index and by name), or None. ``statement`` should be a module-level constant: its
    compiled form is kept for the life of the process."""
    plan = _plan(statement, connection, params)
    if plan.row is None:
        return connection.execute(statement, params).first()
    found = _on_cursor(connection, plan, params, lambda cursor: cursor.fetchone())
    return None if found is None else plan.row._make(found)


def row_count(connection: Connection, statement: Executable, params: dict[str, Any]) -> int:
    """The rows ``statement`` (an INSERT, UPDATE or DELETE) changed with ``params``, as
    ``connection.execute(...).rowcount`` says it."""
    plan = _plan(statement, connection, params)
    if plan.row is None:
        return connection.execute(statement, params).rowcount
    return _on_cursor(connection, plan, params, lambda cursor: cursor.rowcount)


def _on_cursor(connection: Connection, plan: _Plan, params: dict[str, Any], answer):
    proxied = connection.connection
    dbapi_connection: Any = proxied.driver_connection
    if not dbapi_connection.autocommit and not connection.in_transaction():
        connection.begin()  # as execute() begins one: the caller's commit() then commits the write
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(plan.sql, {**plan.defaults, **params})
            return answer(cursor)
    except connection.dialect.loaded_dbapi.Error as error:
        dialect = connection.dialect
        disconnected = dialect.is_disconnect(error, dbapi_connection, None)
        if disconnected:  # as SQLAlchemy does: this connection and the pool's older ones replaced
            connection.invalidate(error)
            connection.engine.pool._invalidate(proxied, error)
        # Without its parameters: a token's digest is no text for a log.
        raise exc.DBAPIError.instance(
            plan.sql,
            params,
            error,
            dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=disconnected,
            dialect=dialect,
        ) from error


def _plan(statement: Executable, connection: Connection, params: dict[str, Any]) -> _Plan:
    dialect = connection.dialect
    key = (id(statement), dialect.name, dialect.driver, dialect.paramstyle)
    kept = _plans.get(key)
    if kept is not None and kept[0] is statement:
        plan = kept[1]
    elif len(_plans) >= MAX_PLANS:
        return _THROUGH_SQLALCHEMY  # not compiled again on every call: SQLAlchemy caches its own
    else:
        plan = _compiled(statement, dialect)
        _plans[key] = (statement, plan)  # the statement is kept too: its id is never reused
    # A parameter missing: SQLAlchemy's execution says so (the cursor would bind NULL).
    return plan if plan.required <= params.keys() else _THROUGH_SQLALCHEMY


def _compiled(statement: Executable, dialect) -> _Plan:
    compiled = cast(SQLCompiler, cast(ClauseElement, statement).compile(dialect=dialect))
    if dialect.name != "postgresql" or dialect.driver != "psycopg" or compiled.positional:
        return _THROUGH_SQLALCHEMY
    # Forms whose SQL SQLAlchemy completes as it executes (an expanding IN, a literal bound at
    # execution, an escaped parameter name).
    if compiled.escaped_bind_names or compiled.literal_execute_params or compiled.post_compile_params:
        return _THROUGH_SQLALCHEMY
    if any(processor is not None for processor in compiled._bind_processors.values()):
        return _THROUGH_SQLALCHEMY
    columns = compiled._result_columns
    try:
        converts = any(column.type._cached_result_processor(dialect, None) is not None for column in columns)
    except TypeError:  # a processor chosen by the column's type code (Numeric on psycopg)
        converts = True
    if converts:
        return _THROUGH_SQLALCHEMY
    # A write without RETURNING has no columns: its "row" is then an empty tuple, never made.
    row = namedtuple("Row", [column.keyname for column in columns], rename=True)  # type: ignore[misc]
    required = frozenset(name for name, bind in compiled.binds.items() if bind.required)
    defaults = {name: value for name, value in compiled.params.items() if name not in required}
    return _Plan(compiled.string, defaults, row, required)
