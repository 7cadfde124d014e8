"""The ``services`` claim, made readable: the person's service accounts grouped by organisation.

Business ID's userinfo lists each linked account as ``{"connector", "account", "role",
"organisation": {...} | null, ...the connector's extras, "selected": true?}``. The portal only
reads it: what it shows comes from the provider at each sign-in, so an access taken away is gone
from the page at the next sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

SERVICES = {"multifon": _l("MultiFon Business"), "iptel": _l("IP telephony")}
# role -> (its name, what it allows)
ROLES = {
    "owner": (_l("Owner"), _l("Everything, including the SIP password and colleagues' access")),
    "user": (_l("User"), _l("Can change the settings, but not the SIP password or access")),
    "viewer": (_l("Viewer"), _l("Can only view the account")),
}
STATUSES = {
    "active": _l("Service active"),
    "blocked": _l("Service blocked"),
    "disconnected": _l("Service disconnected"),
    "inactive": _l("Not activated yet"),
}
COUNTRIES = {"UA": _l("Ukraine"), "RU": _l("Russia")}
# How each country names a registration number of so many digits (as Business ID shows it).
NUMBER_KINDS = {"UA": {8: "ЄДРПОУ", 10: "РНОКПП"}, "RU": {10: "ИНН", 12: "ИНН", 13: "ОГРН", 15: "ОГРНИП"}}


@dataclass
class Account:
    """One service account as the page shows it."""

    connector: str
    account: str
    number: str  # the account as people read it: a phone number grouped, "+7 926 025-07-30"
    service: str
    role: str
    role_name: str
    role_note: str
    status: str | None
    selected: bool

    @property
    def number_unbroken(self) -> Markup:
        """The number for a sentence: never broken across two lines."""
        return Markup('<span class="nowrap">{}</span>').format(self.number)


@dataclass
class Organisation:
    """The accounts of one organisation (``id`` None: the accounts that belong to none)."""

    id: str | None
    name: str
    country: str
    number: str
    accounts: list[Account] = field(default_factory=list)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _readable(account: str) -> str:
    """A service number in international format; any other account as it is."""
    if not account.startswith("+"):
        return account
    try:
        number = phonenumbers.parse(account)
    except phonenumbers.NumberParseException:
        return account
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _account(entry: dict) -> Account:
    connector, role = _text(entry.get("connector")), _text(entry.get("role"))
    account = _text(entry.get("account"))
    role_name, role_note = ROLES.get(role, (role, ""))
    status = STATUSES.get(_text(entry.get("status")))
    return Account(
        connector=connector,
        account=account,
        number=_readable(account),
        service=str(SERVICES.get(connector, connector)),
        role=role,
        role_name=str(role_name),
        role_note=str(role_note),
        status=str(status) if status else None,
        selected=entry.get("selected") is True,
    )


def _organisation(value: Any) -> Organisation:
    if not isinstance(value, dict):
        return Organisation(None, "", "", "")
    country, number = _text(value.get("country")), _text(value.get("registration_number"))
    kind = NUMBER_KINDS.get(country, {}).get(len(number))
    return Organisation(
        id=_text(value.get("id")) or None,
        name=_text(value.get("name")),
        country=str(COUNTRIES.get(country, country)),
        number=f"{kind} {number}" if kind else number,
    )


def by_organisation(claim: Any) -> list[Organisation] | None:
    """The accounts of the claim, grouped by organisation (by name; those without one last).

    None when Business ID sent no ``services`` claim (the scope was not granted).
    """
    if not isinstance(claim, list):
        return None
    groups: dict[str | None, Organisation] = {}
    for entry in claim:
        if not isinstance(entry, dict):
            continue
        org = _organisation(entry.get("organisation"))
        groups.setdefault(org.id, org).accounts.append(_account(entry))
    return sorted(groups.values(), key=lambda g: (g.id is None, g.name.casefold(), g.id or ""))


def selected(groups: list[Organisation] | None) -> Account | None:
    """The account chosen at sign-in (``prompt=select_account``), if any."""
    for group in groups or []:
        for account in group.accounts:
            if account.selected:
                return account
    return None
