"""The staff member confirms it is them: the password, then the second factor (a code from the
authenticator app when they have one, else a code by SMS to their phone)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from idp.audit.services import record
from idp.auth import throttle, totp
from idp.auth.errors import Locked, Throttled
from idp.auth.forms import TotpForm
from idp.auth.messages import credential_error
from idp.auth.services import throttle_key
from idp.auth.step_up import SmsConfirmation, password_confirmed
from idp.extensions import db, limiter
from idp.forms import CodeForm, EmptyForm
from idp.i18n import safe_next
from idp.orgs.staff.blueprint import bp
from idp.orgs.staff.guard import confirmation, staff_member
from idp.orgs.staff_forms import ConfirmPasswordForm
from idp.otp.budgets import code_limit
from idp.profiles.models import Profile
from idp.sessions.flows import Flow
from idp.sessions.services import current_profile

SECOND_STEP = Flow("staff_confirm_step", minutes=10)  # the password was right; the factor follows
BY_SMS = SmsConfirmation("staff_confirm")
TOTP, SMS = "totp", "sms"


def _next() -> str:
    """Where to go once confirmed: a page of the console, else its start."""
    target = safe_next(request.args.get("next"), url_for("staff.home"))
    return target if target.startswith("/staff") else url_for("staff.home")


@bp.route("/confirm", methods=["GET", "POST"])
@staff_member
def confirm():
    """Step 1: the staff member's password."""
    form = ConfirmPasswordForm()
    if form.validate_on_submit() and password_confirmed(form, wrong=_("The password is wrong.")):
        profile = current_profile()
        method = TOTP if profile.totp_enabled else SMS
        refused = BY_SMS.start() if method == SMS else None
        if refused:
            flash(refused, "error")
        else:
            SECOND_STEP.start(profile=profile.id, method=method, next=_next(), failures=0)
            return redirect(url_for("staff.confirm_code"))
    return render_template("staff/confirm.html", form=form, next=_next())


@bp.route("/confirm/code", methods=["GET", "POST"])
@staff_member
@limiter.limit(code_limit, methods=["POST"])
def confirm_code():
    """Step 2: the code of the second factor."""
    state = SECOND_STEP.get()
    profile = current_profile()
    if state is None or state["profile"] != profile.id:
        return redirect(url_for("staff.confirm"))
    form = TotpForm() if state["method"] == TOTP else CodeForm()
    if form.validate_on_submit():
        refused = _check(profile, form.code.data, state)
        if refused is None:
            return _confirmed(profile, state)
        if SECOND_STEP.get() is None:  # too many wrong codes: start again
            flash(refused, "error")
            return redirect(url_for("staff.confirm", next=state["next"]))
        form.code.errors.append(refused)
    return render_template(
        "staff/confirm_code.html",
        form=form,
        method=state["method"],
        phone=profile.phone,
        resend_form=EmptyForm(),
        resend_wait=BY_SMS.seconds_until_resend() if state["method"] == SMS else 0,
    )


@bp.post("/confirm/resend")
@staff_member
def confirm_resend():
    """Send the SMS code again (after the wait)."""
    state = SECOND_STEP.get()
    if state and state["method"] == SMS and EmptyForm().validate_on_submit():
        BY_SMS.resend()
    return redirect(url_for("staff.confirm_code"))


def _check(profile: Profile, code: str, state: dict) -> str | None:
    """Check the code of the second factor; None when it is right, else why not. Past
    ``IDP_OTP_MAX_ATTEMPTS`` wrong codes the second step ends."""
    if state["method"] == TOTP:
        refused, wrong = _check_totp(profile, code)
    else:
        refused = BY_SMS.check(code)
        wrong = refused is not None
    if not wrong:
        return refused
    failures = state["failures"] + 1
    if failures >= current_app.config["IDP_OTP_MAX_ATTEMPTS"]:
        SECOND_STEP.end()
        return _("Too many wrong codes. Start the confirmation again.")
    SECOND_STEP.update(failures=failures)
    return refused


def _check_totp(profile: Profile, code: str) -> tuple[str | None, bool]:
    """Check an authenticator code under the profile's sign-in throttling: (why not, or None when
    it is right; whether it counts as a wrong code)."""
    key = throttle_key(profile)
    try:
        attempt = throttle.take(key)
    except (Throttled, Locked) as error:
        return credential_error(error), False
    result = totp.verify(profile, code)
    if result == totp.VALID:
        throttle.reset(key)
        return None, False
    if result == totp.REUSED:  # a right code, only too early again: not a guess
        throttle.give_back(attempt)
        return _("This code was already used. Wait for the next code in your authenticator app."), False
    return _("The code is wrong or was already used."), True


def _confirmed(profile: Profile, state: dict):
    SECOND_STEP.end()
    confirmation().start(profile=profile.id)
    record("staff.confirmed", profile.id, profile.id, method=state["method"])
    db.session.commit()
    flash(
        _(
            "Thank you. You can work in the console for %(minutes)s minutes before it asks again.",
            minutes=current_app.config["IDP_STAFF_CONFIRM_MINUTES"],
        ),
        "success",
    )
    return redirect(state["next"])
