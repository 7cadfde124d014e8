""" "Forgot password?" (seed 000): the reset link is sent by the delivery worker, and a reset ends the
account's links to business profiles. Also the password replaced after somebody's access to the
account was taken away (J8): a link to the address, which keeps the links the owner left.

The page stores one job for any number it is given and answers at once, so a known number and an
unknown one cost the same and look the same; the worker finds the account and sends the letter.
A password restored through the service's own recovery proves the address, not the profiles that
linked the account before with an older password: their links end, the address is told, and the
next linking makes its profile the owner.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from connectors.iptel import accounts, links, notices
from connectors.iptel.models import DISCONNECTED, IptelAccount
from idp.connectors.sdk import (
    account_links,
    db,
    enqueue,
    register_job,
    serialize_on,
    unlink,
)

RESET_JOB = "iptel_reset_request"


def register_jobs() -> None:
    """Let the worker send reset links."""
    register_job(RESET_JOB, send_reset_link)


def request_reset(number: str) -> None:
    """Ask for a reset link for ``number``: the same work whether or not the account exists."""
    enqueue(RESET_JOB, {"number": number})


def send_reset_link(payload: dict) -> None:
    """The worker's part: a link to the account's address, at most IDP_IPTEL_RESETS_PER_HOUR."""
    account = accounts.find(str(payload.get("number", "")))
    if account is None or account.status == DISCONNECTED:
        return
    serialize_on(f"iptel-reset:{account.id}")  # two workers never both pass the count below
    per_hour = current_app.config["IDP_IPTEL_RESETS_PER_HOUR"]
    if links.LINKS.sent_since(account.id, links.RESET, timedelta(hours=1)) >= per_hour:
        db.session.commit()
        return  # the owner already has fresh links; more letters would only be a nuisance
    url = links.LINKS.issue(account.id, links.RESET, account.email)
    notices.reset_link(account, url, current_app.config["IDP_IPTEL_RESET_LINK_MINUTES"])


def replace_password(number: str) -> bool:
    """After somebody's access was taken away: a password nobody knows, and a link to the
    account's address to set a new one (J8). False when there is no such account or it is
    disconnected (its password already works nowhere)."""
    account = accounts.find(number)
    if account is None or account.status == DISCONNECTED:
        return False
    accounts.make_password_unusable(account)
    url = links.LINKS.issue(account.id, links.REPLACED, account.email)  # commits the new password
    notices.password_replaced(account, url, current_app.config["IDP_EMAIL_LINK_HOURS"])
    return True


def end_links_after_reset(account: IptelAccount) -> int:
    """End every link of the account to a business profile; tell the address. Return how many."""
    ended = account_links("iptel", account.number)
    for link in ended:
        unlink(link, None, "service_password_reset")
    if ended:
        notices.links_ended(account, len(ended))
    return len(ended)
