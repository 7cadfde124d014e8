"""How the portal shows an account: its status, the forwarding conditions, the home card."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from connectors.iptel.accounts import label
from connectors.iptel.forwarding import BUSY, NO_ANSWER, UNCONDITIONAL, UNREACHABLE, forwardings
from connectors.iptel.models import ACTIVE, DISCONNECTED, INACTIVE
from idp.connectors.sdk import (
    Card,
    display_phone,
)

STATUS_TEXTS = {
    ACTIVE: _l("Service active"),
    INACTIVE: _l("Inactive until the first password change"),
    DISCONNECTED: _l("Service disconnected"),
}
STATUS_BADGES = {ACTIVE: "ok", INACTIVE: "warn", DISCONNECTED: "off"}
CONDITION_TEXTS = {
    UNCONDITIONAL: _l("All calls"),
    BUSY: _l("When the line is busy"),
    NO_ANSWER: _l("When there is no answer"),
    UNREACHABLE: _l("When the phone is unreachable"),
}
CONDITION_HINTS = {
    UNCONDITIONAL: _l("Every call goes straight to the number; your phones do not ring."),
    BUSY: _l("Calls that come while you are on the phone go to the number."),
    NO_ANSWER: _l("Calls you do not answer within the delay go to the number."),
    UNREACHABLE: _l(
        "Calls go to the number while no phone of yours is registered (switched off, no internet)."
    ),
}


def status_text(status: str) -> str:
    return str(STATUS_TEXTS.get(status, status))


def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "off")


def condition_text(condition: str) -> str:
    return str(CONDITION_TEXTS[condition])


def forwarding_summary(account) -> list[str]:
    """One line per forwarding that is on, or "Call forwarding is off"."""
    lines = [
        _("%(condition)s → %(number)s", condition=condition_text(f.condition), number=display_phone(f.number))
        for f in forwardings(account).values()
        if f.enabled
    ]
    return lines or [_("Call forwarding is off")]


def home_card(link, account) -> Card:
    """The account's card on the profile's home: number, status, forwarding that is on."""
    if account is None:
        return Card(
            title=_("Phone number"),
            value=link.label,
            link_id=link.id,
            degraded=True,
            lines=[_("This account is no longer connected.")],
        )
    return Card(
        title=_("Phone number"),
        value=link.label,
        link_id=link.id,
        lines=forwarding_summary(account),
        status=status_badge(account.status),
        status_text=status_text(account.status),
    )


def template_helpers() -> dict:
    """What the portal's templates use to show an account."""
    return {
        "status_text": status_text,
        "status_badge": status_badge,
        "condition_text": condition_text,
        "condition_hints": CONDITION_HINTS,
        "display_number": display_phone,
        "number_label": label,
    }
