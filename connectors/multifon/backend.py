"""Where a MultiFon account's data lives: the interface every backend implements, and its choice.

The built-in backend is the provisioning store in the connector's own tables
(``connectors.multifon.store``). An operator plugs its own system in with
``IDP_MULTIFON_BACKEND=module:factory``: ``factory()`` returns an object with the methods of
``MultifonBackend``. Business ID calls reads through ``read_backend`` (with a time limit) and
changes through ``write_backend``; a backend signals any failure by raising.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol, runtime_checkable

ACTIVE, BLOCKED, DISCONNECTED = "active", "blocked", "disconnected"
STATUSES = (ACTIVE, BLOCKED, DISCONNECTED)
ROUTINGS = ("GSM", "SIP", "SIP+GSM")
TRUNK_LINES_MIN, TRUNK_LINES_MAX = 1, 20
FACTORY_PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class AccountNotFound(LookupError):
    """The backend has no account with this number."""


@dataclass(frozen=True)
class Overview:
    """What the cabinet's cards show about one account."""

    number: str  # E.164
    balance: Decimal  # may be negative
    currency: str  # ISO 4217, e.g. "RUB"
    status: str  # one of STATUSES
    tariff_option: str | None  # the active tariff option's name; None: basic tariffing
    caller_id: str | None  # the number shown on outgoing calls (E.164); None: not set
    routing: str  # one of ROUTINGS
    trunk_lines: int  # TRUNK_LINES_MIN..TRUNK_LINES_MAX


@runtime_checkable
class MultifonBackend(Protocol):
    """The MultiFon Business platform as the cabinet sees it; ``number`` is always E.164."""

    def verify(self, number: str, password: str) -> bool:
        """Tell whether ``password`` is the account's SIP password; False for unknown numbers."""

    def overview(self, number: str) -> Overview:
        """The account's balance, status and settings; raise AccountNotFound for unknown numbers."""

    def set_routing(self, number: str, routing: str) -> None:
        """Route incoming calls to GSM, SIP or both (``routing`` is one of ROUTINGS)."""

    def set_trunk_lines(self, number: str, lines: int) -> None:
        """Set the limit of simultaneous outgoing calls (TRUNK_LINES_MIN..TRUNK_LINES_MAX)."""

    def sip_password(self, number: str) -> str:
        """The current SIP password, to be sent by SMS to the number on request."""

    def set_sip_password(self, number: str, password: str) -> None:
        """Replace the SIP password; the old one stops working at once."""

    def disconnect(self, number: str) -> None:
        """Disconnect the service: calls stop and the SIP account no longer registers."""

    def calls_per_day(self, number: str, days: int = 30) -> list[tuple[date, int]]:
        """Calls per day for the last ``days`` days up to today, oldest first, every day present."""


def parse_factory(value: str) -> str:
    """Accept ``module:factory`` (the setting's parser)."""
    if not FACTORY_PATTERN.match(value):
        raise ValueError("must be `module:factory`, e.g. `mycompany.multifon:backend`")
    return value
