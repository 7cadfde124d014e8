"""The built-in backend: a provisioning store in the connector's own tables.

``provision`` and ``seed_calls`` are the plain API of the store (used by ``idp multifon``, the
demo data and the tests); ``ProvisioningStore`` serves the cabinet through ``MultifonBackend``.
SIP passwords are sealed with AES-GCM bound to the number (``idp.security.crypto.seal``).
"""

from __future__ import annotations

import hmac
import random
import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.numbers import is_currency
from flask import current_app

from connectors.multifon.backend import (
    DISCONNECTED,
    ROUTINGS,
    STATUSES,
    TRUNK_LINES_MAX,
    TRUNK_LINES_MIN,
    AccountNotFound,
    Overview,
)
from connectors.multifon.models import MultifonAccount, MultifonCallDay
from connectors.multifon.numbers import to_e164
from idp.connectors.sdk import (
    db,
    registrar_changed,
    seal,
    unseal,
)

SIP_PASSWORD_MAX = 128
CENTS = Decimal("0.01")


class ProvisioningError(ValueError):
    """The values given to ``provision`` cannot make an account."""


class AccountDisconnected(RuntimeError):
    """The service is disconnected: its settings can no longer change."""


def sealing_context(number: str) -> str:
    """What a SIP password is sealed to: its own account."""
    return f"multifon:{number}"


def find(number: str) -> MultifonAccount | None:
    """The account with this E.164 number, or None."""
    return db.session.scalar(db.select(MultifonAccount).where(MultifonAccount.number == number))


def accounts() -> list[MultifonAccount]:
    """Every provisioned account, by number."""
    return list(db.session.scalars(db.select(MultifonAccount).order_by(MultifonAccount.number)))


def provision(
    number: str,
    sip_password: str,
    *,
    balance="0.00",
    currency="RUB",
    status="active",
    tariff_option=None,
    caller_id=None,
    routing="SIP",
    trunk_lines=2,
) -> MultifonAccount:
    """Create the account, or update it if the number exists; raise ProvisioningError on bad input."""
    e164, values = checked_values(
        number,
        sip_password,
        balance=balance,
        currency=currency,
        status=status,
        tariff_option=tariff_option,
        caller_id=caller_id,
        routing=routing,
        trunk_lines=trunk_lines,
    )
    account = find(e164)
    if account is None:
        account = MultifonAccount(number=e164)
        db.session.add(account)
    for name, value in values.items():
        setattr(account, name, value)
    account.sip_password_sealed = seal(sip_password, sealing_context(e164))
    registrar_changed("multifon", e164)
    db.session.commit()
    return account


def checked_values(
    number: str,
    sip_password: str,
    *,
    balance,
    currency,
    status,
    tariff_option,
    caller_id,
    routing,
    trunk_lines,
) -> tuple[str, dict]:
    """The number in E.164 and the account's columns, checked before anything is stored (so a
    command can check everything else first); raise ProvisioningError on bad input."""
    e164 = _number(number, "number")
    values = {
        "balance_minor": _minor_units(balance),
        "currency": _currency(currency),
        "status": _one_of(status, STATUSES, "status"),
        "tariff_option": (tariff_option or "").strip()[:100] or None,
        "caller_id": _number(caller_id, "caller ID") if caller_id else None,
        "routing": _one_of(routing, ROUTINGS, "routing"),
        "trunk_lines": _trunk_lines(trunk_lines),
    }
    _check_sip_password(sip_password)
    return e164, values


def seed_calls(number: str, days: int = 30) -> None:
    """Fill the last ``days`` days with call counts, the same for the same number and day."""
    account = find(_number(number, "number"))
    if account is None:
        raise ProvisioningError(f"no MultiFon account {number}")
    for day in _last_days(days):
        rng = random.Random(f"{account.number}:{day.isoformat()}")  # deterministic demo data
        calls = rng.randint(0, 12) if day.weekday() >= 5 else rng.randint(15, 90)
        db.session.merge(MultifonCallDay(account_id=account.id, day=day, calls=calls))
    db.session.commit()


def _number(text: str | None, what: str) -> str:
    e164 = to_e164(text or "")
    if e164 is None:
        raise ProvisioningError(f"{what}: {text!r} is not a valid phone number")
    return e164


