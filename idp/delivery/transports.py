"""Transports hand a stored message to the outside world.

``deliver`` returns the ids the far side gave the message (SMSC message ids of each part, the
e-mail's Message-ID) or raises ``TransportError``; ``temporary=True`` keeps the message for another
try, ``retry_after`` asks the worker to wait at least that long. A transport that holds a
connection reads what the far side sends in ``poll`` (SMPP delivery receipts) and lets go of it in
``close``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from idp.delivery.models import Message

ReceiptHandler = Callable[[str, str], None]  # (id given by the far side, new message state)


class TransportError(Exception):
    """A message could not be handed over."""

    def __init__(self, reason: str, temporary: bool = True, retry_after: float = 0):
        super().__init__(reason)
        self.temporary = temporary
        self.retry_after = retry_after


class Transport(Protocol):
    name: str
    inline: bool  # True when delivery is instant and needs no worker (the development outbox)

    def deliver(self, message: Message, text: str, html: str | None) -> list[str]:
        """Hand over one message; return the far side's ids; raise TransportError."""

    def poll(self, on_receipt: ReceiptHandler) -> None:
        """Act on whatever the far side sent since the last call, without blocking."""

    def close(self) -> None:
        """Release connections."""


class OutboxTransport:
    """Development transport: the stored message is the delivery, read at /dev/outbox."""

    name = "outbox"
    inline = True

    def deliver(self, message: Message, text: str, html: str | None) -> list[str]:
        return []

    def poll(self, on_receipt: ReceiptHandler) -> None:
        """Nothing ever arrives."""

    def close(self) -> None:
        """Nothing to release."""


TransportFactory = Callable[[Mapping[str, Any]], Transport]
_FACTORIES: dict[str, TransportFactory] = {}


def register_transport(channel: str, factory: TransportFactory) -> None:
    """Let messages of ``channel`` be handed to ``factory(config)``'s transport (the SMS and e-mail
    transports, back-channel logout, jobs: each registers its own channel)."""
    _FACTORIES[channel] = factory


def transport_for(channel: str, config: Mapping[str, Any]) -> Transport:
    """Build the configured transport of a channel."""
    factory = _FACTORIES.get(channel)
    if factory is None:
        raise KeyError(f"no transport for the {channel!r} channel")
    return factory(config)


def is_inline(channel: str, config: Mapping[str, Any]) -> bool:
    """Tell whether a channel delivers at once, without a worker (the development outbox)."""
    if channel not in ("sms", "email"):
        return False
    setting = config["IDP_SMS_TRANSPORT" if channel == "sms" else "IDP_MAIL_TRANSPORT"]
    return setting == "outbox"
