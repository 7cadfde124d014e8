"""The connector's ``IDP_IPTEL_*`` settings (listed by ``idp config docs``)."""

from __future__ import annotations

import re

from idp.connectors.sdk import (
    Setting,
    choice,
    positive_int,
    rate_limits,
)

TRANSPORTS = ("udp", "tcp", "tls")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


def _host(value: str) -> str:
    value = value.strip()
    if not _HOST.match(value):
        raise ValueError("must be a host name or an IP address")
    return value


def _optional_host(value: str) -> str:
    return _host(value) if value.strip() else ""


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise ValueError("must be a port number, 1..65535")
    return port


SETTINGS = (
    Setting(
        "IDP_IPTEL_SIP_SERVER",
        "sip.iptel.example",
        'SIP server (registrar) that IP-telephony phones register with, shown on the "SIP data" page.',
        _host,
    ),
    Setting("IDP_IPTEL_SIP_PORT", 5060, "Port of the SIP server.", _port),
    Setting(
        "IDP_IPTEL_SIP_TRANSPORT", "udp", "Transport of the SIP server: udp, tcp or tls.", choice(*TRANSPORTS)
    ),
    Setting(
        "IDP_IPTEL_OUTBOUND_PROXY",
        "",
        "Outbound proxy the phones must use (a host name or an IP address); empty: none.",
        _optional_host,
    ),
    Setting(
        "IDP_IPTEL_SIP_REALM",
        "",
        "SIP realm (authentication domain); empty: the SIP server's name.",
        _optional_host,
    ),
    Setting("IDP_IPTEL_RESET_LINK_MINUTES", 60, 'Lifetime of a "Forgot password?" link.', positive_int),
    Setting(
        "IDP_IPTEL_RESETS_PER_HOUR",
        3,
        '"Forgot password?" letters one account may be sent in an hour.',
        positive_int,
    ),
    Setting(
        "IDP_IPTEL_FORGOT_LIMIT_IP",
        "20/hour",
        '"Forgot password?" requests allowed per client address.',
        rate_limits,
    ),
)
