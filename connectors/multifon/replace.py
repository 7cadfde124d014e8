"""A new SIP password after somebody's access to the account was taken away (J8): generated here,
stored sealed like a change in the cabinet, and sent by SMS to the service number only."""

from __future__ import annotations

import logging
import re
import secrets
import string
from collections.abc import Callable

from connectors.multifon.backend import AccountNotFound
from connectors.multifon.numbers import label
from connectors.multifon.service import backend
from connectors.multifon.store import AccountDisconnected
from idp.connectors.sdk import (
    BackendUnavailable,
    broken_rules,
    current_locale,
    record,
    register_kind,
    send,
    write_backend,
)

log = logging.getLogger("connectors.multifon")

MESSAGE_KIND = "multifon_sip_password_replaced"  # templates/messages/multifon_sip_password_replaced.txt
# Easy to copy from an SMS into a phone: no 0/O, 1/l/I.
ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
LENGTH = 14
CHARACTER_KINDS = ("[A-Z]", "[a-z]", "[0-9]")  # each at least once, whatever the configured rules


def register_message_kind() -> None:
    """Let the delivery service send the SMS with the replaced password."""
    register_kind(MESSAGE_KIND, "sms")


def new_sip_password() -> str:
    """A random SIP password that meets the password rules (those of a change in the cabinet)."""
    while True:
        password = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if all(re.search(kind, password) for kind in CHARACTER_KINDS) and not broken_rules(password):
            return password


def replace_sip_password(number: str, service_name: Callable[[str], str]) -> bool:
    """Give ``number`` a new SIP password and SMS it to the number (``service_name(locale)`` names
    the service in it); False when the service has no such account, is disconnected (nothing
    registers any more) or does not answer."""
    password = new_sip_password()
    try:
        write_backend(lambda: backend().set_sip_password(number, password), "multifon.replace_sip_password")
    except BackendUnavailable as exc:
        if not isinstance(exc.__cause__, (AccountNotFound, AccountDisconnected)):
            log.warning("the SIP password of an account could not be replaced")
        return False
    # The caller's transaction (a revocation) is committed with the SMS, which ``send`` stores.
    record("multifon.sip_password_replaced", None, connector="multifon", account=number)
    locale = current_locale()
    send(
        MESSAGE_KIND,
        number,
        locale,
        service=service_name(locale),
        number=label(number),
        password=password,
    )
    return True
