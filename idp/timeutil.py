"""Time helpers: the database stores naive UTC timestamps on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current UTC time without tzinfo, as stored in every table."""
    return datetime.now(UTC).replace(tzinfo=None)


def backoff(step: int, longest: float, first: float = 1.0) -> float:
    """The wait before try ``step + 1`` of an exponential backoff: ``first`` seconds doubled
    ``step`` times, at most ``longest``."""
    return min(first * 2.0**step, longest)


def doubled(wait: float, longest: float, least: float = 0.0) -> float:
    """The next wait of a backoff kept as the last wait: twice it, between ``least`` and
    ``longest``."""
    return min(max(wait * 2, least), longest)
