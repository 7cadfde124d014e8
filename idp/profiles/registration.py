"""Registration (seed 004 §1): phone → SMS code → name, e-mail, offer → password → e-mail link.

The wizard is a flow of the session (``STATE``, an hour long); each step checks
that the steps before it are done. A number that already has a profile is told so by SMS and the
pages go on exactly as for a new number, so they reveal nothing.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from idp.extensions import db, limiter
from idp.forms import CodeForm, EmptyForm, NewPasswordForm
from idp.i18n import current_locale, safe_next
from idp.otp import pow
from idp.otp import services as otp
from idp.otp.budgets import code_limit
from idp.otp.errors import OtpError
from idp.otp.messages import code_step, otp_error_text, refuse_on_field, resend_and_tell
from idp.profiles.errors import PhoneTaken
from idp.profiles.forms import DetailsForm, EmailForm, PhoneForm
from idp.profiles.models import Profile
from idp.profiles.services import (
    create_profile,
    find_by_phone,
    replace_unconfirmed_email,
    send_confirmation,
)
from idp.security.emails import normalise_email
from idp.sessions.flows import Flow
from idp.sessions.services import current_profile
from idp.sessions.signals import profile_registered
from idp.timeutil import utcnow

bp = Blueprint("registration", __name__, url_prefix="/register")

STATE = Flow("registration", minutes=60, sms_status="registration")
STEPS = ("phone", "code", "details", "password", "email")


def _state() -> dict:
    return STATE.get() or {}


def _save(**values) -> None:
    STATE.update(**values)


def _page(template: str, step: str, **context):
    return render_template(
        f"registration/{template}.html", step=STEPS.index(step) + 1, steps=len(STEPS), **context
    )


@bp.route("", methods=["GET", "POST"])
def phone():
    """Step 1: the phone number (the service number or any personal number)."""
    if current_profile() is not None:
        return redirect(url_for("profiles.home"))
    form = PhoneForm()
    if request.method == "GET" and request.args.get("phone"):
        form.phone.data = request.args["phone"]
    if form.validate_on_submit():
        number = form.phone.e164
        registered = find_by_phone(number) is not None
        try:
            challenge = otp.start_challenge(
                "register",
                number,
                current_locale(),
                send_code=not registered,
                notice_kind="sms_already_registered",
                proof=pow.submitted(),
            )
        except OtpError as error:
            refuse_on_field(form.phone, error)
        else:
            STATE.start(phone=number, challenge=challenge.id, next=safe_next(request.args.get("next")))
            return redirect(url_for("registration.code"))
    return _page("phone", "phone", form=form)


@bp.route("/code", methods=["GET", "POST"])
@limiter.limit(code_limit, methods=["POST"])
def code():
    """Step 2: the code sent by SMS."""
    state = _state()
    if "challenge" not in state:
        return redirect(url_for("registration.phone"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            otp.verify(state["challenge"], "register", form.code.data)
        except OtpError as error:
            form.code.errors.append(otp_error_text(error))
        else:
            _save(phone_verified=True)
            return redirect(url_for("registration.details"))
    return _page(
        "code",
        "code",
        form=form,
        phone=state["phone"],
        sms_flow="registration",
        resend_form=EmptyForm(),
        **code_step(state["challenge"]),
    )


@bp.post("/code/resend")
def resend_code():
    """Send the registration code again after the cooldown."""
    state = _state()
    if "challenge" in state and EmptyForm().validate_on_submit():
        resend_and_tell(STATE, "register", current_locale())
    return redirect(url_for("registration.code"))


@bp.route("/details", methods=["GET", "POST"])
def details():
    """Step 3: last name, first name, e-mail and acceptance of the offer."""
    state = _state()
    if not state.get("phone_verified"):
        return redirect(url_for("registration.phone"))
    form = DetailsForm(data=state.get("details"))
    if form.validate_on_submit():
        _save(
            details={
                "last_name": form.last_name.data,
                "first_name": form.first_name.data,
                "email": normalise_email(form.email.data),
            }
        )
        return redirect(url_for("registration.password"))
    return _page("details", "details", form=form)


@bp.route("/password", methods=["GET", "POST"])
def password():
    """Step 4: the password, twice; the profile is created and the confirmation e-mail sent."""
    state = _state()
    if not state.get("phone_verified") or "details" not in state:
        return redirect(url_for("registration.phone"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        details = state["details"]
        try:
            profile = create_profile(
                state["phone"],
                details["email"],
                details["first_name"],
                details["last_name"],
                form.password.data,
                current_locale(),
            )
        except PhoneTaken:
            STATE.end()
            flash(_("A profile with this number already exists. Sign in or restore the password."), "error")
            return redirect(url_for("auth.signin"))
        send_confirmation(profile)
        # Registration started at a service's login (seed 004 §1.7): its account may be linked.
        profile_registered.send(
            current_app._get_current_object(),
            profile=profile,
            next_url=state.get("next"),
            link_account=request.form.get("link_account") == "y",
        )
        STATE.start(profile_id=profile.id, next=state.get("next", "/"), email_sent_at=utcnow().timestamp())
        return redirect(url_for("registration.email_sent"))
    return _page("password", "password", form=form, next_url=state.get("next"))


def _new_profile() -> Profile | None:
    profile_id = _state().get("profile_id")
    profile = db.session.get(Profile, profile_id) if profile_id else None
    return None if profile is None or profile.email_verified else profile


@bp.get("/email")
def email_sent():
    """Step 5: the letter is on its way; the address can be corrected or the letter resent."""
    profile = _new_profile()
    if profile is None:
        return redirect(url_for("registration.phone"))
    return _page(
        "email_sent",
        "email",
        profile=profile,
        form=EmailForm(),
        resend_form=EmptyForm(),
        resend_wait=_email_wait(),
    )


def _email_wait() -> int:
    elapsed = utcnow().timestamp() - _state().get("email_sent_at", 0)
    return max(0, int(current_app.config["IDP_OTP_RESEND_SECONDS"] - elapsed + 0.999))


def _email_budget() -> str:
    return current_app.config["IDP_EMAIL_SEND_LIMIT"]


@bp.post("/email/resend")
@limiter.limit(_email_budget, key_func=lambda: f"reg-email:{_state().get('profile_id')}")
def resend_email():
    """Send the confirmation letter again."""
    profile = _new_profile()
    if profile is None or not EmptyForm().validate_on_submit():
        return redirect(url_for("registration.phone"))
    wait = _email_wait()
    if wait:
        flash(_("The letter can be sent again in %(seconds)d s.", seconds=wait), "error")
    else:
        send_confirmation(profile)
        _save(email_sent_at=utcnow().timestamp())
        flash(_("We sent the letter again."), "info")
    return redirect(url_for("registration.email_sent"))


@bp.post("/email/change")
@limiter.limit(_email_budget, key_func=lambda: f"reg-email:{_state().get('profile_id')}")
def change_email():
    """Correct a mistyped address and send the letter there."""
    profile = _new_profile()
    if profile is None:
        return redirect(url_for("registration.phone"))
    form = EmailForm()
    if form.validate_on_submit():
        replace_unconfirmed_email(profile, form.email.data.strip())
        _save(email_sent_at=utcnow().timestamp())
        flash(_("We sent the letter to %(email)s.", email=profile.email), "info")
        return redirect(url_for("registration.email_sent"))
    return _page(
        "email_sent", "email", profile=profile, form=form, resend_form=EmptyForm(), resend_wait=_email_wait()
    ), 400
