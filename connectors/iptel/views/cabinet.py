"""The cabinet (seed 000): the account's status, call forwarding, SIP data and phone set-up help,
changes of e-mail and password. Opened from the business profile without the service password.

Roles: every role sees the cards, the forwarding, the SIP data (never the password) and the set-up
help; a user also sets forwarding; only the owner changes the password (it is the SIP password) and
the e-mail address (where the password's reset links go, so it is the password's too).
"""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from connectors.iptel import accounts, links, notices
from connectors.iptel.forms import ChangeEmailForm, ChangePasswordForm, ForwardingForm
from connectors.iptel.forwarding import (
    CONDITIONS,
    NO_ANSWER,
    ForwardingRefused,
    forwardings,
    set_forwarding,
)
from connectors.iptel.models import DISCONNECTED
from connectors.iptel.presenting import condition_text
from connectors.iptel.sip import sip_data
from connectors.iptel.views.blueprint import bp
from connectors.iptel.views.common import (
    account_view,
    audit,
    connector,
    disconnected_refusal_text,
    forwarding_error,
    page,
    to_cabinet,
)
from idp.connectors.sdk import (
    OWNER,
    USER,
    VIEWER,
    BackendUnavailable,
    Locked,
    Throttled,
    WrongCredentials,
    credential_error,
    letter_refusal,
    verify_service_login,
)


@bp.get("/cabinet")
@account_view(role=VIEWER)
def cabinet(link, account):
    """The cabinet's cards: status, call forwarding, SIP data, e-mail."""
    return page("cabinet.html", link, account, forwarding=forwardings(account), sip=sip_data(account.number))


@bp.get("/forwarding")
@account_view(role=VIEWER)
def forwarding(link, account):
    """Every forwarding condition with its number, its switch and (no answer) its delay."""
    return page("forwarding.html", link, account, forms=_forwarding_forms(account))


def _forwarding_forms(account, posted: str | None = None, posted_form=None) -> dict:
    forms = {}
    for condition, current in forwardings(account).items():
        if condition == posted:
            forms[condition] = posted_form
            continue
        form = ForwardingForm(
            formdata=None,
            prefix=condition,
            number=accounts.label(current.number) if current.number else "",
            enabled=current.enabled,
            delay=current.delay_seconds,
        )
        forms[condition] = form
    return forms


@bp.post("/forwarding/<condition>")
@account_view(role=USER)
def set_forwarding_view(link, account, condition: str):
    """Save one condition: switch it on to a number, or off (its number is kept)."""
    if condition not in CONDITIONS:
        return redirect(url_for("iptel.forwarding"))
    if refused := _refused_when_disconnected(account):
        return refused
    form = ForwardingForm(prefix=condition)
    if form.validate_on_submit():
        try:
            result = set_forwarding(
                account,
                condition,
                enabled=form.enabled.data,
                number=(form.number.data or "").strip() or None,
                delay_seconds=form.delay.data if condition == NO_ANSWER else None,
                profile_id=link.profile_id,
            )
        except ForwardingRefused as refused:
            form.number.errors = [*form.number.errors, forwarding_error(refused.reason)]
        else:
            flash(
                _(
                    "Forwarding is on: %(condition)s → %(number)s.",
                    condition=condition_text(condition),
                    number=accounts.label(result.number),
                )
                if result.enabled
                else _("Forwarding is off: %(condition)s.", condition=condition_text(condition)),
                "success",
            )
            return redirect(url_for("iptel.forwarding"))
    return page(
        "forwarding.html", link, account, forms=_forwarding_forms(account, condition, form), failed=condition
    ), 400


@bp.get("/sip-data")
@account_view(role=VIEWER)
def sip(link, account):
    """What a phone needs to register: everything but the password, which is the portal's."""
    return page("sip_data.html", link, account, sip=sip_data(account.number))


@bp.get("/setup")
@account_view(role=VIEWER)
def setup(link, account):
    """How to set up a softphone and a hardware SIP phone with the SIP data."""
    return page("setup.html", link, account, sip=sip_data(account.number))


def _current_password_ok(form, link) -> bool:
    """Check the service's current password (throttled like its login); the field tells why not."""
    try:
        verify_service_login(connector(), link.account, form.current_password.data)
        return True
    except (WrongCredentials, Throttled, Locked) as error:
        form.current_password.errors.append(
            _("The current password is wrong.")
            if isinstance(error, WrongCredentials)
            else credential_error(error)
        )
    except BackendUnavailable:
        form.current_password.errors.append(
            _("The password cannot be checked right now. Try again in a few minutes.")
        )
    return False


def _refused_when_disconnected(account):
    """A form sent for a disconnected account (a tab opened before): nothing changes, the cabinet
    tells why, whatever the form held."""
    if request.method == "POST" and account.status == DISCONNECTED:
        flash(disconnected_refusal_text(), "error")
        return to_cabinet()
    return None


@bp.route("/password", methods=["GET", "POST"])
@account_view(role=OWNER)
def change_password(link, account):
    """A new password (the portal's and the SIP password): the current one is required; the
    address on file gets a notice without the password."""
    if refused := _refused_when_disconnected(account):
        return refused
    form = ChangePasswordForm()
    if form.validate_on_submit() and _current_password_ok(form, link):
        accounts.set_password(account, form.password.data, how="changed", profile_id=link.profile_id)
        flash(
            _(
                "The password has been changed. Enter the new one in your SIP phones; a notice went "
                "to %(email)s.",
                email=account.email,
            ),
            "success",
        )
        return to_cabinet()
    return page("password.html", link, account, form=form)


@bp.route("/email", methods=["GET", "POST"])
@account_view(role=OWNER)
def change_email(link, account):
    """A new address for the letters: it changes when the link sent to it is followed."""
    if refused := _refused_when_disconnected(account):
        return refused
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            new_email = accounts.normalise_email(form.email.data)
        except accounts.ConnectError:
            new_email = None
            form.email.errors.append(_("Enter a valid e-mail address, e.g. name@company.com."))
        if new_email is None:
            pass
        elif new_email.lower() == account.email.lower():
            form.email.errors.append(_("This is already the e-mail address of the account."))
        elif not _current_password_ok(form, link):
            pass
        elif (refusal := letter_refusal(f"iptel:{account.number}")) is not None:
            form.email.errors.append(refusal)
        else:
            url = links.LINKS.issue(account.id, links.EMAIL, new_email)
            notices.email_confirmation(account, new_email, url, current_app.config["IDP_EMAIL_LINK_HOURS"])
            audit("iptel.email_change_requested", link)
            flash(
                _(
                    "We sent a confirmation link to %(email)s. The address changes when you open it.",
                    email=new_email,
                ),
                "success",
            )
            return to_cabinet()
    return page("email.html", link, account, form=form, pending=links.pending_email(account))
