"""What ``idp demo`` says of the registrar: the demo accounts a softphone can register with."""

from __future__ import annotations

from flask import current_app

from idp.connectors import registry
from idp.registrar import database
from idp.registrar.sync import reconcile


def demo_lines() -> list[str]:
    """Bring the registrar in step with the demo accounts and list their SIP settings (their
    passwords in development only, where the demo data is public)."""
    if not database.enabled():
        return []
    reconcile()
    config = current_app.config
    show_passwords = config["IDP_ENV"] == "development"
    lines = [
        "server      the registrar (`make registrar` runs Kamailio on udp 127.0.0.1:5060 beside `make run`)",
        f"realm       {config['IDP_SIP_REALM']}",
    ]
    for connector in registry.installed().values():
        for account in connector.sip_accounts():
            sip = connector.sip_account(account)
            if sip is None or not sip.may_register:
                continue
            password = f"  password  {sip.password}" if show_passwords else ""
            whose = f"{connector.name('en')} {connector.account_label(account)}"
            lines.append(f"user        {sip.login}{password}  ({whose})")
    return lines
