"""Phone numbers: parsed and validated with phonenumbers, stored in E.164, shown nationally."""

from __future__ import annotations

import functools

import phonenumbers
from flask import current_app


class InvalidPhone(ValueError):
    """The text is not a valid phone number."""


def normalize_phone(text: str, region: str | None = None) -> str:
    """Return ``text`` as an E.164 number; raise InvalidPhone when it is not a valid number."""
    region = region or current_app.config["IDP_DEFAULT_REGION"]
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 32:
        raise InvalidPhone(text)
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(text) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def read_phone(text: str | None, region: str | None = None) -> str | None:
    """Read a number as people type a service login into E.164; None when it is no valid number.

    ``region`` is the country whose people type the number (``IDP_DEFAULT_REGION`` when None): its
    domestic forms are read too, e.g. for RU "8 (926) 025-07-41", "89260250741" and "9260250741"
    as well as "+7 926 025-07-41" and "79260250741" (digits with the country code).
    """
    text = (text or "").strip()
    candidates = [text]
    if text[:1].isdigit():
        candidates.append(f"+{text}")  # a login is often typed as digits with the country code
    for candidate in candidates:
        try:
            return normalize_phone(candidate, region)
        except InvalidPhone:
            continue
    return None


@functools.lru_cache(maxsize=4096)  # pages list dozens of numbers, and phonenumbers is slow at it
def display_phone(e164: str) -> str:
    """Return a valid number in its national form behind the country code, as phonenumbers formats
    it: ``+7 (926) 025-07-30``, ``+380 44 123 4567``. Anything else is returned as it was given."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    if not phonenumbers.is_valid_number(number):
        return e164
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    region = phonenumbers.region_code_for_number(number)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region) if region else None
    prefix = metadata.national_prefix if metadata else None
    if prefix and national.startswith(prefix):
        national = national[len(prefix) :].lstrip()
    return f"+{number.country_code} {national}"


def mask_phone(e164: str) -> str:
    """Return the number with all but its last digits hidden, e.g. ``+380 •• ••• 45 67``."""
    shown = display_phone(e164)
    digits_seen = 0
    masked = []
    for char in reversed(shown):
        if char.isdigit():
            digits_seen += 1
            masked.append(char if digits_seen <= 4 else "•")
        else:
            masked.append(char)
    out = "".join(reversed(masked))
    return "+" + out[1:] if shown.startswith("+") else out


def number_prefix(e164: str, digits: int) -> str:
    """Return the first ``digits`` digits of an E.164 number (country and operator code)."""
    return e164[: digits + 1]
