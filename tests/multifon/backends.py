"""Backends that misbehave, for IDP_MULTIFON_BACKEND in the tests: one raises, one is too slow."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

from connectors.multifon.backend import Overview

SLOW_SECONDS = 1.5  # past IDP_CONNECTOR_TIMEOUT_SECONDS=1


class FailingBackend:
    """Every call fails, as a foreign system that is down would."""

    def _down(self, *args, **kwargs):
        raise ConnectionError("the MultiFon platform is down")

    verify = overview = set_routing = set_trunk_lines = sip_password = _down
    set_sip_password = disconnect = calls_per_day = _down


class SlowBackend:
    """Answers every read, but too late. Its answers are fixed: a late read must not touch the
    database of a test that has already ended."""

    def verify(self, number, password):
        return False

    def overview(self, number):
        time.sleep(SLOW_SECONDS)
        return Overview(
            number=number,
            balance=Decimal("10.00"),
            currency="RUB",
            status="active",
            tariff_option=None,
            caller_id=None,
            routing="SIP",
            trunk_lines=2,
        )

    def calls_per_day(self, number, days=30):
        time.sleep(SLOW_SECONDS)
        return [(date.today(), 1)]

    def _refuse(self, *args, **kwargs):
        raise TimeoutError("the MultiFon platform did not answer")

    set_routing = set_trunk_lines = sip_password = set_sip_password = disconnect = _refuse


def failing() -> FailingBackend:
    return FailingBackend()


def slow() -> SlowBackend:
    return SlowBackend()
