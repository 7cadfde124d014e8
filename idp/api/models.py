"""What the provisioning API keeps: the answers to requests sent with an ``Idempotency-Key``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.timeutil import utcnow


class IdempotentRequest(db.Model):
    """A POST a client sent with an ``Idempotency-Key``, and the answer it got.

    The row is inserted before the work is done (the key is the primary key, so of two parallel
    requests with one key only one inserts it); ``status`` stays None until the answer is known.
    A retry with the same key and the same request gets the stored answer again; with another
    request, a 422.
    """

    __tablename__ = "api_idempotent_requests"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    status: Mapped[int | None]
    body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
