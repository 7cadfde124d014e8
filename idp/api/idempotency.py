"""``Idempotency-Key`` on POST: a request retried with the same key does its work once.

The key is claimed by inserting its row before the work (the primary key lets one of two parallel
requests in); the answer is stored with it. The same key again with the same request gets the
stored answer (``Idempotent-Replayed: true``); with a different request, a 422; while the first is
still running, a 409. A refused request keeps nothing, so it may be retried with its key. Keys are
kept for ``KEEP_HOURS``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from flask import Response, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from idp.api.models import IdempotentRequest
from idp.api.problems import Problem
from idp.extensions import db
from idp.timeutil import utcnow

KEEP_HOURS = 24
MAX_KEY = 255


def _request_hash() -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.get_data(cache=True)):
        digest.update(part + b"\x00")
    return digest.hexdigest()


def _key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise Problem(400, _("Idempotency-Key must be 1 to 255 printable characters."))
    return key


def once(client_id: str, work: Callable[[], Response]) -> Response:
    """Run ``work`` once per idempotency key of this client (or every time, without a key)."""
    key = _key()
    if key is None:
        return work()
    fingerprint = _request_hash()
    _forget_old()
    db.session.add(IdempotentRequest(client_id=client_id, key=key, request_hash=fingerprint))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _replay(client_id, key, fingerprint)
    try:
        response = work()
    except BaseException:
        db.session.rollback()
        _release(client_id, key)
        raise
    if response.status_code >= 400:
        _release(client_id, key)
        return response
    row = db.session.get(IdempotentRequest, (client_id, key))
    if row is not None:
        row.status = response.status_code
        row.body = response.get_data(as_text=True)
        row.location = response.headers.get("Location")
        db.session.commit()
    return response


def _replay(client_id: str, key: str, fingerprint: str) -> Response:
    row = db.session.get(IdempotentRequest, (client_id, key))
    if row is None:  # released between our insert and this read: the work may be tried again
        raise Problem(409, _("A request with this Idempotency-Key is being processed. Try again."))
    if row.request_hash != fingerprint:
        raise Problem(422, _("This Idempotency-Key was used for a different request."))
    if row.status is None:
        raise Problem(409, _("A request with this Idempotency-Key is being processed. Try again."))
    response = Response(row.body, row.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    if row.location:
        response.headers["Location"] = row.location
    return response


def _release(client_id: str, key: str) -> None:
    db.session.execute(
        db.delete(IdempotentRequest).where(
            IdempotentRequest.client_id == client_id, IdempotentRequest.key == key
        )
    )
    db.session.commit()


def _forget_old() -> None:
    cutoff = utcnow() - timedelta(hours=KEEP_HOURS)
    db.session.execute(db.delete(IdempotentRequest).where(IdempotentRequest.created_at < cutoff))
