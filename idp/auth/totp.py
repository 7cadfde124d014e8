"""TOTP (RFC 6238) by authenticator app: enrolment with a QR code, single-use codes."""

from __future__ import annotations

import base64
import io
import time

import pyotp
import qrcode
import qrcode.image.svg
from flask import current_app

from idp.profiles.models import Profile
from idp.security.crypto import decrypt, encrypt
from idp.timeutil import utcnow


def new_secret() -> str:
    """Return a new random base32 TOTP secret."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, profile: Profile) -> str:
    """Return the otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(
        name=profile.email or profile.phone, issuer_name=current_app.config["IDP_PRODUCT_NAME"])


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


def verify(profile: Profile, code: str) -> bool:
    """Check a code against the profile's secret; each time step is accepted once."""
    if not profile.totp_secret_encrypted:
        return False
    step = matching_step(decrypt(profile.totp_secret_encrypted), code)
    if step is None or (profile.totp_last_step is not None and step <= profile.totp_last_step):
        return False
    profile.totp_last_step = step
    return True
