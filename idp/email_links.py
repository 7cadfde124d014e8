"""Single-use e-mail links: a signed token names a row; it works once, until it expires, and only
the newest link of one holder and purpose works.

One ``SingleUseLinks`` per kind of holder (a profile's address confirmations, an IP-telephony
account's resets and new addresses), each with its table, its salt, its pages and its lifetimes.
The table has the columns of ``email_links``: ``id``, the holder's id column, ``purpose``,
``email``, ``created_at`` and ``used_at``. Redeeming is one conditional UPDATE, so of two
simultaneous uses of one link exactly one wins.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from idp.extensions import db
from idp.links import external_url
from idp.timeutil import utcnow


class LinkInvalid(Exception):
    """The link is unknown, altered, expired, already used or replaced by a newer one."""


class SingleUseLinks:
    """The links of one kind of holder (see the module docstring)."""

    def __init__(
        self,
        model: type[db.Model],
        holder: str,
        salt: str,
        endpoints: Mapping[str, str],
        lifetime: Callable[[str], timedelta],
    ):
        """``holder`` is the model's column naming the holder; ``endpoints`` the page of each
        purpose (it takes ``token``); ``lifetime(purpose)`` how long a link works."""
        self.model, self.holder, self.salt = model, getattr(model, holder), salt
        self.holder_name, self.endpoints, self.lifetime = holder, endpoints, lifetime

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=self.salt)

    def issue(self, holder_id: int, purpose: str, email: str) -> str:
        """Store a new link sent to ``email`` and return its absolute URL; the holder's older
        unused links of ``purpose`` stop working."""
        model = self.model
        db.session.execute(
            db.update(model)
            .where(self.holder == holder_id, model.purpose == purpose, model.used_at.is_(None))
            .values(used_at=utcnow())
        )
        link = model(
            id=secrets.token_urlsafe(32), purpose=purpose, email=email, **{self.holder_name: holder_id}
        )
        db.session.add(link)
        db.session.commit()
        token = self._serializer().dumps({"id": link.id, "p": purpose})
        return external_url(self.endpoints[purpose], token=token)

    def peek(self, token: str, purposes: tuple[str, ...] | None = None) -> Any:
        """The unused, unexpired link behind ``token`` (of one of ``purposes``); raise
        LinkInvalid otherwise."""
        try:
            payload = self._serializer().loads(token)
        except BadSignature as exc:
            raise LinkInvalid() from exc
        purpose = payload.get("p") if isinstance(payload, dict) else None
        if purpose not in self.endpoints or (purposes is not None and purpose not in purposes):
            raise LinkInvalid()
        link = db.session.get(self.model, str(payload.get("id")))
        if (
            link is None
            or link.used_at is not None
            or link.purpose != purpose
            or utcnow() - link.created_at > self.lifetime(purpose)
        ):
            raise LinkInvalid()
        return link

    def redeem(self, token: str, purposes: tuple[str, ...] | None = None) -> Any:
        """Use the link behind ``token`` up and return it; raise LinkInvalid (also to the loser
        of two simultaneous uses)."""
        link = self.peek(token, purposes)
        used = db.session.execute(
            db.update(self.model)
            .where(self.model.id == link.id, self.model.used_at.is_(None))
            .values(used_at=utcnow())
        )
        if used.rowcount != 1:
            db.session.rollback()
            raise LinkInvalid()
        db.session.refresh(link)
        return link

    def sent_since(self, holder_id: int, purpose: str, window: timedelta) -> int:
        """How many links of ``purpose`` the holder was sent within ``window``."""
        return db.session.scalar(
            db.select(db.func.count(self.model.id)).where(
                self.holder == holder_id,
                self.model.purpose == purpose,
                self.model.created_at > utcnow() - window,
            )
        )

    def newest_unused(self, holder_id: int, purpose: str) -> Any | None:
        """The holder's newest link of ``purpose`` that still works, or None."""
        return db.session.scalar(
            db.select(self.model)
            .where(
                self.holder == holder_id,
                self.model.purpose == purpose,
                self.model.used_at.is_(None),
                self.model.created_at > utcnow() - self.lifetime(purpose),
            )
            .order_by(self.model.created_at.desc())
            .limit(1)
        )
