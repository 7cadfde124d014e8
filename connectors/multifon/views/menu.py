"""The settings menu: remind the SIP password, change it, disconnect the service (seed 004 §4).

Each of them is the owner's alone, the pages that show their forms too: a user or a viewer of the
account is sent back to the cabinet, told why, and the menu shows the entries disabled.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
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
from idp.connectors.sdk import (
    OWNER,
    BackendUnavailable,
    CodeForm,
    EmptyForm,
    SmsConfirmation,
    cabinet_view,
    current_profile,
    write_backend,
)

REMIND_BY_SMS = SmsConfirmation("multifon_remind")


@bp.route("/password/remind", methods=["GET", "POST"])
@cabinet_view(role=OWNER)
def remind(link):
    """Confirm with the profile's password (or an SMS code), then SMS the SIP password."""
    overview = load_overview(link)
    if request.method == "POST" and (refused := refusal(overview)):
        return refused
    form = ConfirmWithPasswordForm()
    if form.validate_on_submit() and password_confirmed(form):
        return _send_reminder(link)
    return page(
        "remind.html", link, overview, form=form, sms_form=EmptyForm(), left=reminders_left(link.account)
    )


@bp.post("/password/remind/sms")
@cabinet_view(role=OWNER)
def remind_by_sms(link):
    """Confirm the reminder with an SMS code to the profile's phone instead of the password."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("multifon.remind"))
    refused = refusal(load_overview(link))
    if refused:
        return refused
    if reminders_left(link.account) <= 0:
        return _limit_reached()
    refused = REMIND_BY_SMS.start(account=link.account)
    if refused:
        flash(refused, "error")
        return redirect(url_for("multifon.remind"))
    return redirect(url_for("multifon.remind_code"))


@bp.route("/password/remind/code", methods=["GET", "POST"])
@cabinet_view(role=OWNER)
def remind_code(link):
    """Enter the SMS code; the SIP password is then sent to the service number."""
    state = REMIND_BY_SMS.state()
    if not state or state["account"] != link.account:
        return redirect(url_for("multifon.remind"))
    if request.method == "POST" and (refused := refusal(load_overview(link))):
        return refused  # disconnected since the code was sent: no SIP password goes out
    form = CodeForm()
    if form.validate_on_submit():
        refused = REMIND_BY_SMS.check(form.code.data)
        if refused is None:
            return _send_reminder(link)
        form.code.errors.append(refused)
    return page(
        "remind_code.html",
        link,
        load_overview(link),
        form=form,
        resend_form=EmptyForm(),
        phone=current_profile().phone,
        **REMIND_BY_SMS.code_step(),
    )


@bp.post("/password/remind/resend")
@cabinet_view(role=OWNER)
def remind_resend(link):
    """Send the confirmation code again."""
    state = REMIND_BY_SMS.state()
    if state and state["account"] == link.account and EmptyForm().validate_on_submit():
        REMIND_BY_SMS.resend()
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
    flash(
        _(
            "The SIP password was already sent by SMS several times today. Try again tomorrow, "
            "or change the password."
        ),
        "error",
    )
    return to_cabinet()


@bp.route("/password/change", methods=["GET", "POST"])
@cabinet_view(role=OWNER)
def change_password(link):
    """Set a new SIP password; the old one stops working at once."""
    overview = load_overview(link)
    if request.method == "POST" and (refused := refusal(overview)):
        return refused
    form = ChangeSipPasswordForm()
    if form.validate_on_submit() and password_confirmed(form):
        new_password = form.password.data
        try:
            write_backend(
                lambda: backend().set_sip_password(link.account, new_password),
                "multifon.set_sip_password",
            )
        except BackendUnavailable:
            flash(backend_unavailable_text(), "error")
        else:
            audit("multifon.sip_password_changed", link)
            flash(
                _("The SIP password has been changed. Enter the new one in your SIP phones and programs."),
                "success",
            )
            return to_cabinet()
    return page("password.html", link, overview, form=form)


@bp.route("/disconnect", methods=["GET", "POST"])
@cabinet_view(role=OWNER)
def disconnect(link):
    """Disconnect the service after a confirmation that names what it means."""
    overview = load_overview(link)
    if request.method == "POST" and (refused := refusal(overview)):
        return refused
    form = ConfirmWithPasswordForm()
    if form.validate_on_submit() and password_confirmed(form):
        try:
            write_backend(lambda: backend().disconnect(link.account), "multifon.disconnect")
        except BackendUnavailable:
            flash(backend_unavailable_text(), "error")
        else:
            audit("multifon.disconnected", link)
            flash(
                _(
                    "%(service)s is disconnected for %(number)s.",
                    service=service_name(),
                    number=link.label,
                ),
                "success",
            )
            return to_cabinet()
    return page("disconnect.html", link, overview, form=form)
