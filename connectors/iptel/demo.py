"""Demo data of the embedded default: an active IP-telephony account linked to the demo profile,
and one just connected, whose initial password waits in the development outbox."""

from __future__ import annotations

from contextlib import suppress

from connectors.iptel.accounts import connect, create_active, find, label, verify
from connectors.iptel.forwarding import NO_ANSWER, set_forwarding
from connectors.iptel.models import ACTIVE, DISCONNECTED, IptelAccount
from idp.connectors.sdk import (
    LinkRefused,
    VerifiedAccount,
    link,
    links_of,
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
    return [_linked_line(profile), "open        /services/iptel/", _connected_line(profile)]


def _linked_line(profile) -> str:
    """What is true now of the demo's active account: linked or not, its password changed or not."""
    account = find(LINKED)
    if account is None or account.status == DISCONNECTED:
        return f"{label(LINKED)} was disconnected (`idp iptel connect {LINKED} --email …` connects it again)"
    password = (
        f"password {DEMO_PASSWORD}"
        if verify(LINKED, DEMO_PASSWORD) is not None
        else "its password was changed in the cabinet"
    )
    if any(row.account == LINKED for row in links_of(profile.id, "iptel")):
        return f"account linked to the demo profile: {label(LINKED)} ({password})"
    return f"account {label(LINKED)} ({password}) is linked to another profile"


def _connected_line(profile) -> str:
    """What is true now of the account connected by the demo: waiting for activation, or not."""
    account: IptelAccount | None = find(CONNECTED)
    if account is None or account.status == DISCONNECTED:
        return f"{label(CONNECTED)} was disconnected"
    if account.status == ACTIVE:
        return (
            f"{label(CONNECTED)} was activated with its own password; sign in with it at "
            '/services/iptel/login (or use "Forgot password?" there)'
        )
    return (
        f"just connected: {label(CONNECTED)}; its initial password was e-mailed to "
        f"{account.email} (see /dev/outbox); sign in with it at /services/iptel/login"
    )
