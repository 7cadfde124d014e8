"""What the SIP registrar holds of an IP-telephony account: it registers once active, with the
portal password, and the forwarding switched on in the cabinet is applied by the proxy."""

from __future__ import annotations

from connectors.iptel.accounts import accounts, find, sealing_context
from connectors.iptel.forwarding import BUSY, NO_ANSWER, UNCONDITIONAL, UNREACHABLE, forwardings
from connectors.iptel.models import ACTIVE
from connectors.iptel.sip import sip_login
from idp.connectors.sdk import SipAccount, unseal


def sip_numbers() -> list[str]:
    return [account.number for account in accounts()]


def sip_account(number: str) -> SipAccount | None:
    """The registrar's view of the account with this E.164 number, or None."""
    account = find(number)
    if account is None:
        return None
    active = account.status == ACTIVE
    targets = {
        condition: forwarding.number if forwarding.enabled and active and account.forwarding_allowed else None
        for condition, forwarding in forwardings(account).items()
    }
    return SipAccount(
        login=sip_login(account.number),
        password=unseal(account.password_sealed, sealing_context(account.number)),
        may_register=active,
        forward_all=targets[UNCONDITIONAL],
        forward_busy=targets[BUSY],
        forward_no_answer=targets[NO_ANSWER],
        no_answer_seconds=forwardings(account)[NO_ANSWER].delay_seconds or 20,
        forward_unreachable=targets[UNREACHABLE],
    )
