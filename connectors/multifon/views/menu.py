"""The settings menu: remind the SIP password, change it, disconnect the service (seed 004 §4)."""

from __future__ import annotations

from flask import flash, redirect, session, url_for
from flask_babel import gettext as _

from connectors.multifon.forms import ChangeSipPasswordForm, ConfirmWithPasswordForm
from connectors.multifon.remind import RemindLimitReached, reminders_left, send_sip_password
from connectors.multifon.service import backend
from connectors.multifon.views.blueprint import bp
from connectors.multifon.views.common import (
    audit,
    backend_unavailable_text,
    load_overview,
    page,
    password_confirmed,
    refusal,
    service_name,
    to_cabinet,
)
from idp.connectors.cabinet import BackendUnavailable, cabinet_view, write_backend
from idp.forms import CodeForm, EmptyForm
from idp.i18n import current_locale
from idp.otp import services as otp
from idp.otp.budgets import PROVEN
from idp.otp.errors import OtpError
from idp.otp.messages import otp_error_text, resend_and_tell
from idp.sessions.services import current_profile

REMIND_FLOW = "multifon_remind"  # the SMS code flow's purpose and its key in the session


@bp.route("/password/remind", methods=["GET", "POST"])
@cabinet_view
def remind(link):
    """Confirm with the profile's password (or an SMS code), then SMS the SIP password."""
    overview = load_overview(link)
    form = ConfirmWithPasswordForm()
    if form.validate_on_submit():
        refused = refusal(overview)
        if refused:
            return refused
        if password_confirmed(form):
            return _send_reminder(link)
    return page("remind.html", link, overview, form=form, sms_form=EmptyForm(),
                left=reminders_left(link.account))


@bp.post("/password/remind/sms")
@cabinet_view
def remind_by_sms(link):
    """Confirm the reminder with an SMS code to the profile's phone instead of the password."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("multifon.remind"))
    refused = refusal(load_overview(link))
    if refused:
        return refused
    if reminders_left(link.account) <= 0:
        return _limit_reached()
    profile = current_profile()
    try:
        challenge = otp.start_challenge(REMIND_FLOW, profile.phone, current_locale(), profile.id,
                                        budget=PROVEN)
    except OtpError as error:
        flash(otp_error_text(error), "error")
        return redirect(url_for("multifon.remind"))
    session[REMIND_FLOW] = {"challenge": challenge.id, "account": link.account}
    return redirect(url_for("multifon.remind_code"))


@bp.route("/password/remind/code", methods=["GET", "POST"])
@cabinet_view
def remind_code(link):
    """Enter the SMS code; the SIP password is then sent to the service number."""
    state = session.get(REMIND_FLOW)
    if not state or state["account"] != link.account:
        return redirect(url_for("multifon.remind"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            otp.verify(state["challenge"], REMIND_FLOW, form.code.data)
        except OtpError as error:
            form.code.errors.append(otp_error_text(error))
        else:
            session.pop(REMIND_FLOW, None)
            return _send_reminder(link)
    return page("remind_code.html", link, load_overview(link), form=form,
                resend_form=EmptyForm(), phone=current_profile().phone,
                resend_wait=otp.seconds_until_resend(state["challenge"]))


@bp.post("/password/remind/resend")
@cabinet_view
def remind_resend(link):
    """Send the confirmation code again."""
    state = session.get(REMIND_FLOW)
    if state and state["account"] == link.account and EmptyForm().validate_on_submit():
        resend_and_tell(state["challenge"], REMIND_FLOW, current_locale())
    return redirect(url_for("multifon.remind_code"))


def _send_reminder(link):
    profile = current_profile()
    try:
        send_sip_password(profile, link.account, service_name(profile.locale))
    except RemindLimitReached:
        return _limit_reached()
    except BackendUnavailable:
        flash(backend_unavailable_text(), "error")
        return to_cabinet()
    flash(_("We sent the SIP password by SMS to %(number)s.", number=link.label), "success")
    return to_cabinet()


def _limit_reached():
    flash(_("The SIP password was already sent by SMS several times today. Try again tomorrow, "
            "or change the password."), "error")
    return to_cabinet()


@bp.route("/password/change", methods=["GET", "POST"])
@cabinet_view
def change_password(link):
    """Set a new SIP password; the old one stops working at once."""
    overview = load_overview(link)
    form = ChangeSipPasswordForm()
    if form.validate_on_submit():
        refused = refusal(overview)
        if refused:
            return refused
        if password_confirmed(form):
            new_password = form.password.data
            try:
                write_backend(lambda: backend().set_sip_password(link.account, new_password),
                              "multifon.set_sip_password")
            except BackendUnavailable:
                flash(backend_unavailable_text(), "error")
            else:
                audit("multifon.sip_password_changed", link)
                flash(_("The SIP password has been changed. Enter the new one in your SIP phones "
                        "and programs."), "success")
                return to_cabinet()
    return page("password.html", link, overview, form=form)


@bp.route("/disconnect", methods=["GET", "POST"])
@cabinet_view
def disconnect(link):
    """Disconnect the service after a confirmation that names what it means."""
    overview = load_overview(link)
    form = ConfirmWithPasswordForm()
    if form.validate_on_submit():
        refused = refusal(overview)
        if refused:
            return refused
        if password_confirmed(form):
            try:
                write_backend(lambda: backend().disconnect(link.account), "multifon.disconnect")
            except BackendUnavailable:
                flash(backend_unavailable_text(), "error")
            else:
                audit("multifon.disconnected", link)
                flash(_("%(service)s is disconnected for %(number)s.", service=service_name(),
                        number=link.label), "success")
                return to_cabinet()
    return page("disconnect.html", link, overview, form=form)
