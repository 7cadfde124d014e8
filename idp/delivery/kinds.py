"""The kinds of message the product sends: channel, subject and template of each.

Templates live in ``ui/templates/messages/``: ``<kind>.txt`` for every message and ``<kind>.html``
for e-mails. They are rendered in the recipient's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class MessageKind:
    channel: str
    subject: LazyString | None = None


KINDS: dict[str, MessageKind] = {
    "sms_code": MessageKind("sms"),
    "sms_already_registered": MessageKind("sms"),
    "sms_no_profile": MessageKind("sms"),
    "sms_phone_changed": MessageKind("sms"),
    "sms_test": MessageKind("sms"),
    "email_test": MessageKind("email", _l("Test message")),
    "email_confirm": MessageKind("email", _l("Confirm your e-mail address")),
    "email_change_confirm": MessageKind("email", _l("Confirm your new e-mail address")),
    "email_changed_old": MessageKind("email", _l("The e-mail address of your profile was changed")),
    "email_changed_new": MessageKind("email", _l("This is now the e-mail address of your profile")),
    "password_changed": MessageKind("email", _l("The password of your profile was changed")),
    "password_restored": MessageKind("email", _l("The password of your profile was restored")),
    "phone_changed": MessageKind("email", _l("The phone number of your profile was changed")),
    "name_changed": MessageKind("email", _l("The name in your profile was changed")),
    "two_factor_changed": MessageKind("email", _l("Two-step sign-in settings were changed")),
}


def register_kind(kind: str, channel: str, subject: LazyString | None = None) -> None:
    """Add a connector's message kind; its template is ``messages/<kind>.txt`` on the app's loader
    (a connector's blueprint ``template_folder`` is on it)."""
    existing = KINDS.get(kind)
    if existing is not None and existing != MessageKind(channel, subject):
        raise ValueError(f"message kind {kind!r} is already registered differently")
    KINDS[kind] = MessageKind(channel, subject)
