"""Single-use e-mail links: an itsdangerous-signed id of an ``email_links`` row, valid 24 h."""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from idp.extensions import db
from idp.links import external_url
from idp.profiles.errors import LinkInvalid
from idp.profiles.models import EmailLink, Profile
from idp.timeutil import utcnow

SALT = "idp.email-link"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_link(profile: Profile, purpose: str, email: str) -> str:
    """Store a new link for ``email`` and return its absolute URL (built from IDP_ISSUER).

    The profile's older unused links of the same purpose stop working: only the newest does.
    """
    db.session.execute(db.update(EmailLink).where(
        EmailLink.profile_id == profile.id, EmailLink.purpose == purpose,
        EmailLink.used_at.is_(None)).values(used_at=utcnow()))
    link = EmailLink(id=secrets.token_urlsafe(32), profile_id=profile.id, purpose=purpose,
                     email=email)
    db.session.add(link)
    db.session.commit()
    token = _serializer().dumps({"id": link.id, "p": purpose})
    return external_url("profiles.confirm_email", token=token)


def redeem_link(token: str) -> EmailLink:
    """Return the unused link behind ``token`` and mark it used; raise LinkInvalid otherwise."""
    max_age = current_app.config["IDP_EMAIL_LINK_HOURS"] * 3600
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except BadSignature as exc:  # SignatureExpired is a BadSignature
        raise LinkInvalid() from exc
    link = db.session.get(EmailLink, payload.get("id")) if isinstance(payload, dict) else None
    if link is None or link.used_at is not None:
        raise LinkInvalid()
    link.used_at = utcnow()
    return link
