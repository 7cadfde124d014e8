"""MultiFon numbers: the SIP login is the service number, kept in E.164 and shown nationally."""

from __future__ import annotations

from idp.connectors.sdk import (
    display_phone,
    read_phone,
)


def to_e164(text: str | None) -> str | None:
    """Read a typed number ("+7 926 025-07-30", "79260250730", ...) as E.164; None if it is none."""
    return read_phone(text)


def label(number: str) -> str:
    """How a number is shown: "+7 (926) 025-07-30"."""
    return display_phone(number)
