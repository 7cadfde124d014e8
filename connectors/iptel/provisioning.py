"""Provisioning by machine (``Connector.provisioning``): the options of ``idp iptel connect`` as a
model, checked and connected by the same functions as the command (the initial password is
e-mailed to the account's address, never returned)."""

from __future__ import annotations

from typing import Literal

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from connectors.iptel import accounts
from connectors.iptel.models import DISCONNECTED
from idp.connectors.sdk import ProvisioningRefused, read_phone


class ConnectIptel(BaseModel):
    """An IP-telephony account to connect: inactive until the customer changes the e-mailed
    initial password."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(
        min_length=1,
        max_length=32,
        description="The phone number of the service, with country code: +380 44 123 4567.",
    )
    email: str = Field(
        min_length=3, max_length=254, description="Where the initial password and the notices go."
    )
    language: Literal["uk", "ru", "en"] = Field("uk", description="The language of the customer's letters.")
    forwarding_allowed: bool = Field(
        True, strict=True, description="Whether call forwarding is authorised for the subscriber."
    )


def check(given: BaseModel) -> str:
    """The account's number in E.164 if ``connect`` can connect these values; nothing is stored
    or sent."""
    values = _own(given)
    _refuse_what_connect_refuses(values)
    try:
        number, _address = accounts.check_connection(values.number, values.email, values.language)
    except accounts.ConnectError as exc:  # a rule the checks above do not know yet
        raise ProvisioningRefused(_("The account was refused: %(reason)s", reason=str(exc))) from exc
    return number


def provision(given: BaseModel) -> str:
    """Connect the service as ``idp iptel connect`` does (the initial password is e-mailed); the
    account's number in E.164."""
    values = _own(given)
    check(values)
    try:
        account = accounts.connect(
            values.number, values.email, values.language, forwarding_allowed=values.forwarding_allowed
        )
    except accounts.ConnectError as exc:
        raise ProvisioningRefused(_("The account was refused: %(reason)s", reason=str(exc))) from exc
    return account.number


def _refuse_what_connect_refuses(values: ConnectIptel) -> None:
    """The rules of ``accounts.check_connection``, told in the request's language."""
    number = read_phone(values.number)
    if number is None:
        raise ProvisioningRefused(
            _("This is not a phone number. Give it with the country code, e.g. +380 44 123 4567."),
            "number",
        )
    try:
        accounts.normalise_email(values.email)
    except accounts.ConnectError as exc:
        raise ProvisioningRefused(_("This is not an e-mail address."), "email") from exc
    account = accounts.find(number)
    if account is not None and account.status != DISCONNECTED:
        raise ProvisioningRefused(
            _(
                "The service is already connected for this number; its owner can set a new "
                "password with “Forgot password?”."
            ),
            "number",
        )


def _own(values: BaseModel) -> ConnectIptel:
    if not isinstance(values, ConnectIptel):
        raise TypeError(f"expected ConnectIptel, got {type(values).__name__}")
    return values
