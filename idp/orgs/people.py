"""An organisation's people a page at a time, found by name, phone number or e-mail: the
organisation page and the staff console list thousands of people without reading them all.

The order is the owner first, then administrators, then members, each by last and first name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, or_

from idp.dbpool import UNICODE_LOWER
from idp.extensions import db
from idp.orgs.models import ORG_ADMIN, ORG_OWNER, Membership, Organisation
from idp.profiles.models import Profile

PAGE_SIZE = 50
MAX_QUERY = 100  # longer text finds nobody anyway


@dataclass
class PeoplePage:
    """One page of an organisation's people (1-based ``number``) and what it was narrowed to."""

    rows: list[Membership]
    total: int  # people matching ``query`` in all
    number: int
    query: str
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def people_page(
    org: Organisation,
    number: int = 1,
    query: str = "",
    size: int = PAGE_SIZE,
    excluding: int | None = None,
) -> PeoplePage:
    """Page ``number`` of the organisation's people whose name, phone number or e-mail contains
    ``query`` (any case), without the profile ``excluding``; a page past the last is the last."""
    query = " ".join(query.split())[:MAX_QUERY]
    where = [Membership.org_id == org.id]
    if excluding is not None:
        where.append(Membership.profile_id != excluding)
    counted = db.select(func.count()).select_from(Membership).where(*where)
    if query:  # the names are the profiles': only a search needs them to count
        found = _matches(query)
        where.append(found)
        counted = counted.join(Profile, Profile.id == Membership.profile_id).where(found)
    total = db.session.scalar(counted) or 0
    number = min(max(1, number), max(1, math.ceil(total / size)))
    rank = case((Membership.role == ORG_OWNER, 0), (Membership.role == ORG_ADMIN, 1), else_=2)
    rows = db.session.scalars(
        db.select(Membership)
        .join(Profile, Profile.id == Membership.profile_id)
        .where(*where)
        .order_by(rank, Profile.last_name, Profile.first_name, Membership.id)
        .offset((number - 1) * size)
        .limit(size)
    )
    return PeoplePage(list(rows), total, number, query, size)


def _matches(query: str) -> ColumnElement[bool]:
    """A person whose name (either way round), e-mail or phone number contains ``query``."""
    text = _contains(query)
    full = Profile.first_name + " " + Profile.last_name
    reverse = Profile.last_name + " " + Profile.first_name
    found = [text(full), text(reverse), text(Profile.email)]
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 3 and not any(ch.isalpha() for ch in query):
        found.append(Profile.phone.contains(digits.lstrip("0") or digits, autoescape=True))
    return or_(*found)


def _contains(query: str):
    """``column`` contains ``query`` in any case (on SQLite too, for Cyrillic: Python's lower())."""
    pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if db.session.get_bind().dialect.name == "sqlite":
        return lambda column: getattr(func, UNICODE_LOWER)(column).like(pattern, escape="\\")
    return lambda column: column.ilike(pattern, escape="\\")
