"""Trigram indexes (PostgreSQL's pg_trgm) for text the app searches with ``LIKE '%…%'``.

A B-tree cannot serve a pattern that starts with a wildcard; a GIN index of the text's trigrams
can, for LIKE and ILIKE alike. Only PostgreSQL has them. SQLite gets an empty index of the same
name (``WHERE 0``: it holds no row, costs nothing and serves no query), so that one schema matches
the models on both; its searches read the table as before. Migration 0012 installs the extension;
a schema built from the models (the tests) gets the index only where the extension's operator
class is on the search path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Dialect, Index, Table, text
from sqlalchemy.sql.compiler import DDLCompiler
from sqlalchemy.sql.ddl import BaseDDLElement
from sqlalchemy.sql.schema import SchemaItem

OPERATOR_CLASS = "gin_trgm_ops"
VISIBLE = (
    f"SELECT EXISTS (SELECT 1 FROM pg_opclass WHERE opcname = '{OPERATOR_CLASS}' "  # noqa: S608 - a constant
    "AND pg_opclass_is_visible(oid))"
)


def _operator_class_visible(
    ddl: BaseDDLElement,
    target: SchemaItem | str,
    bind: Connection | None,
    tables: list[Table] | None = None,
    state: Any | None = None,
    *,
    dialect: Dialect,
    compiler: DDLCompiler | None = None,
    checkfirst: bool = False,
) -> bool:
    """On PostgreSQL, whether pg_trgm's operator class can be named; elsewhere always."""
    if bind is None or dialect.name != "postgresql":
        return True
    return bool(bind.exec_driver_sql(VISIBLE).scalar())


def trigram_index(name: str, column: str) -> Index:
    """A GIN trigram index of ``column`` on PostgreSQL, an empty one on SQLite."""
    index = Index(
        name,
        column,
        postgresql_using="gin",
        postgresql_ops={column: OPERATOR_CLASS},
        sqlite_where=text("0"),
    )
    index.ddl_if(callable_=_operator_class_visible)
    return index
