"""The first login with the initial password: the proven account waits in the browser's session
(for 15 minutes) while its owner chooses a password of their own."""

from __future__ import annotations

from flask import session

from connectors.iptel.accounts import find
from connectors.iptel.models import INACTIVE, IptelAccount
from idp.timeutil import utcnow

SESSION_KEY = "iptel_activation"
SECONDS = 15 * 60


def hold(number: str) -> None:
    """Remember that this browser just proved the initial password of ``number``."""
    session[SESSION_KEY] = {"account": number, "at": utcnow().timestamp()}


def held_account() -> IptelAccount | None:
    """The inactive account this browser proved within the last 15 minutes, or None."""
    held = session.get(SESSION_KEY)
    if not held or utcnow().timestamp() - held["at"] > SECONDS:
        return None
    account = find(held["account"])
    return account if account is not None and account.status == INACTIVE else None


def forget() -> None:
    session.pop(SESSION_KEY, None)
