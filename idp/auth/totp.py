"""TOTP (RFC 6238) by authenticator app: enrolment with a QR code, single-use codes."""

from __future__ import annotations

import base64
import io
import time

import pyotp
import qrcode
import qrcode.image.svg
from cryptography.fernet import InvalidToken
from flask import current_app

from idp.extensions import db
from idp.profiles.models import Profile
from idp.security.crypto import decrypt, encrypt, seal, unseal
from idp.timeutil import utcnow


def new_secret() -> str:
    """Return a new random base32 TOTP secret."""
    return pyotp.random_base32()


def seal_enrolment(secret: str, profile: Profile) -> str:
    """The secret of an enrolment in progress as the session keeps it: sealed to the profile."""
    return seal(secret, f"totp-enrolment:{profile.id}")


def enrolment_secret(sealed: str | None, profile: Profile) -> str | None:
    """The secret of the profile's enrolment in progress, or None (none, or not this profile's)."""
    if not sealed:
        return None
    try:
        return unseal(sealed, f"totp-enrolment:{profile.id}")
    except InvalidToken:
        return None


def provisioning_uri(secret: str, profile: Profile) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(
        name=profile.email or profile.phone, issuer_name=current_app.config["IDP_PRODUCT_NAME"]
    )


def qr_data_uri(uri: str) -> str:
    """Return the QR code of ``uri`` as an SVG data URI (no inline script, CSP-safe)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def matching_step(secret: str, code: str) -> int | None:
    """Return the time step ``code`` is valid for (±1 step of drift), or None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(time.time()) // totp.interval
    for step in (current, current - 1, current + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def enable(profile: Profile, secret: str, step: int) -> None:
    """Store the encrypted secret and the step already used."""
    profile.totp_secret_encrypted = encrypt(secret)
    profile.totp_enabled_at = utcnow()
    profile.totp_last_step = step


def disable(profile: Profile) -> None:
    """Forget the profile's TOTP secret."""
    profile.totp_secret_encrypted = None
    profile.totp_enabled_at = None
    profile.totp_last_step = None


VALID, WRONG, REUSED = "valid", "wrong", "reused"


def verify(profile: Profile, code: str) -> str:
    """Check a code against the profile's secret: VALID, WRONG, or REUSED (right, but its time step
    was already used: RFC 6238 §5.2 accepts each code once).

    The step is taken with one conditional UPDATE, so of simultaneous uses of one code one wins.
    """
    if not profile.totp_secret_encrypted:
        return WRONG
    step = matching_step(decrypt(profile.totp_secret_encrypted), code)
    if step is None:
        return WRONG
    won = db.session.execute(
        db.update(Profile)
        .where(
            Profile.id == profile.id, db.or_(Profile.totp_last_step.is_(None), Profile.totp_last_step < step)
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.expire(profile, ["totp_last_step"])
    return VALID if won == 1 else REUSED
