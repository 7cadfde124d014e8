"""The "SIP data" of an account: what a phone needs to register, all but the password."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class SipData:
    login: str  # the number's digits with the country code, no "+"
    server: str  # the registrar
    port: int
    transport: str  # udp, tcp or tls
    outbound_proxy: str | None
    realm: str


def sip_data(number: str) -> SipData:
    """The SIP data of the account with this E.164 number, from the configuration."""
    config = current_app.config
    server = config["IDP_IPTEL_SIP_SERVER"]
    return SipData(
        login=sip_login(number),
        server=server,
        port=config["IDP_IPTEL_SIP_PORT"],
        transport=config["IDP_IPTEL_SIP_TRANSPORT"],
        outbound_proxy=config["IDP_IPTEL_OUTBOUND_PROXY"] or None,
        # The registrar kept by Business ID (idp.registrar) authenticates in its one realm.
        realm=config["IDP_IPTEL_SIP_REALM"]
        or (config["IDP_SIP_REALM"] if config["IDP_REGISTRAR_DATABASE_URL"] else server),
    )


def sip_login(number: str) -> str:
    """The SIP user name of an account: its number without the "+"."""
    return number.lstrip("+")
