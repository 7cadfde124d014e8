"""Backend reads: a slow or failing backend becomes ``BackendUnavailable``, and a read its page
gave up waiting for is still tracked until it ends, so its app can wait for it before its engine
goes (a read that opened a connection after that would leak it)."""

from __future__ import annotations

import threading

import pytest

from idp.connectors.cabinet import BackendUnavailable, finish_backend_reads, read_backend
from idp.extensions import db


@pytest.mark.idp_settings(IDP_CONNECTOR_TIMEOUT_SECONDS=1)
def test_a_read_past_the_time_limit_is_waited_for_by_its_app(app):
    release, finished = threading.Event(), threading.Event()

    def slow_read():
        release.wait(10)
        db.session.execute(db.text("SELECT 1"))  # a connection opened after the page gave up
        db.session.remove()
        finished.set()
        return "late"

    with app.test_request_context(), pytest.raises(BackendUnavailable):
        read_backend(slow_read, "slow")
    assert finish_backend_reads(app, timeout=0.05) == 1  # still running, and known to its app
    release.set()
    assert finish_backend_reads(app) == 0
    assert finished.is_set()


def test_a_failing_read_is_unavailable_and_leaves_nothing_running(app):
    def failing_read():
        raise ConnectionError("backend down")

    with app.test_request_context(), pytest.raises(BackendUnavailable):
        read_backend(failing_read, "failing")
    assert finish_backend_reads(app, timeout=5) == 0


def test_a_read_in_time_gives_its_answer(app):
    with app.test_request_context():
        assert read_backend(lambda: 42, "quick") == 42
