"""The portal's letters, in the account's language: the initial password, activation, password and
address changes, the reset link and the confirmation of a new address. Templates:
``templates/messages/iptel_*.txt`` and ``.html``; the delivery service stores them encrypted."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from connectors.iptel.sip import sip_data
from idp.connectors.sdk import connector as installed_connector
from idp.connectors.sdk import (
    display_phone,
    external_url,
    register_kind,
    send,
)

KINDS = {
    "iptel_initial_password": _l("Your IP-telephony service is connected"),
    "iptel_activated": _l("Your IP-telephony service is active"),
    "iptel_password_changed": _l("The password of your IP-telephony service was changed"),
    "iptel_reset_link": _l("Restore the password of your IP-telephony service"),
    "iptel_email_confirm": _l("Confirm the new e-mail address of your IP-telephony service"),
    "iptel_email_changed_old": _l("The e-mail address of your IP-telephony service was changed"),
    "iptel_email_changed_new": _l("This is now the e-mail address of your IP-telephony service"),
    "iptel_links_ended": _l("Your IP-telephony account was unlinked from business profiles"),
    "iptel_password_replaced": _l("Access to your IP-telephony service changed: set a new password"),
}


def register_message_kinds() -> None:
    """Let the delivery service send the portal's letters."""
    for kind, subject in KINDS.items():
        register_kind(kind, "email", subject)


def _send(kind: str, account, to: str | None = None, **context) -> None:
    send(
        kind,
        to or account.email,
        account.language,
        service=installed_connector("iptel").name(account.language),
        number=display_phone(account.number),
        portal_url=external_url("services.login", connector_id="iptel"),
        **context,
    )


def initial_password(account, password: str) -> None:
    """The initial password, which works only to set a new one."""
    _send("iptel_initial_password", account, password=password)


def activated(account) -> None:
    """The service is active: what to enter in a phone (the SIP data, without the password)."""
    _send("iptel_activated", account, sip=sip_data(account.number))


def password_changed(account, how: str) -> None:
    """The password was changed in the portal or restored by a link (never the password itself)."""
    _send("iptel_password_changed", account, how=how, forgot_url=external_url("iptel.forgot_password"))


def reset_link(account, url: str, minutes: int) -> None:
    _send("iptel_reset_link", account, url=url, minutes=minutes)


def password_replaced(account, url: str, hours: int) -> None:
    """Somebody's access was taken away, so the password was replaced: a link to set a new one."""
    _send(
        "iptel_password_replaced",
        account,
        url=url,
        hours=hours,
        forgot_url=external_url("iptel.forgot_password"),
    )


def links_ended(account, count: int) -> None:
    """A restored password ended the links of the account to business profiles."""
    _send("iptel_links_ended", account, count=count)


def email_confirmation(account, new_email: str, url: str, hours: int) -> None:
    _send("iptel_email_confirm", account, to=new_email, url=url, hours=hours)


def email_changed(account, old_email: str) -> None:
    """Both addresses learn of the change: the new one that it works, the old one in case it was
    somebody else."""
    _send("iptel_email_changed_old", account, to=old_email, new_email=account.email)
    _send("iptel_email_changed_new", account, old_email=old_email)
