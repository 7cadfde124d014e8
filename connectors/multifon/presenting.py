"""How the cabinet shows an account: money in the page's language, status, routing, badges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import format_currency, format_date
from flask_babel import lazy_gettext as _l

from connectors.multifon.backend import ACTIVE, BLOCKED, DISCONNECTED, Overview
from connectors.multifon.numbers import label
from idp.connectors.sdk import (
    Card,
)

STATUS_TEXTS = {
    ACTIVE: _l("Service active"),
    BLOCKED: _l("Service blocked"),
    DISCONNECTED: _l("Service disconnected"),
}
STATUS_BADGES = {ACTIVE: "ok", BLOCKED: "warn", DISCONNECTED: "off"}
# seed 004 §4: where incoming calls go in each routing mode.
ROUTING_TEXTS = {
    "GSM": _l("Incoming calls go to the SIM card."),
    "SIP": _l("Incoming calls go to SIP."),
    "SIP+GSM": _l("Parallel mode: incoming calls go both to SIP and to the phone (SIM card)."),
}


def money(amount: Decimal, currency: str) -> str:
    """The amount in the page's language, e.g. "-748 822,93 ₽"."""
    return format_currency(amount, currency)


def status_text(status: str) -> str:
    """ "Service active", "Service blocked" or "Service disconnected"."""
    return str(STATUS_TEXTS.get(status, status))


def status_badge(status: str) -> str:
    """The badge colour of a status."""
    return STATUS_BADGES.get(status, "off")


def day(value: date) -> str:
    """A day of the statistics in the page's language, e.g. "5 Jan"."""
    return format_date(value, "d MMM")


def template_helpers() -> dict:
    """What the cabinet's templates use to show an account."""
    return {
        "money": money,
        "status_text": status_text,
        "status_badge": status_badge,
        "tariff_text": tariff_text,
        "caller_id_text": caller_id_text,
        "day": day,
        "display_number": label,
    }


def tariff_text(overview: Overview) -> str:
    """Basic tariffing, or the name of the active tariff option."""
    return overview.tariff_option or str(_l("Basic"))


def caller_id_text(overview: Overview) -> str:
    """The number shown on outgoing calls, or "Not set"."""
    return label(overview.caller_id) if overview.caller_id else str(_l("Not set"))


def home_card(title: str, link, overview: Overview) -> Card:
    """The account's card on the profile's home: number, balance and status."""
    return Card(
        title=title,
        value=link.label,
        link_id=link.id,
        lines=[money(overview.balance, overview.currency)],
        status=status_badge(overview.status),
        status_text=status_text(overview.status),
    )


@dataclass(frozen=True)
class Bar:
    """One day of the statistics chart, in the SVG's own units (no CSS: the CSP forbids inline styles)."""

    day: date
    calls: int
    x: int
    y: int
    height: int


CHART_HEIGHT = 100
BAR_STEP = 10
BAR_WIDTH = 8


def chart(days: list[tuple[date, int]]) -> list[Bar]:
    """Scale calls per day to bars of an SVG chart ``BAR_STEP * len(days)`` wide, 100 high."""
    peak = max((calls for _day, calls in days), default=0) or 1
    bars = []
    for index, (day, calls) in enumerate(days):
        height = round(calls * (CHART_HEIGHT - 4) / peak) or (1 if calls else 0)
        bars.append(Bar(day=day, calls=calls, x=index * BAR_STEP + 1, y=CHART_HEIGHT - height, height=height))
    return bars
