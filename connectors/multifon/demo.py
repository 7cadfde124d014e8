"""Demo data of the embedded default: two MultiFon accounts linked to the demo profile, one not;
the lines ``idp demo`` prints about them."""

from __future__ import annotations

from connectors.multifon.backend import ACTIVE
from connectors.multifon.numbers import label
from connectors.multifon.store import ProvisioningStore, find, provision, seed_calls
from idp.connectors.sdk import (
    LinkRefused,
    VerifiedAccount,
    link,
    links_of,
)

DEMO_SIP_PASSWORD = "MultiF0nDemo"  # noqa: S105 - public demo data, printed by `idp demo`
LINKED = (
    ("+79260250730", {"balance": "-748822.93", "routing": "SIP", "trunk_lines": 2}),
    (
        "+79260250731",
        {
            "balance": "15240.50",
            "tariff_option": "Business 500",
            "caller_id": "+74951234567",
            "routing": "SIP+GSM",
            "trunk_lines": 5,
        },
    ),
)
UNLINKED = ("+79260250732", {"balance": "300.00", "routing": "GSM", "trunk_lines": 1})


def ensure_demo_accounts(profile) -> list[str]:
    """Provision the demo accounts unless they exist (changes made in the cabinet are kept)."""
    for number, values in (*LINKED, UNLINKED):
        if find(number) is None:
            provision(number, DEMO_SIP_PASSWORD, **values)
            seed_calls(number)
    for number, _values in LINKED:
        try:
            link(profile, "multifon", VerifiedAccount(number, label(number)))
        except LinkRefused:
            continue  # somebody linked it to another profile: leave it there
    mine = {row.account for row in links_of(profile.id, "multifon")}
    linked = ", ".join(_shown(number) for number, _values in LINKED if number in mine)
    lines = [f"accounts linked to the demo profile: {linked}"] if linked else []
    lines.append("open        /services/multifon/")
    number = UNLINKED[0]
    if number in mine:
        lines.append(f"{label(number)} is linked too (it was linked in the cabinet)")
    elif _status(number) == ACTIVE:
        lines.append(
            "to link one more, sign out of the cabinet and sign in at /services/multifon/login "
            f"with  {label(number)}  and {_password(number)}"
        )
    return lines


def _status(number: str) -> str | None:
    account = find(number)
    return account.status if account else None


def _password(number: str) -> str:
    """The SIP password to print: the demo's, unless it was changed since."""
    if ProvisioningStore().verify(number, DEMO_SIP_PASSWORD):
        return f"SIP password  {DEMO_SIP_PASSWORD}"
    return "its SIP password (it was changed since the demo made it)"


def _shown(number: str) -> str:
    """A linked account as printed: its number, and what is not the demo's default any more."""
    status = _status(number)
    if status != ACTIVE:
        return f"{label(number)} ({status})"
    if not ProvisioningStore().verify(number, DEMO_SIP_PASSWORD):
        return f"{label(number)} (SIP password changed)"
    return label(number)
