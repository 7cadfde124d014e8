"""MultiFon numbers: the SIP login is the service number, kept in E.164 and shown nationally."""

from __future__ import annotations

from idp.security.phones import InvalidPhone, display_phone, normalize_phone


def to_e164(text: str) -> str | None:
    """Read a typed number ("+7 926 025-07-30", "79260250730", ...) as E.164; None if it is none."""
    text = (text or "").strip()
    candidates = [text]
    if text[:1].isdigit():
        candidates.append(f"+{text}")  # the login is often typed as digits with the country code
    for candidate in candidates:
        try:
            return normalize_phone(candidate)
        except InvalidPhone:
            continue
    return None


def label(number: str) -> str:
    """How a number is shown: "+7 (926) 025-07-30"."""
    return display_phone(number)
