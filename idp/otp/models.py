"""SMS code challenges: one per flow, with its hashed code, tries and sends counted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.timeutil import utcnow


class SmsChallenge(db.Model):
    __tablename__ = "sms_challenges"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    # None when no code was sent (e.g. the number is already registered): nothing can match.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    sends: Mapped[int] = mapped_column(default=1)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    sends_code: Mapped[bool] = mapped_column(default=True)
    notice_kind: Mapped[str | None] = mapped_column(String(48))
    message_id: Mapped[int | None]
    verified_at: Mapped[datetime | None]
    # Which SMS budgets its sends draw on (idp.otp.budgets): "stranger" or "proven".
    budget: Mapped[str] = mapped_column(String(8), default="stranger")
    # The challenge that replaced this one once its code was spent (idp.otp.services.renew).
    renewed_by: Mapped[str | None] = mapped_column(String(43))
