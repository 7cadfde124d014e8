"""One delivery service for every SMS and e-mail: render in the user's language, store, send."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import func

from idp.delivery.kinds import KINDS
from idp.delivery.models import DELIVERED, QUEUED, Message
from idp.delivery.transports import is_inline
from idp.extensions import db
from idp.security.crypto import decrypt, encrypt
from idp.security.emails import normalise_email
from idp.security.phones import read_phone
from idp.timeutil import utcnow

log = logging.getLogger("idp.delivery")


def send(
    kind: str,
    to: str,
    locale: str,
    profile_id: int | None = None,
    expires_at: datetime | None = None,
    **context: Any,
) -> Message:
    """Render message ``kind`` for ``to`` in ``locale`` and store it, encrypted, for delivery.

    The message is committed before any transport sees it, so nothing is lost when a transport
    is down. The development outbox delivers at once; real transports are served by the worker
    (``idp worker``). ``expires_at`` is when delivery stops making sense (an SMS code's expiry);
    other messages are given up after ``IDP_DELIVERY_GIVE_UP_MINUTES``.
    """
    spec = KINDS[kind]
    config = current_app.config
    context.setdefault("product", config["IDP_PRODUCT_NAME"])
    context.setdefault("operator", config["IDP_OPERATOR_NAME"])
    with force_locale(locale):
        text = render_template(f"messages/{kind}.txt", **context).strip()
        html = render_template(f"messages/{kind}.html", **context) if spec.channel == "email" else None
        subject = str(spec.subject) if spec.subject else None
    now = utcnow()
    inline = is_inline(spec.channel, config)
    message = Message(
        channel=spec.channel,
        kind=kind,
        locale=locale,
        recipient=normalise_email(to) if spec.channel == "email" else to,
        profile_id=profile_id,
        subject=subject,
        body_encrypted=encrypt(text),
        html_encrypted=encrypt(html) if html else None,
        state=DELIVERED if inline else QUEUED,
        transport="outbox" if inline else None,
        sent_at=now if inline else None,
        next_attempt_at=now,
        expires_at=expires_at or now + timedelta(minutes=config["IDP_DELIVERY_GIVE_UP_MINUTES"]),
    )
    db.session.add(message)
    db.session.commit()
    log.info(
        "message %s (%s, %s) stored for %s",
        message.id,
        kind,
        spec.channel,
        "the outbox" if inline else "the worker",
    )
    return message


def message_state(message_id: int | None) -> str | None:
    """Return the delivery state of a stored message (None when there is none)."""
    message = db.session.get(Message, message_id) if message_id else None
    return message.state if message else None


@dataclass(frozen=True)
class OutboxEntry:
    """A decrypted view of a stored message, for developers and operators."""

    id: int
    channel: str
    kind: str
    recipient: str
    locale: str
    subject: str | None
    text: str
    html: str | None
    state: str
    attempts: int
    last_error: str | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["created_at"] = self.created_at.isoformat() + "Z"
        return data


def _recipient_forms(text: str) -> list[str]:
    """How messages to ``text`` are stored: an address in its one form (any case finds it, and
    older rows kept in mixed case too), a number in E.164 however it was typed."""
    text = text.strip()
    if "@" in text:
        return [normalise_email(text)]
    return list(dict.fromkeys([text.lower(), *filter(None, [read_phone(text)])]))


def outbox(limit: int = 50, recipient: str | None = None) -> list[OutboxEntry]:
    """Return the newest stored messages, decrypted, newest first."""
    query = (
        db.select(Message)
        .where(Message.channel.in_(("sms", "email")))
        .order_by(Message.id.desc())
        .limit(limit)
    )
    if recipient:
        query = query.where(func.lower(Message.recipient).in_(_recipient_forms(recipient)))
    return [
        OutboxEntry(
            id=m.id,
            channel=m.channel,
            kind=m.kind,
            recipient=m.recipient,
            locale=m.locale,
            subject=m.subject,
            text=decrypt(m.body_encrypted),
            html=decrypt(m.html_encrypted) if m.html_encrypted else None,
            state=m.state,
            attempts=m.attempts,
            last_error=m.last_error,
            created_at=m.created_at,
        )
        for m in db.session.scalars(query)
    ]
