"""SMS codes: six CSPRNG digits, kept hashed, bound to one flow, limited in life, tries and sends.

A flow (registration, sign-in, recovery, phone change) starts a challenge and keeps its id in the
browser session; only that flow can verify it. Wrong tries are counted per challenge and a resend
keeps the count. See SPEC.md "Rules with numbers".
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from flask import current_app

from idp.audit.services import record
from idp.delivery.services import send
from idp.extensions import db
from idp.otp.budgets import STRANGER, spend
from idp.otp.errors import (
    AttemptsExhausted,
    CodeExpired,
    CodeInvalid,
    FlowUnknown,
    OtpError,
    ResendTooSoon,
)
from idp.otp.models import SmsChallenge
from idp.security.crypto import keyed_hash
from idp.timeutil import utcnow

if TYPE_CHECKING:
    from sqlalchemy import CursorResult


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _code_hash(challenge_id: str, code: str) -> str:
    return keyed_hash("sms-code", f"{challenge_id}:{code}")


def start_challenge(
    purpose: str,
    phone: str,
    locale: str,
    profile_id: int | None = None,
    send_code: bool = True,
    notice_kind: str | None = None,
    budget: str = STRANGER,
    proof: str | None = None,
) -> SmsChallenge:
    """Start a challenge for ``phone`` and send its SMS.

    With ``send_code=False`` the SMS is ``notice_kind`` instead of a code (or none at all when
    it is None) and no code can ever match: the page that follows behaves exactly as if a code
    had been sent, and the send budgets are spent the same way.
    ``budget`` says which budgets the SMS draws on (``idp.otp.budgets``: STRANGER, or PROVEN for
    the profile ``profile_id`` that has just given its password); ``proof`` is a proof of work,
    needed once a stranger's budget is spent. Raises what ``budgets.spend`` raises.
    """
    spend(phone, budget, profile_id, proof)
    challenge = _create(secrets.token_urlsafe(32), purpose, phone, profile_id, send_code, notice_kind, budget)
    _send(challenge, locale, send_code, notice_kind)
    return challenge


def _create(
    challenge_id: str,
    purpose: str,
    phone: str,
    profile_id: int | None,
    send_code: bool,
    notice_kind: str | None,
    budget: str,
) -> SmsChallenge:
    ttl = timedelta(seconds=current_app.config["IDP_OTP_TTL_SECONDS"])
    now = utcnow()
    challenge = SmsChallenge(
        id=challenge_id,
        purpose=purpose,
        phone=phone,
        profile_id=profile_id,
        created_at=now,
        last_sent_at=now,
        expires_at=now + ttl,
        sends=1,
        failed_attempts=0,
        sends_code=send_code,
        notice_kind=None if send_code else notice_kind,
        budget=budget,
    )
    db.session.add(challenge)
    return challenge


def resend(challenge_id: str | None, purpose: str, locale: str, proof: str | None = None) -> SmsChallenge:
    """Send a new code for a live challenge; the old code stops working, the tries stay counted.

    The send is claimed with a conditional UPDATE (``_claim_send``) before the budgets are spent,
    so of parallel resends only one goes out once the wait is over."""
    challenge = _live(challenge_id, purpose)
    before = _claim_send(challenge)
    try:
        spend(challenge.phone, challenge.budget, challenge.profile_id, proof)
    except OtpError:
        _unclaim_send(challenge, before)
        raise
    challenge.expires_at = challenge.last_sent_at + timedelta(
        seconds=current_app.config["IDP_OTP_TTL_SECONDS"]
    )
    challenge.sends += 1
    _send(challenge, locale, challenge.sends_code, challenge.notice_kind)
    return challenge


def renew(challenge_id: str | None, purpose: str, locale: str, proof: str | None = None) -> SmsChallenge:
    """A new code for a flow whose code is spent (entered wrong IDP_OTP_MAX_ATTEMPTS times): a new
    challenge to the same number, for the same purpose and profile, sending the same kind of SMS
    and drawing on the same budgets, once the resend wait since the spent one's last SMS is over.

    The spent challenge stays spent (its tries stay used up) and names the new one
    (``renewed_by``): every request of the flow, even one that still holds the spent id, goes on
    with the new code (``current``). Naming it is the claim, a conditional UPDATE, so of parallel
    requests only one starts a challenge. Raises FlowUnknown when the flow's code is not spent,
    ResendTooSoon, and what ``budgets.spend`` raises.
    """
    spent = current(challenge_id)
    if spent is None or spent.purpose != purpose or not _spent(spent):
        raise FlowUnknown()
    following = secrets.token_urlsafe(32)
    before = _claim_send(spent, renewed_by=following)
    try:
        spend(spent.phone, spent.budget, spent.profile_id, proof)
    except OtpError:
        _unclaim_send(spent, before, renewed_by=None)
        raise
    challenge = _create(
        following, purpose, spent.phone, spent.profile_id, spent.sends_code, spent.notice_kind, spent.budget
    )
    _send(challenge, locale, spent.sends_code, spent.notice_kind)
    return challenge


def current(challenge_id: str | None) -> SmsChallenge | None:
    """The flow's challenge: the one ``challenge_id`` names or, once its code was spent, the newest
    challenge that renewed it (``renew``)."""
    challenge = db.session.get(SmsChallenge, challenge_id) if challenge_id else None
    for _ in range(RENEWALS_FOLLOWED):
        following = (
            db.session.get(SmsChallenge, challenge.renewed_by) if challenge and challenge.renewed_by else None
        )
        if following is None:  # the newest, or the next one is being started right now
            break
        challenge = following
    return challenge


RENEWALS_FOLLOWED = 100  # far more than the SMS budgets let one flow renew its code


def is_spent(challenge_id: str | None) -> bool:
    """Tell whether the flow's code is spent: entered wrong IDP_OTP_MAX_ATTEMPTS times, not used."""
    challenge = current(challenge_id)
    return challenge is not None and _spent(challenge)


