"""The shipped Kamailio configuration against the registrar database, driven by real SIP peers.

Rows are written as Business ID writes them (SQLAlchemy Core on ``subscriber``); every change is
a row update that the running Kamailio applies on the next request, without restart or reload.
The phones and gateways are sipp UASes (answering, busy, ringing); callers are sipp UACs, with
proxy authentication for an account's outgoing calls.
"""

from __future__ import annotations

import time

from tests.peers import sip
from tests.peers.kamailio import wait_for
from tests.peers.registrar import REALM, dedicated_postgres_registrar, ha1, uas

OUTSIDE = {"caller": "380441234567", "caller_domain": "pstn.example"}


def call(sipp, kamailio, number: str, hold_ms: int = 0, caller: dict | None = None):
    """A call from outside to ``number``, started (wait() for it); returns the sipp caller."""
    return sipp("uac_call", remote=kamailio.address).start(
        service=number, hold_ms=hold_ms, keys=caller or OUTSIDE, timeout=20
    )


def outgoing_call(sipp, kamailio, account: str, called: str, password: str = "secret", hold_ms: int = 0):
    """An outgoing call of ``account`` (proxy-authenticated) to ``called``."""
    return sipp("uac_auth_call", remote=kamailio.address).start(
        service=called,
        hold_ms=hold_ms,
        auth=(account, password),
        keys={"caller": account, "caller_domain": REALM},
        timeout=20,
    )


def outcome(caller) -> int | None:
    caller.wait()
    return caller.final_status()


def phone(sipp, kamailio, number: str, scenario: str, password: str = "secret"):
    """A sipp UAS registered as the only SIP phone of ``number`` (earlier bindings dropped)."""
    kamailio.rpc("ul.rm", "location", number)
    endpoint = uas(sipp, scenario)
    assert sip.register(kamailio.address, number, password, REALM, contact_port=endpoint.port) == 200
    return endpoint


def finished(endpoint) -> list[str]:
    """The request URIs of the INVITEs the endpoint received, once it stopped."""
    endpoint.stop()
    return endpoint.invites()


# --- REGISTER --------------------------------------------------------------------------------


def register_with_sipp(sipp, kamailio, user: str, password: str) -> list[str]:
    client = sipp("register", remote=kamailio.address).start(service=user, auth=(user, password), timeout=10)
    client.wait()
    return client.first_lines()


def test_register_md5(registrar, kamailio, sipp):
    number = registrar.add(registrar.new_number(), "right")
    assert register_with_sipp(sipp, kamailio, number, "right") == [
        "SIP/2.0 401 Unauthorized",
        "SIP/2.0 200 OK",
    ]
    assert register_with_sipp(sipp, kamailio, number, "wrong")[-1] == "SIP/2.0 403 Forbidden"
    assert register_with_sipp(sipp, kamailio, registrar.new_number(), "right")[-1] == "SIP/2.0 403 Forbidden"
    assert kamailio.bindings(number), kamailio.log()


def test_register_sha256(registrar, kamailio_sha256):
    number = registrar.new_number()
    # The MD5 HA1 is wrong on purpose: a SHA-256 instance must read ha1_sha256 only.
    registrar.add(number, "right", ha1=ha1(number, "not the password"))
    assert sip.register(kamailio_sha256.address, number, "right", REALM) == 200, kamailio_sha256.log()
    assert sip.register(kamailio_sha256.address, number, "wrong", REALM) == 403
    assert sip.register(kamailio_sha256.address, registrar.new_number(), "right", REALM) == 403


def test_changed_row_applies_to_the_next_register(registrar, kamailio):
    number = registrar.add(registrar.new_number(), "first")
    assert sip.register(kamailio.address, number, "first", REALM) == 200
    registrar.update(number, password="second")
    assert sip.register(kamailio.address, number, "first", REALM) == 403
    assert sip.register(kamailio.address, number, "second", REALM) == 200
    registrar.delete(number)
    assert sip.register(kamailio.address, number, "second", REALM) == 403


def test_rpc_ul_rm_drops_the_binding(registrar, kamailio, sipp):
    number = registrar.add(registrar.new_number())
    endpoint = phone(sipp, kamailio, number, "uas_answer")
    assert kamailio.bindings(number) == [f"sip:{number}@127.0.0.1:{endpoint.port}"]
    kamailio.rpc("ul.rm", "location", number)
    assert kamailio.bindings(number) == []
    assert outcome(call(sipp, kamailio, number)) == 480
    assert finished(endpoint) == []


