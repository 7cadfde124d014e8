"""Work a page hands to the delivery worker instead of doing it while the person waits.

A page whose answer must not depend on what it finds (a "Forgot password?" that must look the same,
and take as long, for a number nobody has) stores one job, whatever it was given, and answers at
once; the worker runs the job's handler later, with the retries of every queued message. A job is
a message on the ``job`` channel: its payload is encrypted at rest like every message body.

Handlers are registered by kind (``register_job``) by the core or a connector at start-up; they run
in an app context and may send messages of their own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app

from idp.delivery.models import QUEUED, Message
from idp.delivery.transports import ReceiptHandler, TransportError
from idp.extensions import db
from idp.security.crypto import encrypt
from idp.timeutil import utcnow

log = logging.getLogger("idp.delivery.jobs")

CHANNEL = "job"
Handler = Callable[[dict[str, Any]], None]
_HANDLERS: dict[str, Handler] = {}


def register_job(kind: str, handler: Handler) -> None:
    """Let the worker run ``handler(payload)`` for jobs of ``kind``."""
    existing = _HANDLERS.get(kind)
    if existing is not None and existing is not handler:
        raise ValueError(f"job kind {kind!r} is already registered")
    _HANDLERS[kind] = handler


def enqueue(kind: str, payload: dict[str, Any], commit: bool = True) -> Message:
    """Store a job for the worker and commit it (``commit=False``: add it to the caller's
    transaction, so the job exists exactly when the change it follows is committed)."""
    if kind not in _HANDLERS:
        raise KeyError(f"unknown job kind {kind!r}")
    now = utcnow()
    give_up = timedelta(minutes=current_app.config["IDP_DELIVERY_GIVE_UP_MINUTES"])
    job = Message(
        channel=CHANNEL,
        kind=kind,
        locale="",
        recipient="-",
        body_encrypted=encrypt(json.dumps(payload)),
        state=QUEUED,
        next_attempt_at=now,
        expires_at=now + give_up,
    )
    db.session.add(job)
    if commit:
        db.session.commit()
    return job


class JobTransport:
    """Runs a job's handler; a failure is retried like any message that could not be sent."""

    name = "job"
    inline = False

    def deliver(self, message: Message, text: str, html: str | None) -> list[str]:
        handler = _HANDLERS.get(message.kind)
        if handler is None:
            raise TransportError(f"no handler for job {message.kind}", temporary=False)
        try:
            handler(json.loads(text))
        except Exception as exc:  # noqa: BLE001  (any failure of a job is retried, then given up)
            db.session.rollback()
            log.warning("job %s (%s) failed: %s", message.id, message.kind, type(exc).__name__)
            raise TransportError(f"job failed: {type(exc).__name__}") from exc
        return []

    def poll(self, on_receipt: ReceiptHandler) -> None:
        """Nothing arrives later."""

    def close(self) -> None:
        """Nothing to release."""