def _spent(challenge: SmsChallenge) -> bool:
    return (
        challenge.verified_at is None
        and challenge.failed_attempts >= current_app.config["IDP_OTP_MAX_ATTEMPTS"]
    )


def _claim_send(challenge: SmsChallenge, **values: Any) -> datetime:
    """Take the next SMS of ``challenge`` (and set ``values``): one conditional UPDATE moves its
    last send to now if the resend wait is over and nothing renewed it, so only one of parallel
    requests gets it. Return the last send before, or raise ResendTooSoon."""
    before = challenge.last_sent_at
    now = utcnow()
    wait = timedelta(seconds=current_app.config["IDP_OTP_RESEND_SECONDS"])
    claimed = cast(
        "CursorResult[Any]",
        db.session.execute(
            db.update(SmsChallenge)
            .where(
                SmsChallenge.id == challenge.id,
                SmsChallenge.renewed_by.is_(None),
                SmsChallenge.last_sent_at <= now - wait,
            )
            .values(last_sent_at=now, **values)
        ),
    ).rowcount
    db.session.commit()
    db.session.refresh(challenge)
    if claimed != 1:
        left = (wait - (now - challenge.last_sent_at)).total_seconds()
        raise ResendTooSoon(max(1, math.ceil(left)))
    return before


def _unclaim_send(challenge: SmsChallenge, before: datetime, **values: Any) -> None:
    """Give back a claimed send that did not go out (a budget refused it): as it was before."""
    db.session.execute(
        db.update(SmsChallenge).where(SmsChallenge.id == challenge.id).values(last_sent_at=before, **values)
    )
    db.session.commit()


def verify(challenge_id: str | None, purpose: str, code: str) -> SmsChallenge:
    """Check ``code`` against the flow's challenge and use it up; raise an OtpError otherwise.

    A try is taken before the code is compared (a conditional UPDATE of the tries), and the code is
    used up by another one (``WHERE code_hash = …``), so parallel requests never compare more than
    IDP_OTP_MAX_ATTEMPTS codes and one code opens one flow once.
    """
    challenge = _live(challenge_id, purpose)
    if utcnow() > challenge.expires_at:
        raise CodeExpired()
    most = current_app.config["IDP_OTP_MAX_ATTEMPTS"]
    live = (SmsChallenge.id == challenge.id, SmsChallenge.verified_at.is_(None))
    taken = cast(
        "CursorResult[Any]",
        db.session.execute(
            db.update(SmsChallenge)
            .where(*live, SmsChallenge.failed_attempts < most)
            .values(failed_attempts=SmsChallenge.failed_attempts + 1)
        ),
    ).rowcount
    used = (
        taken == 1
        and cast(
            "CursorResult[Any]",
            db.session.execute(
                db.update(SmsChallenge)
                .where(*live, SmsChallenge.code_hash == _code_hash(challenge.id, code.strip()))
                .values(
                    verified_at=utcnow(),
                    code_hash=None,  # single use; the right code costs no try
                    failed_attempts=SmsChallenge.failed_attempts - 1,
                )
            ),
        ).rowcount
        == 1
    )
    if used:
        record("sms_code.accepted", challenge.profile_id, purpose=purpose)
    db.session.commit()
    db.session.refresh(challenge)
    if used:
        return challenge
    if challenge.verified_at is not None:
        raise FlowUnknown()
    remaining = most - challenge.failed_attempts
    if remaining <= 0:
        raise AttemptsExhausted()
    raise CodeInvalid(remaining)


def seconds_until_resend(challenge_id: str | None) -> int:
    """Return how long the page must wait before offering a resend (0 when it may)."""
    challenge = current(challenge_id)
    if challenge is None:
        return 0
    elapsed = (utcnow() - challenge.last_sent_at).total_seconds()
    return max(0, int(current_app.config["IDP_OTP_RESEND_SECONDS"] - elapsed + 0.999))


def _live(challenge_id: str | None, purpose: str) -> SmsChallenge:
    challenge = current(challenge_id)
    if challenge is None or challenge.purpose != purpose or challenge.verified_at is not None:
        raise FlowUnknown()
    if challenge.failed_attempts >= current_app.config["IDP_OTP_MAX_ATTEMPTS"]:
        raise AttemptsExhausted()
    return challenge


def _send(challenge: SmsChallenge, locale: str, send_code: bool, notice_kind: str | None) -> None:
    if send_code:
        code = _new_code()
        challenge.code_hash = _code_hash(challenge.id, code)
        db.session.commit()
        minutes = current_app.config["IDP_OTP_TTL_SECONDS"] // 60
        message = send(
            "sms_code",
            challenge.phone,
            locale,
            profile_id=challenge.profile_id,
            expires_at=challenge.expires_at,
            code=code,
            minutes=minutes,
            purpose=challenge.purpose,
        )
    else:
        challenge.code_hash = None
        db.session.commit()
        if notice_kind is None:
            return
        message = send(notice_kind, challenge.phone, locale)
    challenge.message_id = message.id
    db.session.commit()
