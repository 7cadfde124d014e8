"""Sign-in throttling: a growing delay per identifier typed, and a lock at the hundredth failure.

An attempt is *taken* before the password or code is checked: one conditional UPDATE counts it as a
failure if the delay allows a try now, so of many simultaneous attempts only those the limit allows
are ever checked. A success then clears the count (``reset``) or, for a step that is not the end
of a sign-in (a right password before the second factor), gives the attempt back (``give_back``).

Two counters stand behind one sign-in: the *delay* counter of the identifier typed (a phone or an
e-mail), so that failures by phone never slow down the e-mail of the same profile and answers never
tie one to the other; and the *lock* counter of the profile, which all its identifiers and its
second factor feed, so that together they never get more than IDP_SIGNIN_LOCK_FAILURES tries. An
unknown identifier is its own lock counter and behaves exactly like a known one.

State is kept per HMAC of the identifier, whether or not a profile has it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from idp.atomic import commit_counts, insert_absent, insert_if_absent
from idp.auth.errors import Locked, Throttled
from idp.auth.models import SignInThrottle
from idp.extensions import db
from idp.metrics.counters import count_throttled
from idp.security.crypto import keyed_hash
from idp.timeutil import backoff, utcnow

CONTENDED_TRIES = 8  # rereads when another request took the same counter at the same moment


@dataclass(frozen=True)
class ThrottleState:
    wait_seconds: int = 0
    locked: bool = False


@dataclass
class Attempt:
    """What ``take`` counted: each counter's key with its state before and after."""

    taken: list[tuple[str, int, datetime | None, datetime]] = field(default_factory=list)


def _key(identifier: str) -> str:
    return keyed_hash("signin-throttle", identifier)


def delay_after(failures: int) -> int:
    """Return the seconds to wait after ``failures`` consecutive failures."""
    free = current_app.config["IDP_SIGNIN_FREE_FAILURES"]
    if failures < free:
        return 0
    return int(backoff(failures - free, current_app.config["IDP_SIGNIN_MAX_DELAY_SECONDS"]))


def _state(failures: int, last: datetime | None, now: datetime) -> ThrottleState:
    if failures >= current_app.config["IDP_SIGNIN_LOCK_FAILURES"]:
        return ThrottleState(locked=True)
    if failures == 0 or last is None:
        return ThrottleState()
    waited = (now - last).total_seconds()
    return ThrottleState(wait_seconds=max(0, int(delay_after(failures) - waited + 0.999)))


def _read(key: str) -> tuple[int, datetime | None] | None:
    row = db.session.execute(
        db.select(SignInThrottle.failures, SignInThrottle.last_failure_at).where(SignInThrottle.key == key)
    ).first()
    return (row.failures, row.last_failure_at) if row else None


def check(identifier: str) -> ThrottleState:
    """Tell whether an attempt for ``identifier`` may be tried now (reading only)."""
    found = _read(_key(identifier))
    return _state(*found, utcnow()) if found else ThrottleState()


def _take_one(key: str) -> tuple[int, datetime | None, datetime]:
    """Count one attempt on ``key`` if its delay allows one now; raise Throttled or Locked.

    The count is written only if it is still the one read (compare and set), so of simultaneous
    attempts exactly those the delay allows are counted; a loser reads again."""
    now = utcnow()
    # The first attempt since the counter was cleared (the usual case) makes its row in one step.
    if insert_if_absent(SignInThrottle, key=key, failures=1, last_failure_at=now):
        commit_counts()
        return 0, None, now
    for _ in range(CONTENDED_TRIES):
        now = utcnow()
        found = _read(key)
        if found is None:
            if insert_if_absent(SignInThrottle, key=key, failures=1, last_failure_at=now):
                commit_counts()
                return 0, None, now
            db.session.commit()  # another request inserted it: read it afresh
            continue
        failures, last = found
        state = _state(failures, last, now)
        if state.locked:
            count_throttled("signin_lock")
            raise Locked()
        if state.wait_seconds:
            count_throttled("signin_delay")
            raise Throttled(state.wait_seconds)
        counted = db.session.execute(
            db.update(SignInThrottle)
            .where(SignInThrottle.key == key, SignInThrottle.failures == failures)
            .values(failures=failures + 1, last_failure_at=now)
        ).rowcount
        commit_counts()  # each counter alone: this request holds no other counter's lock meanwhile
        if counted == 1:
            return failures, last, now
    count_throttled("signin_delay")
    raise Throttled(1)


