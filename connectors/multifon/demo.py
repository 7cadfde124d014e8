"""Demo data of the embedded default: two MultiFon accounts linked to the demo profile, one not;
the lines ``idp demo`` prints about them."""

from __future__ import annotations

from connectors.multifon.numbers import label
from connectors.multifon.store import find, provision, seed_calls
from idp.connectors.sdk import (
    LinkRefused,
    VerifiedAccount,
    link,
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
    linked = ", ".join(label(number) for number, _values in LINKED)
    return [
        f"accounts linked to the demo profile: {linked}",
        "open        /services/multifon/",
        "to link one more, sign out of the cabinet and sign in at /services/multifon/login "
        f"with  {label(UNLINKED[0])}  and SIP password  {DEMO_SIP_PASSWORD}",
    ]
