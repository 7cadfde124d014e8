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


def throttle_key(profile: Profile) -> str:
    """The one failure counter of a profile, whichever identifier the attempts used."""
    return f"profile:{profile.id}"


def check_throttle(key: str) -> None:
    """Raise Locked or Throttled when sign-ins for ``key`` must wait."""
    state = throttle.check(key)
    if state.locked:
        raise Locked()
    if state.wait_seconds:
        raise Throttled(state.wait_seconds)


def authenticate(identifier: str, password: str) -> Profile:
    """Return the profile for these credentials or raise WrongCredentials, Throttled or Locked.

    Failures count per profile, so its phone and e-mail together never get more than
    IDP_SIGNIN_LOCK_FAILURES tries; an unknown identifier counts on its own in the same way.
    """
    normalized = normalize_identifier(identifier)
    profile = find_profile(normalized)
    key = throttle_key(profile) if profile else normalized
    check_throttle(key)
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


def reauthenticate(profile: Profile, password: str) -> None:
    """Check the password of the signed-in profile again, under the same throttling."""
    check_throttle(throttle_key(profile))
    if not verify_password(profile.password_hash, password):
        throttle.record_failure(throttle_key(profile))
        record("reauthentication.failed", profile.id)
        db.session.commit()
        raise WrongCredentials()
    throttle.reset(throttle_key(profile))
