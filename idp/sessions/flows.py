"""Flows: a few steps a person takes in one browser, kept in its server-side session.

A flow (a pending sign-in, a password recovery, a phone change, a registration, an account waiting
to be linked, a confirmation code in a cabinet, …) lives under one session key for a set lifetime:

    PHONE_CHANGE = Flow("phone_change", minutes=15)
    PHONE_CHANGE.start(challenge=challenge.id, phone=number)
    state = PHONE_CHANGE.get()          # None once ended or past its lifetime
    PHONE_CHANGE.update(verified=True)
    PHONE_CHANGE.end()

Every flow is registered by its name, so ``/sms/status/<name>`` finds the SMS challenge of any of
them without knowing their keys. The clock is ``utcnow``, like every other lifetime of the product.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import session

from idp.timeutil import utcnow

STARTED = "_started"  # the flow's start, seconds since 1970 (UTC)

FLOWS: dict[str, Flow] = {}


class Flow:
    """One flow kept under ``key`` for ``lifetime`` after it started (see the module docstring)."""

    def __init__(self, key: str, *, minutes: float = 0, seconds: float = 0, sms_status: str | None = None):
        """``sms_status`` names the flow at ``/sms/status/<name>`` when its SMS may be watched."""
        self.key = key
        self.lifetime = timedelta(minutes=minutes, seconds=seconds)
        if not self.lifetime:
            raise ValueError(f"flow {key!r} needs a lifetime")
        if sms_status is not None:
            if sms_status in FLOWS and FLOWS[sms_status].key != key:
                raise ValueError(f"flow name {sms_status!r} is taken")
            FLOWS[sms_status] = self

    def start(self, **values: Any) -> dict[str, Any]:
        """Begin the flow anew with ``values`` (whatever it held before is gone)."""
        state = {STARTED: utcnow().timestamp(), **values}
        session[self.key] = state
        return state

    def get(self) -> dict[str, Any] | None:
        """The flow's values, or None when it was never started, has ended or has expired."""
        state = session.get(self.key)
        if not isinstance(state, dict) or STARTED not in state:
            return None
        if utcnow().timestamp() - state[STARTED] > self.lifetime.total_seconds():
            session.pop(self.key, None)
            return None
        return dict(state)  # a copy: the session changes only through ``update``

    def lapsed(self) -> bool:
        """Tell whether the flow was started in this browser and ran out of its lifetime (it ends
        now); False while it runs, after it was ended, and when it never began. Ask before ``get``,
        which ends a lapsed flow without telling."""
        state = session.get(self.key)
        if not isinstance(state, dict) or STARTED not in state:
            return False
        if utcnow().timestamp() - state[STARTED] <= self.lifetime.total_seconds():
            return False
        session.pop(self.key, None)
        return True

    def update(self, **values: Any) -> None:
        """Add or change values of a running flow (nothing happens when it is not running)."""
        state = self.get()
        if state is not None:
            session[self.key] = {**state, **values}

    def end(self) -> dict[str, Any] | None:
        """End the flow; return what it held (None when it was not running)."""
        state = self.get()
        session.pop(self.key, None)
        return state


def flow_named(name: str) -> Flow | None:
    """The flow registered as ``name`` for ``/sms/status``, or None."""
    return FLOWS.get(name)