def _minor_units(balance) -> int:
    try:
        amount = Decimal(str(balance)).quantize(CENTS)
    except InvalidOperation as exc:
        raise ProvisioningError(f"balance: {balance!r} is not an amount") from exc
    return int(amount * 100)


def _currency(code: str) -> str:
    code = (code or "").strip().upper()
    if not is_currency(code):
        raise ProvisioningError(f"currency: {code!r} is not an ISO 4217 code")
    return code


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ProvisioningError(f"{what}: must be one of {', '.join(allowed)}")
    return value


def _trunk_lines(value) -> int:
    try:
        lines = int(value)
    except (TypeError, ValueError) as exc:
        raise ProvisioningError("trunk lines: must be a whole number") from exc
    if not TRUNK_LINES_MIN <= lines <= TRUNK_LINES_MAX:
        raise ProvisioningError(f"trunk lines: must be {TRUNK_LINES_MIN}..{TRUNK_LINES_MAX}")
    return lines


def _check_sip_password(password: str) -> None:
    if (
        not password
        or len(password) > SIP_PASSWORD_MAX
        or not password.isprintable()
        or password != password.strip()
    ):
        raise ProvisioningError(
            f"SIP password: 1..{SIP_PASSWORD_MAX} printable characters, no spaces around it"
        )


def _today() -> date:
    return datetime.now(ZoneInfo(current_app.config["IDP_TIMEZONE"])).date()


def _last_days(days: int) -> list[date]:
    today = _today()
    return [today - timedelta(days=back) for back in range(days - 1, -1, -1)]


class ProvisioningStore:
    """``MultifonBackend`` over the connector's own tables."""

    def verify(self, number: str, password: str) -> bool:
        account = find(number)
        # Unknown numbers open a decoy sealed the same way: the same work, no enumeration.
        sealed = (
            account.sip_password_sealed
            if account
            else seal(secrets.token_urlsafe(16), sealing_context(number))
        )
        actual = unseal(sealed, sealing_context(number))
        return hmac.compare_digest(actual.encode(), password.encode()) and account is not None

    def overview(self, number: str) -> Overview:
        account = self._account(number)
        return Overview(
            number=account.number,
            balance=Decimal(account.balance_minor) / 100,
            currency=account.currency,
            status=account.status,
            tariff_option=account.tariff_option,
            caller_id=account.caller_id,
            routing=account.routing,
            trunk_lines=account.trunk_lines,
        )

    def set_routing(self, number: str, routing: str) -> None:
        self._changeable(number).routing = _one_of(routing, ROUTINGS, "routing")
        registrar_changed("multifon", number)
        db.session.commit()

    def set_trunk_lines(self, number: str, lines: int) -> None:
        self._changeable(number).trunk_lines = _trunk_lines(lines)
        registrar_changed("multifon", number)
        db.session.commit()

    def sip_password(self, number: str) -> str:
        return unseal(self._account(number).sip_password_sealed, sealing_context(number))

    def set_sip_password(self, number: str, password: str) -> None:
        _check_sip_password(password)
        self._changeable(number).sip_password_sealed = seal(password, sealing_context(number))
        registrar_changed("multifon", number)
        db.session.commit()

    def disconnect(self, number: str) -> None:
        self._account(number).status = DISCONNECTED
        registrar_changed("multifon", number)
        db.session.commit()

    def calls_per_day(self, number: str, days: int = 30) -> list[tuple[date, int]]:
        account = self._account(number)
        wanted = _last_days(days)
        rows = db.session.execute(
            db.select(MultifonCallDay.day, MultifonCallDay.calls).where(
                MultifonCallDay.account_id == account.id, MultifonCallDay.day >= wanted[0]
            )
        )
        counted = {row.day: row.calls for row in rows}
        return [(day, counted.get(day, 0)) for day in wanted]

    def _account(self, number: str) -> MultifonAccount:
        account = find(number)
        if account is None:
            raise AccountNotFound(number)
        return account

    def _changeable(self, number: str) -> MultifonAccount:
        account = self._account(number)
        if account.status == DISCONNECTED:
            raise AccountDisconnected(number)
        return account
