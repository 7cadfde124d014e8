"""MultiFon numbers: the SIP login is the service number, kept in E.164 and shown nationally.

MultiFon Business is a Russian service: its numbers are read as people in Russia type them
("8 (926) 025-07-30", "89260250730", "9260250730", "+7 926 025-07-30"), whatever country the
profiles' own numbers default to (``IDP_MULTIFON_NUMBER_REGION``, RU).
"""

from __future__ import annotations

from flask import current_app

from idp.connectors.sdk import (
    display_phone,
    read_phone,
)


def to_e164(text: str | None) -> str | None:
    """Read a typed number ("8 (926) 025-07-30", "+7 926 …", "79260250730", ...) as E.164; None
    if it is none."""
    return read_phone(text, current_app.config["IDP_MULTIFON_NUMBER_REGION"])


def label(number: str) -> str:
    """How a number is shown: "+7 (926) 025-07-30"."""
    return display_phone(number)
