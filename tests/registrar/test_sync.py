"""The registrar kept in step with the accounts: rows written by the delivery worker's jobs, with
HA1s only, the call settings, registrations dropped, reconciliation and status, an outage."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy

from connectors.iptel import accounts as iptel
from connectors.iptel.forwarding import BUSY, NO_ANSWER, UNCONDITIONAL, set_forwarding
from connectors.multifon.store import ProvisioningStore, provision
from idp.delivery.models import Message
from idp.delivery.worker import Worker
from idp.extensions import db
from idp.registrar import database, sync
from idp.registrar.schema import subscriber
from idp.timeutil import utcnow

MULTIFON, IPTEL = "+79260250730", "+380442270001"
SIP_PASSWORD, NEW_PASSWORD = "SipPassw0rd", "Fresh5ipPass"
REALM = "business-id.test"


@pytest.fixture
def settings(settings, tmp_path):
    settings["IDP_REGISTRAR_DATABASE_URL"] = f"sqlite:///{tmp_path / 'registrar.sqlite3'}"
    return settings


def run_jobs(app) -> None:
    with app.app_context():
        Worker(app, name="test-registrar").run_once(channels=("job",))


def held(app, service: str, account: str) -> dict | None:
    with app.app_context():
        return database.row_of(service, account)


def md5(user: str, password: str, realm: str = REALM) -> str:
    return hashlib.md5(f"{user}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def jobs(app, kind: str) -> list[Message]:
    with app.app_context():
        return list(db.session.scalars(db.select(Message).where(Message.kind == kind)))


def test_a_provisioned_account_reaches_the_registrar_with_its_hashes_only(app):
    with app.app_context():
        provision(MULTIFON, SIP_PASSWORD, routing="SIP+GSM", trunk_lines=3)
    assert held(app, "multifon", MULTIFON) is None  # not before the worker ran the job
    run_jobs(app)
    row = held(app, "multifon", MULTIFON)
    assert row["username"] == "79260250730" and row["domain"] == REALM
    assert row["ha1"] == md5("79260250730", SIP_PASSWORD)
    assert row["ha1_sha256"] == hashlib.sha256(f"79260250730:{REALM}:{SIP_PASSWORD}".encode()).hexdigest()
    assert row["password"] == "" and row["ha1b"] == ""
    assert (row["routing"], row["trunk_lines"]) == ("SIP+GSM", 3)
    with app.app_context():
        raw = database.engine().raw_connection()
        try:
            dump = "\n".join(raw.driver_connection.iterdump())
        finally:
            raw.close()
    assert SIP_PASSWORD not in dump
    # Kamailio's db_sqlite has no busy timeout: it needs WAL.
    with app.app_context(), database.engine().connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_the_cabinets_changes_follow_and_a_disconnection_removes_the_row(app):
    with app.app_context():
        provision(MULTIFON, SIP_PASSWORD)
        store = ProvisioningStore()
        store.set_sip_password(MULTIFON, NEW_PASSWORD)
        store.set_routing(MULTIFON, "GSM")
        store.set_trunk_lines(MULTIFON, 7)
    run_jobs(app)
    row = held(app, "multifon", MULTIFON)
    assert row["ha1"] == md5("79260250730", NEW_PASSWORD)
    assert (row["routing"], row["trunk_lines"]) == ("GSM", 7)
    with app.app_context():
        store.disconnect(MULTIFON)
    run_jobs(app)
    assert held(app, "multifon", MULTIFON) is None


def test_ip_telephony_registers_only_once_active_and_carries_its_forwarding(app, outbox):
    with app.app_context():
        iptel.connect(IPTEL, "office@example.com", "en")
    run_jobs(app)
    assert held(app, "iptel", IPTEL) is None  # the e-mailed initial password does not register
    with app.app_context():
        account = iptel.find(IPTEL)
        iptel.set_password(account, NEW_PASSWORD, how="changed")
        set_forwarding(account, UNCONDITIONAL, enabled=True, number="+380501112233")
        set_forwarding(account, NO_ANSWER, enabled=True, number="+380501112244", delay_seconds=5)
        set_forwarding(account, BUSY, enabled=False, number="+380501112255")
    run_jobs(app)
    row = held(app, "iptel", IPTEL)
    assert row["ha1"] == md5("380442270001", NEW_PASSWORD)
    assert row["forward_all"] == "380501112233"
    assert (row["forward_no_answer"], row["no_answer_seconds"]) == ("380501112244", 5)
    assert row["forward_busy"] == "" and row["forward_unreachable"] == ""
    with app.app_context():
        iptel.disconnect(IPTEL)
    run_jobs(app)
    assert held(app, "iptel", IPTEL) is None


@pytest.mark.idp_settings(IDP_REGISTRAR_RPC="unix:/nonexistent/kamailio_rpc.sock")
def test_ended_credentials_queue_the_dropping_of_registrations_and_retry_it(app):
    with app.app_context():
        provision(MULTIFON, SIP_PASSWORD)
        ProvisioningStore().set_routing(MULTIFON, "GSM")
    run_jobs(app)
    assert jobs(app, sync.DROP_JOB) == []  # a new account and a routing change end nothing
    with app.app_context():
        ProvisioningStore().set_sip_password(MULTIFON, NEW_PASSWORD)
    run_jobs(app)  # the row, and a job to drop the old registrations
    run_jobs(app)
    [drop] = jobs(app, sync.DROP_JOB)
    assert drop.state == "queued" and drop.attempts == 1  # the control socket is away: retried
    assert "ControlError" in drop.last_error


def test_without_a_registrar_nothing_is_queued(app, settings):
    app.config["IDP_REGISTRAR_DATABASE_URL"] = ""
    with app.app_context():
        provision(MULTIFON, SIP_PASSWORD)
    assert jobs(app, sync.APPLY_JOB) == []


def test_a_registrar_outage_loses_nothing(app, tmp_path):
    app.config["IDP_REGISTRAR_DATABASE_URL"] = f"sqlite:///{tmp_path / 'away' / 'registrar.sqlite3'}"
    with app.app_context():
        provision(MULTIFON, SIP_PASSWORD)
    run_jobs(app)
    [job] = jobs(app, sync.APPLY_JOB)
    assert job.state == "queued" and job.attempts == 1  # the database cannot be opened: kept
    (tmp_path / "away").mkdir()
    with app.app_context():
        db.session.execute(db.update(Message).values(next_attempt_at=utcnow()))
        db.session.commit()
    run_jobs(app)
    assert held(app, "multifon", MULTIFON)["ha1"] == md5("79260250730", SIP_PASSWORD)


def test_sync_reports_and_mends_every_difference(app):
    runner = app.test_cli_runner()
    with app.app_context():
        provision(MULTIFON, SIP_PASSWORD)
        provision("+79260250731", SIP_PASSWORD)
        # The queue's jobs are lost: the registrar has never heard of either, and holds a stray.
        db.session.execute(db.delete(Message))
        db.session.commit()
        with database.engine().begin() as conn:
            conn.execute(
                sqlalchemy.insert(subscriber).values(
                    username="70000000000", domain=REALM, ha1="x", service="multifon", account="+70000000000"
                )
            )
    result = runner.invoke(args=["registrar", "sync", "--dry-run"])
    assert result.exit_code == 1
    assert "multifon +79260250730: added" in result.output
    assert "multifon +70000000000: removed" in result.output
    assert held(app, "multifon", MULTIFON) is None  # a dry run changes nothing
    result = runner.invoke(args=["registrar", "sync"])
    assert result.exit_code == 0 and "3 accounts brought in step" in result.output
    assert held(app, "multifon", "+70000000000") is None
    assert runner.invoke(args=["registrar", "sync"]).output.strip() == "the registrar is in step"
    # The realm is in every HA1: changing it re-derives them all.
    app.config["IDP_SIP_REALM"] = "sip.operator.example"
    result = runner.invoke(args=["registrar", "sync"])
    assert "multifon +79260250730: realm" in result.output
    assert held(app, "multifon", MULTIFON)["ha1"] == md5("79260250730", SIP_PASSWORD, "sip.operator.example")


def test_status_says_what_the_registrar_holds(app):
    runner = app.test_cli_runner()
    with app.app_context():
        provision(MULTIFON, SIP_PASSWORD, trunk_lines=4)
    result = runner.invoke(args=["registrar", "status", "79260250730"])
    assert "the registrar holds nothing" in result.output and "NOT in step" in result.output
    run_jobs(app)
    result = runner.invoke(args=["registrar", "status", "8 926 025-07-30"])
    assert result.exit_code == 0, result.output
    assert "multifon +79260250730: SIP login 79260250730" in result.output
    assert f"holds login 79260250730 in realm {REALM}" in result.output
    assert "trunk_lines 4" in result.output and "  in step" in result.output
    assert SIP_PASSWORD not in result.output
    result = runner.invoke(args=["registrar", "status", "+79990000000"])
    assert result.exit_code == 1 and "no service has an account" in result.output
