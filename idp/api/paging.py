"""Cursor pagination: a page of rows after an opaque cursor, newest or oldest first by id.

The cursor is the last id of the previous page, encoded so that clients treat it as opaque; a
cursor that cannot be read is a 422, never a silent first page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask_babel import gettext as _
from pydantic import BaseModel, Field

from idp.api.problems import Problem
from idp.extensions import db

T = TypeVar("T")

MAX_LIMIT = 200
MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
CURSOR = re.compile(r"[0-9a-z]{1,12}")


class PageQuery(BaseModel):
    """The paging parameters every list takes."""

    cursor: str | None = Field(
        None, pattern=r"^[0-9a-z]{1,12}$", description="The next_cursor of the previous page (opaque)."
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Items per page.")


def encode_cursor(row_id: int) -> str:
    """The id in base 36: short, and every string of the cursor's pattern is a valid cursor."""
    digits = ""
    while True:
        row_id, rest = divmod(row_id, 36)
        digits = ALPHABET[rest] + digits
        if row_id == 0:
            return digits


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor points after, or None for the first page; raise a 422 problem."""
    if not cursor:
        return None
    if not CURSOR.fullmatch(cursor):
        raise Problem(
            422,
            _("The cursor is not one this API gave."),
            errors=[{"pointer": "#/cursor", "detail": _("Use next_cursor of the previous page.")}],
        )
    return min(int(cursor, 36), MAX_ID)  # past every id there can be: a page beyond the end


def page_of(
    statement: Any, id_column: Any, query: PageQuery, shape: Callable[[Any], T], newest_first: bool = False
) -> dict[str, Any]:
    """Run ``statement`` for one page and shape each row; ``next_cursor`` when there is more."""
    after = decode_cursor(query.cursor)
    if after is not None:
        statement = statement.where(id_column < after if newest_first else id_column > after)
    order = id_column.desc() if newest_first else id_column.asc()
    rows: Sequence[Any] = list(db.session.scalars(statement.order_by(order).limit(query.limit + 1)))
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return {
        "items": [shape(row) for row in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more and rows else None,
    }
