"""Check a phone-or-e-mail and password, under per-account throttling."""

from __future__ import annotations

from idp.audit.services import record
from idp.auth import throttle
from idp.auth.errors import Locked, Throttled, WrongCredentials
from idp.extensions import db
from idp.profiles.models import Profile
from idp.profiles.services import find_by_phone, find_by_verified_email
from idp.security.passwords import hash_password, needs_rehash, verify_password
from idp.security.phones import InvalidPhone, normalize_phone


def normalize_identifier(identifier: str) -> str:
    """Return an e-mail in lower case or a phone in E.164; other text as it was, lowered."""
    text = identifier.strip()
    if "@" in text:
        return text.lower()
    try:
        return normalize_phone(text)
    except InvalidPhone:
        return text.lower()


def find_profile(identifier: str) -> Profile | None:
    """Return the profile a normalised identifier names, if any."""
    if "@" in identifier:
        return find_by_verified_email(identifier)
    return find_by_phone(identifier) if identifier.startswith("+") else None


def authenticate(identifier: str, password: str) -> Profile:
    """Return the profile for these credentials or raise WrongCredentials, Throttled or Locked."""
    key = normalize_identifier(identifier)
    state = throttle.check(key)
    if state.locked:
        raise Locked()
    if state.wait_seconds:
        raise Throttled(state.wait_seconds)
    profile = find_profile(key)
    if not verify_password(profile.password_hash if profile else None, password):
        throttle.record_failure(key)
        if profile is not None:
            record("signin.failed", profile.id)
            db.session.commit()
        raise WrongCredentials()
    if needs_rehash(profile.password_hash):
        profile.password_hash = hash_password(password)
    throttle.reset(key)
    return profile


def signin_identifiers(profile: Profile) -> list[str]:
    """Return every identifier a profile can sign in with (to reset their throttles)."""
    return [profile.phone, profile.email]


def reauthenticate(profile: Profile, password: str) -> None:
    """Check the password of the signed-in profile again, under the same throttling."""
    state = throttle.check(profile.phone)
    if state.locked:
        raise Locked()
    if state.wait_seconds:
        raise Throttled(state.wait_seconds)
    if not verify_password(profile.password_hash, password):
        throttle.record_failure(profile.phone)
        record("reauthentication.failed", profile.id)
        db.session.commit()
        raise WrongCredentials()
    throttle.reset(profile.phone)
