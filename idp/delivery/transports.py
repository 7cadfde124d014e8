"""Transports hand a stored message to the outside world.

A transport's ``deliver`` either returns (the message left) or raises ``TransportError``; with
``temporary=True`` the message is kept for another try. The development outbox keeps messages in
the database, where ``idp outbox list`` and ``/dev/outbox`` show them.
"""

from __future__ import annotations

from typing import Protocol

from idp.delivery.models import Message


class TransportError(Exception):
    """A message could not be handed over."""

    def __init__(self, reason: str, temporary: bool = True):
        super().__init__(reason)
        self.temporary = temporary


class Transport(Protocol):
    name: str

    def deliver(self, message: Message, text: str, html: str | None) -> None:
        """Hand over one message; raise TransportError when it could not be."""


class OutboxTransport:
    """Development transport: the stored message is the delivery."""

    name = "outbox"

    def deliver(self, message: Message, text: str, html: str | None) -> None:
        """Nothing leaves the machine; the row in ``messages`` is what a developer reads."""


def transport_for(channel: str, config: dict) -> Transport:
    """Return the configured transport of a channel (``sms`` or ``email``)."""
    setting = config["IDP_SMS_TRANSPORT" if channel == "sms" else "IDP_MAIL_TRANSPORT"]
    transports = {"outbox": OutboxTransport}
    return transports[setting]()