def take(delay_identifier: str, lock_identifier: str | None = None) -> Attempt:
    """Count an attempt before it is checked; raise Throttled or Locked when none may be tried.

    ``delay_identifier`` is what the person typed; ``lock_identifier`` the profile's counter, when
    it is another one. The attempt stays counted as a failure unless ``reset`` or ``give_back``
    follows.
    """
    delay_key = _key(delay_identifier)
    lock_key = _key(lock_identifier) if lock_identifier else delay_key
    keys = sorted({delay_key, lock_key})
    # The first attempt since the counters were cleared (the usual case) makes their rows in one
    # statement, in key order (see insert_absent); a counter that already has a row is counted on
    # its own below.
    now = utcnow()
    rows = [{"key": key, "failures": 1, "last_failure_at": now} for key in keys]
    fresh = insert_absent(SignInThrottle, rows)
    if fresh:
        commit_counts()
    attempt = Attempt([(key, 0, None, now) for key in keys if key in fresh])
    try:
        if delay_key not in fresh:
            attempt.taken.append((delay_key, *_take_one(delay_key)))
        if lock_key != delay_key and lock_key not in fresh:
            attempt.taken.append(_count_towards_lock(lock_key))
    except (Locked, Throttled):
        if attempt.taken:
            give_back(attempt)
        raise
    return attempt


def _count_towards_lock(key: str) -> tuple[str, int, datetime | None, datetime]:
    """Count one attempt on a lock counter (no delay of its own): one conditional UPDATE."""
    now = utcnow()
    if insert_if_absent(SignInThrottle, key=key, failures=1, last_failure_at=now):
        commit_counts()
        return key, 0, None, now
    row = _read(key)
    counted = db.session.execute(
        db.update(SignInThrottle)
        .where(
            SignInThrottle.key == key,
            SignInThrottle.failures < current_app.config["IDP_SIGNIN_LOCK_FAILURES"],
        )
        .values(failures=SignInThrottle.failures + 1, last_failure_at=now)
    ).rowcount
    commit_counts()
    if (
        counted != 1
        and row is None
        and insert_if_absent(SignInThrottle, key=key, failures=1, last_failure_at=now)
    ):
        commit_counts()  # a success cleared the counter between the two statements: count afresh
        return key, 0, None, now
    if counted != 1:
        count_throttled("signin_lock")
        raise Locked()
    before, last = row if row else (0, None)
    return key, before, last, now


def give_back(attempt: Attempt) -> None:
    """Undo what ``take`` counted: the check succeeded, but the sign-in is not over yet.

    The counters are updated in key order, as ``take`` makes them: two give-backs of the same pair
    (a form sent twice) then never wait for each other's row in a ring."""
    for key, before, last, taken_at in sorted(attempt.taken, key=lambda taken: taken[0]):
        restored = db.session.execute(
            db.update(SignInThrottle)
            .where(
                SignInThrottle.key == key,
                SignInThrottle.failures == before + 1,
                SignInThrottle.last_failure_at == taken_at,
            )
            .values(failures=before, last_failure_at=last)
        ).rowcount
        if not restored:  # another attempt counted meanwhile: give back ours alone
            db.session.execute(
                db.update(SignInThrottle)
                .where(SignInThrottle.key == key, SignInThrottle.failures > 0)
                .values(failures=SignInThrottle.failures - 1)
            )
    db.session.commit()


def reset(*identifiers: str, commit: bool = True) -> None:
    """Forget the failures of these identifiers (after a success or a password recovery); the
    caller commits it with its own changes when ``commit`` is False."""
    keys = [_key(identifier) for identifier in identifiers]
    # Through the session's connection: no counter is ever loaded as an object, so the ORM has
    # nothing to flush or synchronise first.
    db.session.connection().execute(db.delete(SignInThrottle).where(SignInThrottle.key.in_(keys)))
    if commit:
        db.session.commit()
