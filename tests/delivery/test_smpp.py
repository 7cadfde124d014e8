"""SMS over SMPP against a real SMSC on loopback (node-smpp's server, not a mock of smpplib)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from idp.delivery.services import send
from idp.extensions import db
from tests.delivery.worker_helpers import message_states, work_until, workers_running
from tests.helpers.pages import submit
from tests.peers.fixtures import wait_until

LONG_CYRILLIC = (
    "Шановний абоненте! Ваш бізнес-профіль успішно створено. Тепер ви можете "
    "входити до всіх послуг оператора з одним номером телефону та паролем. "
    "Дякуємо, що обрали нас."
)


def _all(states, *wanted):
    return bool(states) and all(s in wanted for s in states.values())


def _reassemble(parts: list[dict]) -> str:
    """Join concatenated parts in the order of their UDH sequence numbers."""
    ordered = sorted(parts, key=lambda p: int(p["udh"][0][8:10], 16))
    return "".join(p["text"] for p in ordered)


def test_registration_code_reaches_the_smsc_with_the_right_pdu(smsc, app, client):
    page = submit(client, "/register", {"phone": "+380 67 123 4567"}, headers={"Accept-Language": "en"})
    assert page.location == "/register/code"
    work_until(app, lambda s: _all(s, "delivered"))
    (pdu,) = smsc.received()
    assert pdu["destination_addr"] == "380671234567"
    assert (pdu["dest_addr_ton"], pdu["dest_addr_npi"]) == (1, 1)
    assert (pdu["source_addr"], pdu["source_addr_ton"], pdu["source_addr_npi"]) == ("BusinessID", 5, 0)
    assert pdu["data_coding"] == 0  # Latin text fits GSM 7-bit
    assert pdu["registered_delivery"] == 1
    assert "registration code" in pdu["text"] and pdu["udh"] == []
    # The SMSC turned the relative validity into an absolute time: the code's 5 minutes.
    validity = datetime.fromisoformat(pdu["validity_period"].replace("Z", "+00:00"))
    left = (validity - datetime.now(UTC)).total_seconds()
    assert 240 < left <= 300


def test_ukrainian_code_goes_as_ucs2(smsc, app, client):
    submit(client, "/register", {"phone": "+380671234567"}, headers={"Accept-Language": "uk"})
    work_until(app, lambda s: _all(s, "delivered"))
    (pdu,) = smsc.received()
    assert pdu["data_coding"] == 8
    assert any("\u0400" <= ch <= "\u04ff" for ch in pdu["text"])


def test_long_cyrillic_text_is_split_and_concatenated(smsc, app):
    with app.app_context():
        from idp.delivery.models import Message
        from idp.delivery.smpp import SmppTransport

        transport = SmppTransport.from_config(app.config)
        message = Message(recipient="+380671234567", expires_at=None)
        ids = transport.deliver(message, LONG_CYRILLIC, None)
        transport.close()
    parts = smsc.received()
    assert len(parts) == len(ids) == 3
    assert {p["data_coding"] for p in parts} == {8}
    assert all(p["esm_class"] & 0x40 for p in parts)  # UDH indicator
    # Each UDH is IEI 00 (8-bit reference), length 03, reference, total, sequence.
    assert {p["udh"][0][:4] for p in parts} == {"0003"}
    assert len({p["udh"][0][4:6] for p in parts}) == 1  # one reference for the whole text
    assert {p["udh"][0][6:8] for p in parts} == {"03"}
    assert sorted(p["udh"][0][8:10] for p in parts) == ["01", "02", "03"]
    assert _reassemble(parts) == LONG_CYRILLIC


def test_undeliverable_receipt_is_stored_and_shown_with_a_resend(smsc, app, client):
    submit(client, "/register", {"phone": "+380670000000"}, headers={"Accept-Language": "en"})
    work_until(app, lambda s: _all(s, "undeliverable"))
    page = client.get("/register/code", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-sms-state="undeliverable"' in page
    assert "could not be delivered" in page
    assert "Send the code again" in page


def test_receipt_marks_the_message_delivered(smsc, app, client):
    submit(client, "/register", {"phone": "+380671234567"})
    work_until(app, lambda s: _all(s, "delivered"))
    assert smsc.received("receipt_acked")
    page = client.get("/register/code", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-sms-state="delivered"' in page


def test_bind_failure_keeps_the_message_queued_with_the_reason(smsc, app, settings):
    smsc.command(cmd="refuse_binds", value=True)
    with app.app_context():
        message_id = send("sms_test", "+380671234567", "en").id
    worker = work_until(app, lambda s: True, keep=True)
    with app.app_context():
        from idp.delivery.models import Message

        message = db.session.get(Message, message_id)
        assert message.state == "queued"
        assert "bind failed" in message.last_error.lower()
    smsc.command(cmd="refuse_binds", value=False)
    work_until(app, lambda s: _all(s, "delivered"), worker=worker)
    assert len(smsc.received()) == 1


def test_smsc_dropping_the_connection_mid_stream_loses_nothing(smsc, app):
    numbers = [f"+38067123{i + 1:04d}" for i in range(8)]
    with app.app_context():
        for number in numbers[:3]:
            send("sms_test", number, "en")
    worker = work_until(app, lambda s: _all(s, "delivered"), keep=True)
    smsc.command(cmd="drop_on_submit")
    with app.app_context():
        for number in numbers[3:]:
            send("sms_test", number, "en")
    work_until(app, lambda s: _all(s, "delivered"), worker=worker)
    assert smsc.received("submit_dropped")
    received = sorted("+" + p["destination_addr"] for p in smsc.received())
    assert received == sorted(numbers)  # every message exactly once


def test_smsc_down_for_a_while_then_every_message_arrives(smsc, app):
    smsc.stop()
    numbers = [f"+38067555{i + 1:04d}" for i in range(5)]
    with app.app_context():
        for number in numbers:
            send("sms_test", number, "en")
    with workers_running(app):
        wait_until(lambda: all(_failed_tries(app)), timeout=10)
        smsc.start()
        wait_until(lambda: _all(message_states(app), "delivered"), timeout=30)
    assert sorted("+" + p["destination_addr"] for p in smsc.received()) == sorted(numbers)


def _failed_tries(app) -> list[int]:
    from idp.delivery.models import Message

    with app.app_context():
        return [m.attempts for m in db.session.scalars(db.select(Message))]


def test_throttling_slows_the_sender_and_loses_nothing(smsc, app):
    smsc.command(cmd="throttle", count=3)
    numbers = [f"+38067777{i + 1:04d}" for i in range(4)]
    with app.app_context():
        for number in numbers:
            send("sms_test", number, "en")
    work_until(app, lambda s: _all(s, "delivered"), timeout=30)
    assert len(smsc.received("throttled")) == 3
    assert sorted("+" + p["destination_addr"] for p in smsc.received()) == sorted(numbers)


def test_no_code_and_no_pdu_bytes_reach_the_logs(smsc, app, client, caplog, outbox):
    caplog.set_level(logging.DEBUG)
    submit(client, "/register", {"phone": "+380671234567"})
    work_until(app, lambda s: _all(s, "delivered"))
    code = outbox.code("+380671234567")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert code not in logged
    assert code.encode().hex() not in logged  # smpplib would log PDUs in hex


def test_sms_test_command_reports_delivery(smsc, app):
    result = app.test_cli_runner().invoke(args=["sms", "test", "--to", "+380671234567", "--wait", "10"])
    assert result.exit_code == 0, result.output
    assert "sent" in result.output and "delivered" in result.output
    result = app.test_cli_runner().invoke(args=["sms", "test", "--to", "+380670000000", "--wait", "10"])
    assert result.exit_code != 0 and "undeliverable" in result.output


def test_an_idle_bind_is_kept_alive_with_enquire_link(settings, smsc, app):
    settings["IDP_SMPP_ENQUIRE_SECONDS"] = 1
    app.config["IDP_SMPP_ENQUIRE_SECONDS"] = 1
    with app.app_context():
        send("sms_test", "+380671234567", "en")
    worker = work_until(app, lambda s: _all(s, "delivered"), keep=True)
    with app.app_context():
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not smsc.received("enquire_link"):
            worker.run_once()
            time.sleep(0.1)
        worker.close()
    assert smsc.received("enquire_link")
    assert len(smsc.received("bind")) == 1  # the same bind all along
