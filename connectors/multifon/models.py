"""The built-in provisioning store's tables: MultiFon accounts, their daily call counts, reminders."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.connectors.sdk import (
    db,
    utcnow,
)


class MultifonAccount(db.Model):
    """A MultiFon Business SIP account; its SIP password is sealed to the number, never plaintext."""

    __tablename__ = "multifon_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # E.164, the SIP login
    sip_password_sealed: Mapped[str] = mapped_column(String(400))
    # Money in minor units (kopecks): exact on every database, SQLite has no decimal type.
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    status: Mapped[str] = mapped_column(String(16), default="active")
    tariff_option: Mapped[str | None] = mapped_column(String(100))
    caller_id: Mapped[str | None] = mapped_column(String(16))
    routing: Mapped[str] = mapped_column(String(8), default="SIP")
    trunk_lines: Mapped[int] = mapped_column(default=2)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MultifonCallDay(db.Model):
    """How many calls an account made on one day (the cabinet's statistics)."""

    __tablename__ = "multifon_call_days"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("multifon_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    calls: Mapped[int] = mapped_column(default=0)


class MultifonReminder(db.Model):
    """One SMS with the SIP password sent on request; counted against the daily limit."""

    __tablename__ = "multifon_reminders"
    __table_args__ = (Index("ix_multifon_reminders_number_sent_at", "number", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16))
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
