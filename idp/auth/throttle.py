"""Sign-in throttling per account identifier: a growing delay, and a lock at the hundredth failure.

State is kept per HMAC of the normalised identifier, whether or not a profile has it, so an
unknown phone or e-mail is throttled exactly like a known one and answers never differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from idp.auth.models import SignInThrottle
from idp.extensions import db
from idp.security.crypto import keyed_hash
from idp.timeutil import utcnow


@dataclass(frozen=True)
class ThrottleState:
    wait_seconds: int = 0
    locked: bool = False


def _key(identifier: str) -> str:
    return keyed_hash("signin-throttle", identifier)


def delay_after(failures: int) -> int:
    """Return the seconds to wait after ``failures`` consecutive failures."""
    free = current_app.config["IDP_SIGNIN_FREE_FAILURES"]
    if failures < free:
        return 0
    return min(2 ** (failures - free), current_app.config["IDP_SIGNIN_MAX_DELAY_SECONDS"])


def check(identifier: str) -> ThrottleState:
    """Tell whether a sign-in for ``identifier`` may be tried now."""
    row = db.session.get(SignInThrottle, _key(identifier))
    if row is None or row.failures == 0:
        return ThrottleState()
    if row.failures >= current_app.config["IDP_SIGNIN_LOCK_FAILURES"]:
        return ThrottleState(locked=True)
    waited = (utcnow() - row.last_failure_at).total_seconds()
    return ThrottleState(wait_seconds=max(0, int(delay_after(row.failures) - waited + 0.999)))


def record_failure(identifier: str) -> None:
    """Count one more consecutive failure for ``identifier``."""
    row = db.session.get(SignInThrottle, _key(identifier))
    if row is None:
        row = SignInThrottle(key=_key(identifier), failures=0)
        db.session.add(row)
    row.failures += 1
    row.last_failure_at = utcnow()
    db.session.commit()


def reset(*identifiers: str) -> None:
    """Forget the failures of these identifiers (after a success or a password recovery)."""
    for identifier in identifiers:
        row = db.session.get(SignInThrottle, _key(identifier))
        if row is not None:
            db.session.delete(row)
    db.session.commit()