def test_options_keepalive(kamailio):
    assert sip.options(kamailio.address) == 200


def test_database_unavailable_gives_500(registrar, kamailio):
    if registrar.name == "sqlite":
        number = registrar.add(registrar.new_number(), "right")
        # SQLite is a file, never "down": make the table unreadable for a moment instead.
        with registrar.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE subscriber RENAME TO subscriber_away")
        try:
            assert sip.register(kamailio.address, number, "right", REALM) == 500, kamailio.log()
        finally:
            with registrar.engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE subscriber_away RENAME TO subscriber")
        assert sip.register(kamailio.address, number, "right", REALM) == 200
        return
    # PostgreSQL: a Kamailio of its own whose database is dropped under it.
    with dedicated_postgres_registrar("outage") as (other, instance):
        number = other.add(other.new_number(), "right")
        assert sip.register(instance.address, number, "right", REALM) == 200
        other.drop()
        assert sip.register(instance.address, number, "right", REALM) == 500, instance.log()


# --- Incoming routing ------------------------------------------------------------------------


def test_routing_sip_gsm_and_both(registrar, kamailio, sipp):
    number = registrar.add(registrar.new_number(), routing="SIP")
    desk = phone(sipp, kamailio, number, "uas_answer")
    assert outcome(call(sipp, kamailio, number)) == 200, kamailio.log()
    assert finished(desk) == [f"sip:{number}@127.0.0.1:{desk.port}"]

    registrar.update(number, routing="GSM")
    gsm = uas(sipp, "uas_answer", port=kamailio.gsm_port)
    desk = phone(sipp, kamailio, number, "uas_answer")
    assert outcome(call(sipp, kamailio, number)) == 200, kamailio.log()
    assert finished(gsm) == [f"sip:{number}@127.0.0.1:{kamailio.gsm_port}"]
    assert finished(desk) == []

    # Both ring; the phone answers, so the GSM branch is cancelled.
    registrar.update(number, routing="SIP+GSM")
    gsm = uas(sipp, "uas_ring", port=kamailio.gsm_port)
    desk = phone(sipp, kamailio, number, "uas_answer")
    assert outcome(call(sipp, kamailio, number)) == 200, kamailio.log()
    wait_for(lambda: "CANCEL" in " ".join(gsm.first_lines()) or gsm.process.poll() is not None, 20, "CANCEL")
    assert finished(gsm) == [f"sip:{number}@127.0.0.1:{kamailio.gsm_port}"]
    assert any(line.startswith("CANCEL ") for line in gsm.first_lines())
    assert finished(desk) == [f"sip:{number}@127.0.0.1:{desk.port}"]

    # SIP+GSM without a registration: GSM only.
    kamailio.rpc("ul.rm", "location", number)
    gsm = uas(sipp, "uas_answer", port=kamailio.gsm_port)
    assert outcome(call(sipp, kamailio, number)) == 200, kamailio.log()
    assert finished(gsm) == [f"sip:{number}@127.0.0.1:{kamailio.gsm_port}"]


def test_unknown_number_from_outside(registrar, kamailio, sipp):
    assert outcome(call(sipp, kamailio, registrar.new_number())) == 404


def test_forward_all(registrar, kamailio, sipp):
    target = registrar.new_number()  # not ours: to the PSTN gateway
    number = registrar.add(registrar.new_number(), forward_all=target)
    desk = phone(sipp, kamailio, number, "uas_answer")
    pstn = uas(sipp, "uas_answer", port=kamailio.pstn_port)
    assert outcome(call(sipp, kamailio, number)) == 200, kamailio.log()
    assert finished(pstn) == [f"sip:{target}@127.0.0.1:{kamailio.pstn_port}"]
    assert finished(desk) == []

    # Forwarding to a local number reaches that number's registration.
    local = registrar.add(registrar.new_number())
    registrar.update(number, forward_all=local)
    other = phone(sipp, kamailio, local, "uas_answer")
    assert outcome(call(sipp, kamailio, number)) == 200, kamailio.log()
    assert finished(other) == [f"sip:{local}@127.0.0.1:{other.port}"]


