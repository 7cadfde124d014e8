"""SMS codes: six CSPRNG digits, kept hashed, bound to one flow, limited in life, tries and sends.

A flow (registration, sign-in, recovery, phone change) starts a challenge and keeps its id in the
browser session; only that flow can verify it. Wrong tries are counted per challenge and a resend
keeps the count. See SPEC.md "Rules with numbers".
"""

from __future__ import annotations

import math
import secrets
from datetime import timedelta
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
    ttl = timedelta(seconds=current_app.config["IDP_OTP_TTL_SECONDS"])
    now = utcnow()
    challenge = SmsChallenge(
        id=secrets.token_urlsafe(32),
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
    _send(challenge, locale, send_code, notice_kind)
    return challenge


def resend(challenge_id: str | None, purpose: str, locale: str, proof: str | None = None) -> SmsChallenge:
    """Send a new code for a live challenge; the old code stops working, the tries stay counted."""
    challenge = _live(challenge_id, purpose)
    wait = current_app.config["IDP_OTP_RESEND_SECONDS"] - (utcnow() - challenge.last_sent_at).total_seconds()
    if wait > 0:
        raise ResendTooSoon(math.ceil(wait))
    spend(challenge.phone, challenge.budget, challenge.profile_id, proof)
    now = utcnow()
    challenge.last_sent_at = now
    challenge.expires_at = now + timedelta(seconds=current_app.config["IDP_OTP_TTL_SECONDS"])
    challenge.sends += 1
    _send(challenge, locale, challenge.sends_code, challenge.notice_kind)
    return challenge


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
    challenge = db.session.get(SmsChallenge, challenge_id) if challenge_id else None
    if challenge is None:
        return 0
    elapsed = (utcnow() - challenge.last_sent_at).total_seconds()
    return max(0, int(current_app.config["IDP_OTP_RESEND_SECONDS"] - elapsed + 0.999))


def _live(challenge_id: str | None, purpose: str) -> SmsChallenge:
    challenge = db.session.get(SmsChallenge, challenge_id) if challenge_id else None
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
