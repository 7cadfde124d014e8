"""What the portal's pages share: the frame, the connector, messages for refused changes."""

from __future__ import annotations

from functools import wraps

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from connectors.iptel import accounts
from connectors.iptel.forwarding import ForwardingRefused
from connectors.iptel.models import DISCONNECTED
from idp.connectors.sdk import (
    cabinet_view,
    current_locale,
    db,
    links_of,
    record,
)
from idp.connectors.sdk import connector as installed_connector

CONNECTOR_ID = "iptel"


def connector():
    return installed_connector(CONNECTOR_ID)


def service_name(locale: str | None = None) -> str:
    """The service's name in ``locale`` (default: the page's language)."""
    return connector().name(locale or current_locale())


def page(template: str, link, account, **context):
    """Render a cabinet page inside the frame: header, settings menu and footer."""
    return render_template(
        f"iptel/{template}",
        link=link,
        account=account,
        service=service_name(),
        several_accounts=len(links_of(link.profile_id, CONNECTOR_ID)) > 1,
        disconnected=account.status == DISCONNECTED,
        off_reason=disconnected_text() if account.status == DISCONNECTED else None,
        **context,
    )


def disconnected_text() -> str:
    """Why a disconnected account's settings cannot be changed and who connects it again, shown
    beside the controls it disables (as a role's refusal is)."""
    return _(
        "The service is disconnected for this account, so its settings cannot be changed. "
        "Only the operator can connect it again: contact your manager."
    )


def disconnected_refusal_text() -> str:
    """What a form sent for a disconnected account is told (from a tab opened before)."""
    return _("Nothing was changed: the service is disconnected for this account.")


def portal_page(template: str, **context):
    """Render a page of the portal outside the cabinet (activation, forgot password, links)."""
    return render_template(f"iptel/{template}", service=service_name(), **context)


def to_cabinet():
    return redirect(url_for("iptel.cabinet"))


def to_login():
    return redirect(url_for("services.login", connector_id=CONNECTOR_ID))


def account_view(view=None, *, role: str | None = None):
    """A cabinet view (``cabinet_view``, with the least ``role`` it needs: by default every role
    sees a page and a user posts its form) that also gets the active link's account."""
    if view is None:
        return lambda function: account_view(function, role=role)

    @cabinet_view(role=role)
    @wraps(view)
    def wrapped(link, *args, **kwargs):
        account = accounts.find(link.account)
        if account is None:  # the operator removed it from the database
            flash(_("This account is no longer connected."), "error")
            return redirect(url_for("profiles.home"))
        return view(link, account, *args, **kwargs)

    return wrapped


def audit(event: str, link, **details) -> None:
    """Record a change of the account (never a password or a number it forwards to)."""
    record(event, link.profile_id, connector=CONNECTOR_ID, account=link.account, **details)
    db.session.commit()


def forwarding_error(reason: str) -> str:
    """Why a forwarding could not be set, in the page's language."""
    texts = {
        ForwardingRefused.INVALID_NUMBER: _(
            "Enter a valid phone number with its country code, e.g. +380 67 123 4567."
        ),
        ForwardingRefused.OWN_NUMBER: _(
            "Calls cannot be forwarded to this account's own number. Enter another number."
        ),
        ForwardingRefused.NO_NUMBER: _("Enter the number to forward calls to."),
        ForwardingRefused.BAD_DELAY: _("Choose how long the phone rings before calls are forwarded."),
        ForwardingRefused.NOT_ALLOWED: _(
            "Call forwarding is not authorised for this account. Ask your manager to order it."
        ),
        ForwardingRefused.DISCONNECTED: disconnected_refusal_text(),
    }
    return texts.get(reason, _("This forwarding cannot be set."))