def test_forward_busy(registrar, kamailio, sipp):
    target = registrar.new_number()
    number = registrar.add(registrar.new_number(), forward_busy=target)
    desk = phone(sipp, kamailio, number, "uas_busy")
    pstn = uas(sipp, "uas_answer", port=kamailio.pstn_port)
    assert outcome(call(sipp, kamailio, number)) == 200, kamailio.log()
    assert finished(desk) == [f"sip:{number}@127.0.0.1:{desk.port}"]
    assert finished(pstn) == [f"sip:{target}@127.0.0.1:{kamailio.pstn_port}"]

    registrar.update(number, forward_busy="")
    phone(sipp, kamailio, number, "uas_busy")
    assert outcome(call(sipp, kamailio, number)) == 486


def test_forward_no_answer_after_the_delay(registrar, kamailio, sipp):
    target = registrar.new_number()
    number = registrar.add(registrar.new_number(), forward_no_answer=target, no_answer_seconds=5)
    desk = phone(sipp, kamailio, number, "uas_ring")
    pstn = uas(sipp, "uas_answer", port=kamailio.pstn_port)
    began = time.monotonic()
    caller = call(sipp, kamailio, number)
    wait_for(lambda: pstn.invites(), 15, "the forwarded INVITE")
    delay = time.monotonic() - began
    assert outcome(caller) == 200, kamailio.log()
    assert 5 <= delay < 6.5, delay
    assert finished(desk) == [f"sip:{number}@127.0.0.1:{desk.port}"]
    assert any(line.startswith("CANCEL ") for line in desk.first_lines())
    assert finished(pstn) == [f"sip:{target}@127.0.0.1:{kamailio.pstn_port}"]


def test_forward_unreachable(registrar, kamailio, sipp):
    target = registrar.new_number()
    number = registrar.add(registrar.new_number(), forward_unreachable=target)  # never registered
    pstn = uas(sipp, "uas_answer", port=kamailio.pstn_port)
    assert outcome(call(sipp, kamailio, number)) == 200, kamailio.log()
    assert finished(pstn) == [f"sip:{target}@127.0.0.1:{kamailio.pstn_port}"]

    registrar.update(number, forward_unreachable="")
    assert outcome(call(sipp, kamailio, number)) == 480


# --- Outgoing calls --------------------------------------------------------------------------


def test_outgoing_call_needs_the_password(registrar, kamailio, sipp):
    account = registrar.add(registrar.new_number(), "right")
    called = registrar.new_number()
    pstn = uas(sipp, "uas_answer", port=kamailio.pstn_port)
    assert outcome(outgoing_call(sipp, kamailio, account, called, password="wrong")) == 403
    assert outcome(outgoing_call(sipp, kamailio, account, called, password="right")) == 200, kamailio.log()
    assert finished(pstn) == [f"sip:{called}@127.0.0.1:{kamailio.pstn_port}"]


def test_trunk_lines(registrar, kamailio, sipp):
    account = registrar.add(registrar.new_number(), trunk_lines=2)
    called = registrar.new_number()
    pstn = uas(sipp, "uas_answer", port=kamailio.pstn_port, calls=3)
    # Three INVITEs at once on two lines: exactly one is refused, whatever the order.
    callers = [outgoing_call(sipp, kamailio, account, called, hold_ms=2000) for _ in range(3)]
    refused = wait_for(lambda: [c for c in callers if c.process.poll() is not None], 10, "a refused call")
    assert [outcome(c) for c in refused] == [403], kamailio.log()
    assert "Too Many Simultaneous Calls" in refused[0].received()[-1].splitlines()[0]
    assert kamailio.rpc("dlg.profile_get_size", "outgoing", f"test:{account}") == 2

    # While both are up, a third line given in the row takes effect on the next INVITE.
    registrar.update(account, trunk_lines=3)
    assert outcome(outgoing_call(sipp, kamailio, account, called)) == 200, kamailio.log()
    assert sorted(outcome(c) for c in callers) == [200, 200, 403]
    assert len(finished(pstn)) == 3
    wait_for(
        lambda: kamailio.rpc("dlg.profile_get_size", "outgoing", f"test:{account}") == 0, 5, "lines freed"
    )
