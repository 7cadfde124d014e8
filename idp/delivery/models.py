"""Every SMS and e-mail is stored here before it is sent; bodies are encrypted at rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.timeutil import utcnow

QUEUED, SENT, DELIVERED, FAILED = "queued", "sent", "delivered", "failed"


class Message(db.Model):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # "sms" or "email"
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
