"""What every cabinet page shares: the account's overview, the page frame, refusals and audit."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from connectors.multifon.backend import DISCONNECTED, Overview
from connectors.multifon.service import backend
from idp.connectors.sdk import (
    BackendUnavailable,
    connector,
    current_locale,
    db,
    links_of,
    read_backend,
    record,
)
from idp.connectors.sdk import password_confirmed as confirm_password

CONNECTOR_ID = "multifon"


def service_name(locale: str | None = None, case: str = "nominative") -> str:
    """The service's name in ``locale`` (default: the page's language), in a grammatical ``case``
    (``Connector.name``)."""
    return connector(CONNECTOR_ID).name(locale or current_locale(), case)


def load_overview(link) -> Overview | None:
    """The account's overview, or None when the backend fails (the page says so)."""
    number = link.account
    try:
        return read_backend(lambda: backend().overview(number), "multifon.overview")
    except BackendUnavailable:
        return None


def page(template: str, link, overview: Overview | None, **context):
    """Render a cabinet page inside the frame: header, settings menu and footer."""
    config = current_app.config
    disconnected = overview is not None and overview.status == DISCONNECTED
    return render_template(
        f"multifon/{template}",
        link=link,
        overview=overview,
        service=service_name(),
        service_in=lambda case: service_name(case=case),  # "through %(service)s": accusative
        several_accounts=len(links_of(link.profile_id, CONNECTOR_ID)) > 1,
        knowledge_base_url=config["IDP_MULTIFON_KNOWLEDGE_BASE_URL"],
        configurator_url=config["IDP_MULTIFON_CONFIGURATOR_URL"],
        disconnected=disconnected,
        off_reason=disconnected_text() if disconnected else None,
        **context,
    )


def to_cabinet():
    return redirect(url_for("multifon.cabinet"))


def refusal(overview: Overview | None):
    """Why a change cannot be made now (flashed, and the cabinet shown), or None if it can."""
    if overview is None:
        flash(backend_unavailable_text(), "error")
        return to_cabinet()
    if overview.status == DISCONNECTED:
        flash(disconnected_refusal_text(), "error")
        return to_cabinet()
    return None


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


def backend_unavailable_text() -> str:
    return _(
        "%(service)s is not answering right now; nothing was changed. Try again in a few minutes.",
        service=service_name(),
    )


def audit(event: str, link, **details) -> None:
    """Record a change of the account (never a password) and store it."""
    record(event, link.profile_id, connector=CONNECTOR_ID, account=link.account, **details)
    db.session.commit()


def password_confirmed(form) -> bool:
    """Check the profile's password again (throttled); put the error on the field if it fails."""
    return confirm_password(form, wrong=_("The password of your business profile is wrong."))
