"""Sign-in throttling state, kept per identifier so unknown identifiers behave the same."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db


class SignInThrottle(db.Model):
    __tablename__ = "signin_throttles"

    # HMAC of the normalised phone or e-mail: the table never holds the identifier itself.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None]
