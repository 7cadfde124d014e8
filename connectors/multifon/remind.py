""" "Remind password": the current SIP password by SMS to the service number, a few times a day."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from connectors.multifon.models import MultifonReminder
from connectors.multifon.numbers import label
from connectors.multifon.service import backend
from idp.connectors.sdk import (
    BackendUnavailable,
    db,
    read_backend,
    record,
    register_kind,
    send,
    serialize_on,
    utcnow,
)

MESSAGE_KIND = "multifon_sip_password"  # template: templates/messages/multifon_sip_password.txt
WINDOW = timedelta(hours=24)


class RemindLimitReached(Exception):
    """The account was sent its SIP password IDP_MULTIFON_REMIND_PER_DAY times in 24 hours."""


def register_message_kind() -> None:
    """Let the delivery service send the SIP password SMS."""
    register_kind(MESSAGE_KIND, "sms")


def reminders_left(number: str) -> int:
    """How many more SIP password SMS the account may be sent now."""
    sent = db.session.scalar(
        db.select(db.func.count(MultifonReminder.id)).where(
            MultifonReminder.number == number, MultifonReminder.sent_at > utcnow() - WINDOW
        )
    )
    return max(0, current_app.config["IDP_MULTIFON_REMIND_PER_DAY"] - sent)


def send_sip_password(profile, number: str, service_name: str) -> None:
    """SMS the current SIP password to the service number in the profile's language.

    Raises RemindLimitReached, or BackendUnavailable when the password cannot be read. The
    password is only in the SMS, which the delivery service stores encrypted; the audit trail
    and the logs get the account alone.
    """
    reminder = _take_reminder(number, profile.id)
    try:
        password = read_backend(lambda: backend().sip_password(number), "multifon.sip_password")
    except BackendUnavailable:
        db.session.delete(reminder)  # nothing was sent: the reminder is not spent
        db.session.commit()
        raise
    record("multifon.password_reminded", profile.id, account=number)
    db.session.commit()
    send(
        MESSAGE_KIND,
        number,
        profile.locale,
        profile_id=profile.id,
        service=service_name,
        number=label(number),
        password=password,
    )


def _take_reminder(number: str, profile_id: int) -> MultifonReminder:
    """Count one reminder of the day for ``number``, or raise RemindLimitReached: the count and
    the new row are one step for simultaneous requests (``serialize_on``)."""
    serialize_on(f"multifon-remind:{number}")
    if reminders_left(number) <= 0:
        db.session.commit()
        raise RemindLimitReached()
    reminder = MultifonReminder(number=number, profile_id=profile_id)
    db.session.add(reminder)
    db.session.commit()
    return reminder
