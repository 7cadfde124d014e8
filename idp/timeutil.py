"""Time helpers: the database stores naive UTC timestamps on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current UTC time without tzinfo, as stored in every table."""
    return datetime.now(UTC).replace(tzinfo=None)
