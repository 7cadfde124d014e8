"""Demo data of the embedded default: an active IP-telephony account linked to the demo profile,
and one just connected, whose initial password waits in the development outbox."""

from __future__ import annotations

from contextlib import suppress

from connectors.iptel.accounts import connect, create_active, find, label
from connectors.iptel.forwarding import NO_ANSWER, set_forwarding
from idp.connectors.sdk import (
    LinkRefused,
    VerifiedAccount,
    link,
)

DEMO_PASSWORD = "IpTel3Demo"  # noqa: S105 - public demo data, printed by `idp demo`
LINKED = "+380442270001"
CONNECTED = "+380442270002"


def ensure_demo_accounts(profile) -> list[str]:
    """Create the demo accounts unless they exist; return what ``idp demo`` prints."""
    if find(LINKED) is None:
        account = create_active(LINKED, profile.email, DEMO_PASSWORD, profile.locale)
        set_forwarding(account, NO_ANSWER, enabled=True, number="+380671234567", delay_seconds=20)
    if find(CONNECTED) is None:
        connect(CONNECTED, profile.email, profile.locale)
    with suppress(LinkRefused):  # somebody linked it to another profile: leave it there
        link(profile, "iptel", VerifiedAccount(LINKED, label(LINKED)))
    return [
        f"account linked to the demo profile: {label(LINKED)} (password {DEMO_PASSWORD})",
        "open        /services/iptel/",
        f"just connected: {label(CONNECTED)}; its initial password was e-mailed to "
        f"{profile.email} (see /dev/outbox); sign in with it at /services/iptel/login",
    ]
