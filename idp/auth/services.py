"""Check a phone-or-e-mail and password, and a second factor, under per-account throttling."""

from __future__ import annotations

from dataclasses import dataclass

from idp.audit.services import record
from idp.auth import throttle
from idp.auth.errors import Disabled, WrongCredentials
from idp.extensions import db
from idp.metrics.counters import count_signin
from idp.profiles.models import Profile
from idp.profiles.services import find_by_phone, find_by_verified_email
from idp.security.emails import normalise_email
from idp.security.passwords import hash_password, needs_rehash, verify_password
from idp.security.phones import InvalidPhone, normalize_phone


def normalize_identifier(identifier: str) -> str:
    """Return an e-mail in lower case or a phone in E.164; other text as it was, lowered."""
    text = identifier.strip()
    if "@" in text:
        return normalise_email(text)
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
    """The lock counter of a profile, which every identifier and its second factor feed."""
    return f"profile:{profile.id}"


@dataclass
class PasswordChecked:
    """A right password: who, by which identifier, and the attempt it took (see ``throttle``)."""

    profile: Profile
    identifier: str
    attempt: throttle.Attempt


def authenticate(identifier: str, password: str) -> PasswordChecked:
    """Check the credentials; raise WrongCredentials, Throttled or Locked.

    The attempt is counted before the password is checked (``throttle.take``): the delay by the
    identifier typed, the lock by the profile. A right password leaves it counted until the
    caller ends the sign-in (``signed_in``) or passes to the second factor (``second_step``).
    """
    normalized = normalize_identifier(identifier)
    profile = find_profile(normalized)
    attempt = throttle.take(normalized, throttle_key(profile) if profile else None)
    if not verify_password(profile.password_hash if profile else None, password):
        if profile is not None:
            record("signin.failed", profile.id)
            db.session.commit()
        count_signin("failure")
        raise WrongCredentials()
    assert profile is not None  # a password is right only against a profile's hash
    if needs_rehash(profile.password_hash):
        profile.password_hash = hash_password(password)
        db.session.commit()
    if profile.disabled:
        record("signin.refused_disabled", profile.id)
        db.session.commit()
        count_signin("disabled")
        raise Disabled()
    return PasswordChecked(profile, normalized, attempt)


def second_step(checked: PasswordChecked) -> None:
    """The password was right and a second factor follows: the password's attempt is given back."""
    throttle.give_back(checked.attempt)


def take_second_factor_attempt(profile: Profile, identifier: str) -> throttle.Attempt:
    """Count one second-factor try against the identifier typed and the profile, before it is
    checked; raise Throttled or Locked when none may be tried now."""
    return throttle.take(identifier, throttle_key(profile))


def signed_in(profile: Profile) -> None:
    """The whole sign-in succeeded: the profile's consecutive failures start again from zero
    (committed by the caller with the sign-in's audit event)."""
    forget_failures(profile, commit=False)
    count_signin("success")


def forget_failures(profile: Profile, commit: bool = True) -> None:
    """Clear every counter of the profile (a full sign-in, or a restored password)."""
    throttle.reset(throttle_key(profile), profile.phone, profile.email.lower(), commit=commit)


def reauthenticate(profile: Profile, password: str) -> None:
    """Check the password of the signed-in profile again, under the same throttling."""
    key = throttle_key(profile)
    throttle.take(key)
    if not verify_password(profile.password_hash, password):
        record("reauthentication.failed", profile.id)
        db.session.commit()
        raise WrongCredentials()
    throttle.reset(key)
