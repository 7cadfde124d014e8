"""How the cabinet shows an account: money in the page's language, status, routing, badges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.numbers import get_currency_precision, get_currency_symbol
from flask_babel import format_currency, format_date, get_locale
from flask_babel import lazy_gettext as _l

from connectors.multifon.backend import ACTIVE, BLOCKED, DISCONNECTED, Overview
from connectors.multifon.numbers import label
from idp.connectors.sdk import (
    LANGUAGES,
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
    """The amount as people of the page's language write it, the sign where the language puts it
    and the currency's own sign in every language: "-748 822,93 ₽" (uk, ru), "-₽748,822.93" (en).

    Babel's format of the locale, with the currency's digits; only its sign is chosen here, since
    Babel knows "₽" in Russian alone and writes "RUB" in Ukrainian and English.
    """
    locale = get_locale()
    symbol = currency_sign(currency, str(locale))
    pattern = locale.currency_formats["standard"].pattern.replace("¤", f"'{symbol}'")
    rounded = Decimal(amount).quantize(Decimal(1).scaleb(-get_currency_precision(currency)))
    # An amount that rounds to nothing is written without a sign: never "-0,00 ₽".
    return format_currency(
        abs(rounded) if rounded == 0 else rounded, currency, format=pattern, currency_digits=True
    )


def currency_sign(currency: str, locale: str) -> str:
    """The currency's sign: as ``locale`` writes it, else as the first of uk, ru, en that has a
    sign for it ("₽" for RUB, "₴" for UAH), else its code."""
    for language in dict.fromkeys([locale, *LANGUAGES]):
        sign = get_currency_symbol(currency, language)
        if sign != currency:
            return sign
    return currency


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
