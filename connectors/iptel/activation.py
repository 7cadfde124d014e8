"""The first login with the initial password: the proven account waits in the browser's session
(for 15 minutes) while its owner chooses a password of their own."""

from __future__ import annotations

from connectors.iptel.accounts import find
from connectors.iptel.models import INACTIVE, IptelAccount
from idp.connectors.sdk import (
    Flow,
)

ACTIVATION = Flow("iptel_activation", minutes=15)


def hold(number: str) -> None:
    """Remember that this browser just proved the initial password of ``number``."""
    ACTIVATION.start(account=number)


def held_account() -> IptelAccount | None:
    """The inactive account this browser proved within the last 15 minutes, or None."""
    held = ACTIVATION.get()
    account = find(held["account"]) if held else None
    return account if account is not None and account.status == INACTIVE else None


def forget() -> None:
    ACTIVATION.end()
