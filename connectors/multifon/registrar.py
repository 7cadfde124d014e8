"""What the SIP registrar holds of a MultiFon Business account: it registers while active, with
its SIP password, and the proxy applies its incoming-call routing and its trunk-line limit.

Only accounts of the built-in provisioning store are kept in the registrar; an operator's own
MultiFon platform (``IDP_MULTIFON_BACKEND``) keeps its own registrar.
"""

from __future__ import annotations

from connectors.multifon.backend import ACTIVE
from connectors.multifon.service import backend
from connectors.multifon.store import ProvisioningStore, accounts, find, sealing_context
from idp.connectors.sdk import SipAccount, unseal


def _built_in() -> bool:
    return isinstance(backend(), ProvisioningStore)


def sip_numbers() -> list[str]:
    return [account.number for account in accounts()] if _built_in() else []


def sip_account(number: str) -> SipAccount | None:
    """The registrar's view of the account with this E.164 number, or None."""
    account = find(number) if _built_in() else None
    if account is None:
        return None
    return SipAccount(
        login=account.number.lstrip("+"),
        password=unseal(account.sip_password_sealed, sealing_context(account.number)),
        may_register=account.status == ACTIVE,
        routing=account.routing,
        trunk_lines=account.trunk_lines,
    )
