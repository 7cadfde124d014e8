"""Run the real delivery worker from a test, in the test's thread or in background threads."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from idp.delivery.models import Message
from idp.delivery.worker import Worker
from idp.extensions import db


def message_states(app) -> dict[int, str]:
    with app.app_context():
        db.session.expire_all()
        return {m.id: m.state for m in db.session.scalars(db.select(Message))}


def work_until(
    app, predicate, timeout: float = 15, worker: Worker | None = None, keep: bool = False
) -> Worker:
    """Run one worker's loop in this thread until ``predicate(states)`` holds.

    The worker is closed afterwards unless ``keep`` is set (to go on with its connection).
    """
    worker = worker or Worker(app, name="test-worker", idle_seconds=0.05)
    deadline = time.monotonic() + timeout
    try:
        with app.app_context():
            while True:
                worker.run_once()
                db.session.expire_all()
                if predicate(message_states(app)):
                    return worker
                if time.monotonic() > deadline:
                    raise AssertionError(f"delivery did not settle: {message_states(app)}")
                time.sleep(0.05)
    finally:
        if not keep:
            with app.app_context():
                worker.close()


@contextmanager
def workers_running(app, count: int = 1):
    """Run ``count`` workers in background threads for the duration of the block."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=Worker(app, name=f"w{i}", idle_seconds=0.05).run, args=(stop,), daemon=True)
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
