"""The delivery worker: hands queued messages to their transport, retries, records every outcome.

Any number of workers may run (``idp worker`` on several machines, or a thread per app process).
A worker claims a message with one conditional UPDATE (``queued`` → ``sending``), so exactly one
worker ever sends it, on SQLite and PostgreSQL alike. A temporary failure puts the message back in
the queue with a growing delay; a message not handed over before it expires is given up with the
reason recorded. A message found ``sending`` long after its claim was being sent when its worker
died: whether it left is unknown, so it is marked failed rather than sent a second time.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from idp.delivery.models import DELIVERED, FAILED, FINAL_STATES, QUEUED, SENDING, SENT, Message, MessagePart
from idp.delivery.transports import Transport, TransportError, transport_for
from idp.extensions import db
from idp.security.crypto import decrypt
from idp.timeutil import backoff, doubled, utcnow

log = logging.getLogger("idp.delivery.worker")

STALE_CLAIM = timedelta(minutes=5)


def retry_delay(attempts: int, longest: float) -> float:
    """Seconds to wait before the next try after ``attempts`` failed ones: 2, 4, 8 … ``longest``."""
    return backoff(attempts, longest)


class Worker:
    """Deliver due messages; see the module docstring."""

    def __init__(self, app: Flask, name: str | None = None, batch: int = 20, idle_seconds: float = 0.5):
        self.app = app
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.transports: dict[str, Transport] = {}

    def transport(self, channel: str) -> Transport:
        if channel not in self.transports:
            self.transports[channel] = transport_for(channel, self.app.config)
        return self.transports[channel]

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; a database outage pauses the work, it never ends it."""
        log.info("delivery worker %s started", self.name)
        pause = self.idle_seconds
        with self.app.app_context():
            try:
                while not stop.is_set():
                    try:
                        tried = self.run_once()
                        pause = self.idle_seconds
                    except SQLAlchemyError as exc:
                        db.session.rollback()
                        pause = doubled(pause, longest=30.0, least=1.0)
                        log.warning(
                            "delivery worker %s: database unavailable (%s); retrying in %.0f s",
                            self.name,
                            exc.__class__.__name__,
                            pause,
                        )
                        tried = 0
                    if not tried:
                        stop.wait(pause)
            finally:
                self.close()
        log.info("delivery worker %s stopped", self.name)

    def run_once(self, channels: tuple[str, ...] | None = None) -> int:
        """Deliver the messages due now (of ``channels``, default all) and read receipts; return
        how many were tried."""
        self._fail_interrupted()
        now = utcnow()
        query = db.select(Message.id).where(Message.state == QUEUED, Message.next_attempt_at <= now)
        if channels is not None:
            query = query.where(Message.channel.in_(channels))
        due = list(db.session.scalars(query.order_by(Message.id).limit(self.batch)))
        db.session.commit()
        tried = 0
        for message_id in due:
            if self._claim(message_id):
                self._deliver(db.session.get(Message, message_id))
                tried += 1
        self.poll()
        return tried

    def poll(self) -> None:
        """Let connection-holding transports read what arrived (SMPP receipts)."""
        for transport in self.transports.values():
            transport.poll(self._on_receipt)

    def close(self) -> None:
        for transport in self.transports.values():
            transport.close()
        self.transports.clear()

    def _claim(self, message_id: int) -> bool:
        claimed = db.session.execute(
            db.update(Message)
            .where(Message.id == message_id, Message.state == QUEUED)
            .values(state=SENDING, claimed_by=self.name, claimed_at=utcnow())
        ).rowcount
        db.session.commit()
        return claimed == 1

    def _deliver(self, message: Message) -> None:
        now = utcnow()
        if message.expires_at and now > message.expires_at:
            reason = f"gave up after {message.attempts} attempts: {message.last_error or 'no try'}"
            self._finish(message, FAILED, reason[:500])
            return
        transport = self.transport(message.channel)
        message.transport = transport.name
        message.attempts += 1
        # Counted before the try: a job's failure rolls back what its handler did, not the count.
        db.session.commit()
        try:
            html = decrypt(message.html_encrypted) if message.html_encrypted else None
            external_ids = transport.deliver(message, decrypt(message.body_encrypted), html)
        except TransportError as exc:
            self._failed_try(message, exc)
            return
        message.sent_at = utcnow()
        message.external_id = external_ids[0] if external_ids else None
        for smsc_id in external_ids if message.channel == "sms" else []:
            db.session.add(MessagePart(message_id=message.id, smsc_id=smsc_id, state=SENT))
        self._finish(message, DELIVERED if transport.inline else SENT, None)
        log.info("message %s (%s) handed to %s", message.id, message.kind, transport.name)

    def _failed_try(self, message: Message, error: TransportError) -> None:
        message.last_error = str(error)[:500]
        if not error.temporary:
            self._finish(message, FAILED, message.last_error)
            log.warning("message %s (%s) refused for good: %s", message.id, message.kind, error)
            return
        longest = self.app.config["IDP_DELIVERY_MAX_RETRY_SECONDS"]
        delay = min(max(retry_delay(message.attempts, longest), error.retry_after), longest)
        message.next_attempt_at = utcnow() + timedelta(seconds=delay)
        self._finish(message, QUEUED, message.last_error)
        log.warning(
            "message %s (%s) not sent (try %s): %s; next try in %.0f s",
            message.id,
            message.kind,
            message.attempts,
            error,
            delay,
        )

    @staticmethod
    def _finish(message: Message, state: str, error: str | None) -> None:
        message.state = state
        message.last_error = error
        message.claimed_by = message.claimed_at = None
        db.session.commit()

    def _on_receipt(self, smsc_id: str, state: str) -> None:
        """Record a delivery receipt on the part it names and on its message."""
        part = db.session.scalar(
            db.select(MessagePart).where(MessagePart.smsc_id == smsc_id).order_by(MessagePart.id.desc())
        )
        if part is None:
            log.info("receipt for unknown SMSC id %s (%s)", smsc_id, state)
            return
        part.state = state
        message = db.session.get(Message, part.message_id)
        states = [
            p.state
            for p in db.session.scalars(db.select(MessagePart).where(MessagePart.message_id == message.id))
        ]
        failed = [s for s in states if s in FINAL_STATES and s != DELIVERED]
        if failed:
            message.state = failed[0]
        elif all(s == DELIVERED for s in states):
            message.state = DELIVERED
        db.session.commit()
        log.info("message %s receipt: %s", message.id, message.state)

    def _fail_interrupted(self) -> None:
        stale = utcnow() - STALE_CLAIM
        db.session.execute(
            db.update(Message)
            .where(Message.state == SENDING, Message.claimed_at < stale)
            .values(
                state=FAILED,
                claimed_by=None,
                claimed_at=None,
                last_error="the worker stopped while sending; not retried, so it is never sent twice",
            )
        )
        db.session.commit()


def start_background_worker(app: Flask) -> threading.Event:
    """Run a worker in a daemon thread of this process; set the returned event to stop it."""
    stop = threading.Event()
    worker = Worker(app)
    threading.Thread(target=worker.run, args=(stop,), name="idp-delivery-worker", daemon=True).start()
    return stop
