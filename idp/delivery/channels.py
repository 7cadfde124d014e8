"""The delivery channels of the core: SMS, e-mail and jobs, each with its configured transport.

Other channels register themselves the same way (back-channel logout: ``idp.oauth.backchannel``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from idp.delivery.jobs import CHANNEL as JOB_CHANNEL
from idp.delivery.jobs import JobTransport
from idp.delivery.smpp import SmppTransport
from idp.delivery.smtp import SmtpTransport
from idp.delivery.transports import OutboxTransport, Transport, register_transport


def _sms(config: Mapping[str, Any]) -> Transport:
    if config["IDP_SMS_TRANSPORT"] == "smpp":
        return SmppTransport.from_config(config)
    return OutboxTransport()


def _email(config: Mapping[str, Any]) -> Transport:
    return SmtpTransport() if config["IDP_MAIL_TRANSPORT"] == "smtp" else OutboxTransport()


def register_channels() -> None:
    """Register the transports of the core's channels (at app start)."""
    register_transport("sms", _sms)
    register_transport("email", _email)
    register_transport(JOB_CHANNEL, lambda config: JobTransport())
