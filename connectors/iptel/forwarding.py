"""Call forwarding (seed 000): calls go to a number of the subscriber's choice unconditionally,
when busy, after a delay without an answer, or when unreachable; each switched on and off alone.
A switched-off forwarding keeps its number for next time."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.iptel.models import DISCONNECTED, IptelAccount, IptelForwarding
from idp.connectors.sdk import (
    InvalidPhone,
    db,
    normalize_phone,
    record,
    registrar_changed,
)

UNCONDITIONAL, BUSY, NO_ANSWER, UNREACHABLE = "unconditional", "busy", "no_answer", "unreachable"
CONDITIONS = (UNCONDITIONAL, BUSY, NO_ANSWER, UNREACHABLE)
DELAYS = (5, 10, 15, 20, 25, 30, 45, 60)  # seconds of ringing before "no answer" forwards
DEFAULT_DELAY = 20


class ForwardingRefused(ValueError):
    """The forwarding cannot be set; ``reason`` is one of the class constants."""

    NOT_ALLOWED, DISCONNECTED, NO_NUMBER, INVALID_NUMBER, OWN_NUMBER, BAD_DELAY, BAD_CONDITION = (
        "not_allowed",
        "disconnected",
        "no_number",
        "invalid_number",
        "own_number",
        "bad_delay",
        "bad_condition",
    )

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Forwarding:
    condition: str
    number: str | None  # E.164
    enabled: bool
    delay_seconds: int | None  # NO_ANSWER only


def forwardings(account: IptelAccount) -> dict[str, Forwarding]:
    """Every condition of the account, in CONDITIONS order, switched off when never set."""
    rows = {
        row.condition: row
        for row in db.session.scalars(
            db.select(IptelForwarding).where(IptelForwarding.account_id == account.id)
        )
    }
    result = {}
    for condition in CONDITIONS:
        row = rows.get(condition)
        delay = (
            (row.delay_seconds if row and row.delay_seconds else DEFAULT_DELAY)
            if condition == NO_ANSWER
            else None
        )
        result[condition] = Forwarding(
            condition, row.number if row else None, bool(row and row.enabled), delay
        )
    return result


def check_number(account: IptelAccount, text: str) -> str:
    """The forwarding number in E.164; raise ForwardingRefused when it is invalid or the account's
    own number (calls would loop back)."""
    try:
        number = normalize_phone(text)
    except InvalidPhone as exc:
        raise ForwardingRefused(ForwardingRefused.INVALID_NUMBER) from exc
    if number == account.number:
        raise ForwardingRefused(ForwardingRefused.OWN_NUMBER)
    return number


def set_forwarding(
    account: IptelAccount,
    condition: str,
    *,
    enabled: bool,
    number: str | None,
    delay_seconds: int | None = None,
    profile_id: int | None = None,
) -> Forwarding:
    """Switch one condition on (to ``number``) or off; raise ForwardingRefused on bad values."""
    if condition not in CONDITIONS:
        raise ForwardingRefused(ForwardingRefused.BAD_CONDITION)
    if account.status == DISCONNECTED:
        raise ForwardingRefused(ForwardingRefused.DISCONNECTED)
    if not account.forwarding_allowed:
        raise ForwardingRefused(ForwardingRefused.NOT_ALLOWED)
    current = forwardings(account)[condition]
    number = check_number(account, number) if number else current.number
    if enabled and not number:
        raise ForwardingRefused(ForwardingRefused.NO_NUMBER)
    if condition == NO_ANSWER:
        delay_seconds = delay_seconds or current.delay_seconds
        if delay_seconds not in DELAYS:
            raise ForwardingRefused(ForwardingRefused.BAD_DELAY)
    else:
        delay_seconds = None
    db.session.merge(
        IptelForwarding(
            account_id=account.id,
            condition=condition,
            number=number,
            enabled=enabled,
            delay_seconds=delay_seconds,
        )
    )
    record(
        "iptel.forwarding_set",
        profile_id,
        connector="iptel",
        account=account.number,
        condition=condition,
        enabled=enabled,
    )
    registrar_changed("iptel", account.number)
    db.session.commit()
    return Forwarding(condition, number, enabled, delay_seconds)
