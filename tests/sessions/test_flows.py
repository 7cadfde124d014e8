"""Flows of the session: started, read, updated, ended, and gone after their lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idp.sessions.flows import Flow, flow_named

STEPS = Flow("test_steps", minutes=5, sms_status="test-steps")


def test_a_flow_lives_its_lifetime(app, time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    with app.test_request_context():
        assert STEPS.get() is None
        STEPS.start(phone="+380671112233")
        STEPS.update(verified=True)
        state = STEPS.get()
        assert state["phone"] == "+380671112233" and state["verified"] is True
        state["phone"] = "changed"  # a copy: only update changes the flow
        assert STEPS.get()["phone"] == "+380671112233"
        time_machine.shift(timedelta(minutes=5, seconds=1))
        assert STEPS.get() is None


def test_ending_returns_what_the_flow_held(app):
    with app.test_request_context():
        STEPS.start(n=1)
        assert STEPS.end()["n"] == 1
        assert STEPS.end() is None and STEPS.get() is None
        STEPS.update(n=2)  # not running: nothing happens
        assert STEPS.get() is None


def test_flows_with_an_sms_are_found_by_name():
    assert flow_named("test-steps") is STEPS
    assert flow_named("nosuch") is None
    assert {
        name for name in ("registration", "signin", "recovery", "phone") if flow_named(name) is not None
    } == {"registration", "signin", "recovery", "phone"}


def test_a_flow_needs_a_lifetime_and_a_name_of_its_own():
    with pytest.raises(ValueError, match="lifetime"):
        Flow("no_lifetime")
    with pytest.raises(ValueError, match="taken"):
        Flow("another_key", minutes=1, sms_status="test-steps")
