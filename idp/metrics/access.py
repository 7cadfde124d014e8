"""Who may read /metrics: an allowed client address (IDP_METRICS_ALLOW) or the bearer token
(IDP_METRICS_TOKEN). Anyone else is told nothing exists there."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable

from flask import Flask, Request, current_app

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """The networks of IDP_METRICS_ALLOW (a bare address is a network of one)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip()
    )


def init_app(app: Flask) -> None:
    """Parse the allowed networks once (idp.config has already checked them)."""
    app.extensions["idp_metrics_allow"] = parse_networks(app.config["IDP_METRICS_ALLOW"])


def address_allowed(address: str | None, networks: Iterable[Network]) -> bool:
    """Whether ``address`` (IPv4-mapped IPv6 counts as its IPv4) is in one of ``networks``."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def token_presented(request: Request, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>`` (compared in constant time)."""
    if not token:
        return False
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


def admitted(request: Request) -> bool:
    """Whether ``request`` may read the metrics."""
    return address_allowed(
        request.remote_addr, current_app.extensions["idp_metrics_allow"]
    ) or token_presented(request, current_app.config["IDP_METRICS_TOKEN"])
