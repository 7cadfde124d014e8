"""The delivery worker: exactly once with several workers, retries, give-up, crash safety."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy
import time_machine

from idp.delivery.models import Message
from idp.delivery.services import send
from idp.delivery.worker import Worker
from idp.extensions import db
from idp.timeutil import utcnow
from tests.conftest import PG_APPLICATION, PG_URL, _sqlalchemy_url, dispose
from tests.delivery.worker_helpers import message_states, workers_running
from tests.peers.fixtures import wait_until


def test_two_workers_deliver_each_message_exactly_once(smtp_server, app):
    addresses = [f"user{i}@example.com" for i in range(40)]
    with app.app_context():
        for address in addresses:
            send("email_test", address, "en")
    with workers_running(app, count=2):
        wait_until(lambda: set(message_states(app).values()) == {"sent"}, timeout=60)
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(addresses)
    with app.app_context():
        workers = {m.claimed_by for m in db.session.scalars(db.select(Message))}
    assert workers == {None}  # every claim was released after the send


def test_a_message_not_handed_over_in_time_is_given_up_with_its_reason(smtp_server, app):
    smtp_server.stop()
    with app.app_context():
        message_id = send("email_test", "late@example.com", "en").id
        worker = Worker(app)
        worker.run_once()
        with time_machine.travel(utcnow() + timedelta(minutes=61), tick=False):
            worker.run_once()
        worker.close()
        message = db.session.get(Message, message_id)
        assert message.state == "failed"
        assert message.last_error.startswith("gave up after 1 attempts")
        assert "SMTP relay unavailable" in message.last_error


def test_a_message_left_sending_by_a_dead_worker_is_never_sent_twice(smtp_server, app):
    with app.app_context():
        message = send("email_test", "once@example.com", "en")
        message.state, message.claimed_by = "sending", "dead-worker"
        message.claimed_at = utcnow() - timedelta(minutes=6)
        db.session.commit()
        Worker(app).run_once()
        db.session.refresh(message)
        assert message.state == "failed"
        assert "never sent twice" in message.last_error
    assert smtp_server.messages == []


def test_sms_code_gives_up_when_the_code_expires(smsc, app, client):
    smsc.stop()
    from tests.helpers.pages import submit

    submit(client, "/register", {"phone": "+380671234567"})
    with app.app_context():
        worker = Worker(app)
        worker.run_once()
        with time_machine.travel(utcnow() + timedelta(minutes=5, seconds=5), tick=False):
            worker.run_once()
        worker.close()
    assert list(message_states(app).values()) == ["failed"]


@pytest.fixture
def quick_retries(smsc, settings):
    """Tries a second apart, the shortest the settings allow (name it before ``app``)."""
    settings["IDP_DELIVERY_MAX_RETRY_SECONDS"] = 1


def test_smsc_down_through_many_tries_then_every_message_arrives(smsc, quick_retries, app):
    smsc.stop()
    numbers = [f"+38050123{i + 1:04d}" for i in range(3)]
    with app.app_context():
        for number in numbers:
            send("sms_test", number, "en")
    with workers_running(app):
        # The SMSC stays down through five tries of each message (a second apart, the shortest
        # retry the settings allow: a few seconds in all), and nothing is given up meanwhile.
        wait_until(lambda: min(_attempts(app)) >= 5, timeout=30, step=0.2)
        # Waiting for its next try, or in one (the worker counts a try before making it).
        assert set(message_states(app).values()) <= {"queued", "sending"}
        smsc.start()
        wait_until(lambda: set(message_states(app).values()) == {"delivered"}, timeout=30)
    assert sorted("+" + p["destination_addr"] for p in smsc.received()) == sorted(numbers)


def _attempts(app) -> list[int]:
    with app.app_context():
        return [m.attempts for m in db.session.scalars(db.select(Message))]


def test_worker_command_once(smtp_server, app):
    with app.app_context():
        send("email_test", "cli@example.com", "en")
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "tried 1 messages" in result.output
    assert len(smtp_server.to("cli@example.com")) == 1


def test_the_worker_can_run_inside_the_app_process(smtp_server, settings, backend, tmp_path):
    from idp import create_app

    settings["IDP_WORKER_IN_PROCESS"] = True
    before = set(threading.enumerate())
    app = create_app(settings)
    (thread,) = [t for t in threading.enumerate() if t not in before and t.name == "idp-delivery-worker"]
    try:
        with app.app_context():
            db.create_all()
            send("email_test", "inprocess@example.com", "en")
        wait_until(lambda: smtp_server.to("inprocess@example.com"), timeout=15)
    finally:
        app.extensions["idp_worker_stop"].set()
        thread.join(10)  # it may be half-way through a round, holding a connection
        with app.app_context():
            dispose(db.engine)


def test_the_worker_rides_out_a_database_restart(smtp_server, app, backend):
    if backend != "postgresql":
        pytest.skip("server connections can only be cut on PostgreSQL")
    kill = sqlalchemy.text(
        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = :name AND pid <> pg_backend_pid()"
    )
    alive = sqlalchemy.text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
    with app.app_context():
        send("email_test", "before@example.com", "en")
    with workers_running(app):
        wait_until(lambda: smtp_server.to("before@example.com"))
        engine = sqlalchemy.create_engine(_sqlalchemy_url(PG_URL))
        try:
            with engine.begin() as conn:
                killed = [pid for pid, ended in conn.execute(kill, {"name": PG_APPLICATION}) if ended]
            assert killed  # every connection of the app and its worker died at once

            def gone() -> bool:  # a termination is only signalled: the backends end a moment later
                with engine.connect() as conn:  # a transaction of its own: a fresh view of the activity
                    return conn.execute(alive, {"pids": killed}).scalar_one() == 0

            wait_until(gone, timeout=10, step=0.05)
        finally:
            engine.dispose()
        with app.app_context():
            send("email_test", "after@example.com", "en")
        wait_until(lambda: smtp_server.to("after@example.com"), timeout=30)
    assert len(smtp_server.messages) == 2
