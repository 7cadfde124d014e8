"""Single-use e-mail links of the portal: a password reset, the new password to set after the
password was replaced when somebody's access was taken away, or the confirmation of a new address.

A link works once, until it expires (a reset after IDP_IPTEL_RESET_LINK_MINUTES, a replaced
password's link and a new address after IDP_EMAIL_LINK_HOURS), and only the newest link of each
purpose works.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from connectors.iptel.models import IptelAccount, IptelLink
from idp.connectors.sdk import LinkInvalid, SingleUseLinks

RESET, REPLACED, EMAIL = "reset", "replaced", "email"
SET_PASSWORD = (RESET, REPLACED)  # the links that open the page of a new password

__all__ = ["EMAIL", "LINKS", "REPLACED", "RESET", "SET_PASSWORD", "LinkInvalid", "pending_email"]


def lifetime(purpose: str) -> timedelta:
    """How long a link of ``purpose`` works."""
    config = current_app.config
    if purpose == RESET:
        return timedelta(minutes=config["IDP_IPTEL_RESET_LINK_MINUTES"])
    return timedelta(hours=config["IDP_EMAIL_LINK_HOURS"])


LINKS = SingleUseLinks(
    IptelLink,
    "account_id",
    salt="idp.iptel-link",
    endpoints={RESET: "iptel.reset_password", REPLACED: "iptel.reset_password", EMAIL: "iptel.confirm_email"},
    lifetime=lifetime,
)


def pending_email(account: IptelAccount) -> str | None:
    """The new address waiting for its confirmation link to be followed, or None."""
    newest = LINKS.newest_unused(account.id, EMAIL)
    return newest.email if newest else None
