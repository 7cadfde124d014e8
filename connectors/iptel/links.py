"""Single-use e-mail links of the portal: a password reset, or the confirmation of a new address.

The URL carries an itsdangerous-signed id of an ``iptel_links`` row. A link works once, until it
expires (a reset after IDP_IPTEL_RESET_LINK_MINUTES, a new address after IDP_EMAIL_LINK_HOURS), and
only the newest link of each purpose works.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from connectors.iptel.models import IptelAccount, IptelLink
from idp.connectors.sdk import (
    db,
    external_url,
    utcnow,
)

SALT = "idp.iptel-link"
RESET, EMAIL = "reset", "email"
ENDPOINTS = {RESET: "iptel.reset_password", EMAIL: "iptel.confirm_email"}


class LinkInvalid(Exception):
    """The link is unknown, expired, already used or replaced by a newer one."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def lifetime(purpose: str) -> timedelta:
    """How long a link of ``purpose`` works."""
    config = current_app.config
    if purpose == RESET:
        return timedelta(minutes=config["IDP_IPTEL_RESET_LINK_MINUTES"])
    return timedelta(hours=config["IDP_EMAIL_LINK_HOURS"])


def issue(account: IptelAccount, purpose: str, email: str) -> str:
    """Store a new link sent to ``email`` and return its absolute URL; older unused ones die."""
    db.session.execute(db.update(IptelLink).where(
        IptelLink.account_id == account.id, IptelLink.purpose == purpose,
        IptelLink.used_at.is_(None)).values(used_at=utcnow()))
    link = IptelLink(id=secrets.token_urlsafe(32), account_id=account.id, purpose=purpose,
                     email=email)
    db.session.add(link)
    db.session.commit()
    return external_url(ENDPOINTS[purpose], token=_serializer().dumps({"id": link.id, "p": purpose}))


def sent_since(account: IptelAccount, purpose: str, window: timedelta) -> int:
    """How many links of ``purpose`` the account was sent within ``window``."""
    return db.session.scalar(db.select(db.func.count(IptelLink.id)).where(
        IptelLink.account_id == account.id, IptelLink.purpose == purpose,
        IptelLink.created_at > utcnow() - window))


def pending_email(account: IptelAccount) -> str | None:
    """The new address waiting for its confirmation link to be followed, or None."""
    newest = db.session.scalar(db.select(IptelLink).where(
        IptelLink.account_id == account.id, IptelLink.purpose == EMAIL,
        IptelLink.used_at.is_(None), IptelLink.created_at > utcnow() - lifetime(EMAIL))
        .order_by(IptelLink.created_at.desc()).limit(1))
    return newest.email if newest else None


def peek(token: str, purpose: str) -> IptelLink:
    """The unused, unexpired link behind ``token``; raise LinkInvalid otherwise."""
    try:
        payload = _serializer().loads(token, max_age=lifetime(purpose).total_seconds())
    except BadSignature as exc:  # SignatureExpired is a BadSignature
        raise LinkInvalid() from exc
    if not isinstance(payload, dict) or payload.get("p") != purpose:
        raise LinkInvalid()
    link = db.session.get(IptelLink, payload.get("id"))
    if link is None or link.used_at is not None or link.purpose != purpose:
        raise LinkInvalid()
    return link


def redeem(token: str, purpose: str) -> IptelLink:
    """Mark the link behind ``token`` used and return it; of two simultaneous uses one wins."""
    link = peek(token, purpose)
    used = db.session.execute(db.update(IptelLink).where(
        IptelLink.id == link.id, IptelLink.used_at.is_(None)).values(used_at=utcnow()))
    if used.rowcount != 1:
        db.session.rollback()
        raise LinkInvalid()
    db.session.refresh(link)
    return link
