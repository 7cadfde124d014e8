"""One delivery service for every SMS and e-mail: render in the user's language, store, send."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale

from idp.delivery.kinds import KINDS
from idp.delivery.models import DELIVERED, FAILED, QUEUED, Message
from idp.delivery.transports import TransportError, transport_for
from idp.extensions import db
from idp.security.crypto import decrypt, encrypt
from idp.timeutil import utcnow

log = logging.getLogger("idp.delivery")


def send(kind: str, to: str, locale: str, profile_id: int | None = None,
         **context: Any) -> Message:
    """Render message ``kind`` for ``to`` in ``locale``, store it encrypted, then dispatch it.

    The message is committed before any transport sees it, so a failing transport loses nothing.
    """
    spec = KINDS[kind]
    context.setdefault("product", current_app.config["IDP_PRODUCT_NAME"])
    context.setdefault("operator", current_app.config["IDP_OPERATOR_NAME"])
    with force_locale(locale):
        text = render_template(f"messages/{kind}.txt", **context).strip()
        html = render_template(f"messages/{kind}.html", **context) if spec.channel == "email" else None
        subject = str(spec.subject) if spec.subject else None
    message = Message(channel=spec.channel, kind=kind, locale=locale, recipient=to,
                      profile_id=profile_id, subject=subject, body_encrypted=encrypt(text),
                      html_encrypted=encrypt(html) if html else None, state=QUEUED)
    db.session.add(message)
    db.session.commit()
    dispatch(message)
    return message


def dispatch(message: Message) -> None:
    """Hand a queued message to its transport and record the outcome (never its body)."""
    transport = transport_for(message.channel, current_app.config)
    message.attempts += 1
    message.transport = transport.name
    try:
        html = decrypt(message.html_encrypted) if message.html_encrypted else None
        transport.deliver(message, decrypt(message.body_encrypted), html)
    except TransportError as exc:
        message.last_error = str(exc)[:500]
        if not exc.temporary:
            message.state = FAILED
        log.warning("message %s (%s) not delivered: %s", message.id, message.kind, exc)
    else:
        message.state = DELIVERED if transport.name == "outbox" else message.state
        message.sent_at = utcnow()
        log.info("message %s (%s) handed to %s", message.id, message.kind, transport.name)
    db.session.commit()


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
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        data = self.__dict__.copy()
        data["created_at"] = self.created_at.isoformat() + "Z"
        return data


def outbox(limit: int = 50, recipient: str | None = None) -> list[OutboxEntry]:
    """Return the newest stored messages, decrypted, newest first."""
    query = db.select(Message).order_by(Message.id.desc()).limit(limit)
    if recipient:
        query = query.where(Message.recipient == recipient)
    return [
        OutboxEntry(id=m.id, channel=m.channel, kind=m.kind, recipient=m.recipient, locale=m.locale,
                    subject=m.subject, text=decrypt(m.body_encrypted),
                    html=decrypt(m.html_encrypted) if m.html_encrypted else None, state=m.state,
                    created_at=m.created_at)
        for m in db.session.scalars(query)
    ]
