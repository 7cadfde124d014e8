"""Provisioning by machine (``Connector.provisioning``): the options of ``idp multifon provision``
as a model, checked and stored by the same store functions as the command.

The SIP password is a ``Secret``: it is never shown in a ``repr``, a dump or a validation error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from babel.numbers import is_currency
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, Secret, StringConstraints

from connectors.multifon import store
from connectors.multifon.backend import TRUNK_LINES_MAX, TRUNK_LINES_MIN
from connectors.multifon.numbers import to_e164
from idp.connectors.sdk import ProvisioningRefused

Status = Literal["active", "blocked", "disconnected"]  # backend.STATUSES
Routing = Literal["GSM", "SIP", "SIP+GSM"]  # backend.ROUTINGS
SipPassword = Secret[
    Annotated[
        str,
        StringConstraints(min_length=1, max_length=store.SIP_PASSWORD_MAX, pattern=r"^\S(?:.*\S)?$"),
    ]
]


class ProvisionMultifon(BaseModel):
    """A MultiFon Business account: created, or updated when the number has one."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    number: str = Field(
        min_length=1,
        max_length=32,
        description="The service number (the SIP login), with country code: +7 926 025-07-30.",
    )
    sip_password: SipPassword = Field(
        description=f"The SIP password: 1..{store.SIP_PASSWORD_MAX} printable characters, no spaces "
        "around it. Stored sealed, never returned.",
        json_schema_extra={"writeOnly": True, "format": "password"},
    )
    balance: str = Field(
        "0.00",
        max_length=16,
        pattern=r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$",
        description='The balance, may be negative, at most two decimals: "-12.50".',
    )
    currency: str = Field("RUB", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code.")
    status: Status = Field("active", description="The account's status.")
    tariff_option: str | None = Field(
        None, min_length=1, max_length=100, description="The active tariff option (none: basic)."
    )
    caller_id: str | None = Field(
        None, min_length=1, max_length=32, description="The number shown on outgoing calls (none: not set)."
    )
    routing: Routing = Field("SIP", description="Where incoming calls ring.")
    trunk_lines: int = Field(
        2, ge=TRUNK_LINES_MIN, le=TRUNK_LINES_MAX, strict=True, description="Simultaneous calls."
    )


def check(given: BaseModel) -> str:
    """The account's number in E.164 if the store takes these values; nothing is stored."""
    values = _own(given)
    _refuse_what_the_store_refuses(values)
    try:
        number, _columns = store.checked_values(values.number, _password(values), **_options(values))
    except store.ProvisioningError as exc:  # a rule the checks above do not know yet
        raise ProvisioningRefused(_("The account was refused: %(reason)s", reason=str(exc))) from exc
    return number


def provision(given: BaseModel) -> str:
    """Create the account, or update the one with this number, as ``idp multifon provision`` does;
    its number in E.164."""
    values = _own(given)
    check(values)
    try:
        account = store.provision(values.number, _password(values), **_options(values))
    except store.ProvisioningError as exc:
        raise ProvisioningRefused(_("The account was refused: %(reason)s", reason=str(exc))) from exc
    return account.number


def _refuse_what_the_store_refuses(values: ProvisionMultifon) -> None:
    """The store's rules that the model cannot declare, told in the request's language."""
    if to_e164(values.number) is None:
        raise ProvisioningRefused(_number_refusal(), "number")
    if values.caller_id is not None and to_e164(values.caller_id) is None:
        raise ProvisioningRefused(_number_refusal(), "caller_id")
    if not is_currency(values.currency):
        raise ProvisioningRefused(_("This is not an ISO 4217 currency code."), "currency")
    if not _password(values).isprintable():
        raise ProvisioningRefused(
            _("The SIP password may hold printable characters only, with no spaces around it."),
            "sip_password",
        )


def _number_refusal() -> str:
    return _("This is not a phone number. Give it with the country code, e.g. +7 926 025-07-30.")


def _password(values: ProvisionMultifon) -> str:
    return values.sip_password.get_secret_value()


def _options(values: ProvisionMultifon) -> dict[str, Any]:
    return values.model_dump(exclude={"number", "sip_password"})


def _own(values: BaseModel) -> ProvisionMultifon:
    if not isinstance(values, ProvisionMultifon):
        raise TypeError(f"expected ProvisionMultifon, got {type(values).__name__}")
    return values
