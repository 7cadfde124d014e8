"""Signing keys: the private half encrypted at rest, the public half published in the JWKS."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.timeutil import utcnow

# A key is published as NEXT before it signs anything, signs while CURRENT, and stays published
# as RETIRED until the tokens it signed have expired.
NEXT, CURRENT, RETIRED = "next", "current", "retired"


class SigningKey(db.Model):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)  # the JWK thumbprint
    alg: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8), index=True)
    private_pem_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    unpublish_at: Mapped[datetime | None]
