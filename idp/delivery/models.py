"""Every SMS and e-mail is stored here before it is sent; bodies are encrypted at rest.

A message moves ``queued`` → ``sending`` (claimed by one worker) → ``sent`` (the SMSC or the SMTP
relay accepted it) → ``delivered``, or ends ``undeliverable``, ``expired`` or ``rejected`` by the
SMSC's receipt, or ``failed`` when it could not be handed over in time (``last_error`` says why).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.timeutil import utcnow

QUEUED, SENDING, SENT, DELIVERED = "queued", "sending", "sent", "delivered"
UNDELIVERABLE, EXPIRED, REJECTED, FAILED = "undeliverable", "expired", "rejected", "failed"
FINAL_STATES = (DELIVERED, UNDELIVERABLE, EXPIRED, REJECTED, FAILED)
NOT_DELIVERED = (UNDELIVERABLE, EXPIRED, REJECTED, FAILED)


class Message(db.Model):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # "sms", "email", "http" (logout) or "job"
    kind: Mapped[str] = mapped_column(String(48))
    locale: Mapped[str] = mapped_column(String(5))
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    subject: Mapped[str | None] = mapped_column(String(200))
    body_encrypted: Mapped[str] = mapped_column(Text)
    html_encrypted: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    transport: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MessagePart(db.Model):
    """One submit_sm of an SMS (long texts are split), with the state its receipt reported."""

    __tablename__ = "message_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    smsc_id: Mapped[str] = mapped_column(String(65), index=True)
    state: Mapped[str] = mapped_column(String(16), default=SENT)
