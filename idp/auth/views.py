"""Sign in (password, then SMS code, TOTP or a recovery code), sign out, restore the password."""

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

from idp.audit.services import record
from idp.auth import recovery_codes, throttle, totp
from idp.auth.errors import Disabled, Locked, Throttled, WrongCredentials
from idp.auth.forms import RecoverPhoneForm, RecoveryCodeForm, SignInForm, TotpForm
from idp.auth.messages import credential_error
from idp.auth.services import (
    authenticate,
    forget_failures,
    second_step,
    signed_in,
    take_second_factor_attempt,
)
from idp.extensions import db, limiter
from idp.forms import CodeForm, EmptyForm, NewPasswordForm
from idp.i18n import adopt_language, current_locale, safe_next
from idp.oauth.backchannel import revoke_all
from idp.otp import pow
from idp.otp import services as otp
from idp.otp.budgets import PROVEN, code_limit
from idp.otp.errors import OtpError
from idp.otp.messages import code_step, otp_error_text, refuse_on_field, resend_and_tell
from idp.profiles.models import Profile
from idp.profiles.services import find_by_phone, set_password
from idp.sessions.flows import Flow
from idp.sessions.services import current_profile, sign_in, sign_out

bp = Blueprint("auth", __name__)

# The second step must follow the password within ten minutes; so must the new password the
# recovery code.
SIGNIN = Flow("pending_signin", minutes=10, sms_status="signin")
RECOVERY = Flow("recovery", minutes=10, sms_status="recovery")


def _signin_limit() -> str:
    return current_app.config["IDP_SIGNIN_LIMIT_IP"]


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"])
def signin():
    """First step: phone or e-mail and password."""
    # A relying service may ask for a fresh sign-in (``reauth``), with a second factor (``mfa``).
    reauth = request.args.get("reauth") == "1"
    if current_profile() is not None and not reauth:
        return redirect(safe_next(request.args.get("next")))
    form = SignInForm()
    hint = request.args.get("login_hint", "")
    if request.method == "GET" and hint and len(hint) <= 254:
        form.identifier.data = hint
    if form.validate_on_submit():
        try:
            checked = authenticate(form.identifier.data, form.password.data)
        except (WrongCredentials, Throttled, Locked, Disabled) as error:
            form.password.errors.append(credential_error(error))
        else:
            profile = checked.profile
            next_url = safe_next(request.args.get("next"))
            step_up = request.args.get("mfa") == "1"
            if not profile.two_factor_enabled and not step_up:
                return _complete(profile, ["pwd"], next_url)
            # The second factor is still to come: failures before it stay counted until it passes.
            second_step(checked)
            method = "totp" if profile.totp_enabled else "sms"
            SIGNIN.start(
                profile_id=profile.id, method=method, next=next_url, failures=0, identifier=checked.identifier
            )
            if method == "sms":
                return _send_sms_step(profile)
            return redirect(url_for("auth.verify"))
    return render_template("auth/signin.html", form=form)


def _pending_profile() -> Profile | None:
    pending = SIGNIN.get()
    return db.session.get(Profile, pending["profile_id"]) if pending else None


def _send_sms_step(profile: Profile):
    try:
        challenge = otp.start_challenge("signin", profile.phone, current_locale(), profile.id, budget=PROVEN)
    except OtpError as error:
        flash(otp_error_text(error), "error")
    else:
        SIGNIN.update(method="sms", challenge=challenge.id)
    return redirect(url_for("auth.verify"))


@bp.route("/signin/verify", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"])
def verify():
    """Second step: the SMS code, the authenticator code or a recovery code."""
    lapsed = SIGNIN.lapsed()  # read before the flow is looked at: looking ends a lapsed one
    profile = _pending_profile()
    if profile is None:
        if lapsed:  # only a sign-in that was started and ran out of time is "not completed in time"
            flash(_("Sign in again: the second step was not completed in time."), "error")
        return redirect(url_for("auth.signin"))
    pending = SIGNIN.get()
    method = pending["method"]
    form = {"sms": CodeForm, "totp": TotpForm, "recovery": RecoveryCodeForm}[method]()
    if form.validate_on_submit():
        outcome = _check_second_factor(profile, method, form)
        if outcome == PASSED:
            SIGNIN.end()
            return _complete(profile, ["pwd", "sms" if method == "sms" else "otp"], pending["next"])
        if outcome == ENDED:
            return redirect(url_for("auth.signin"))
    code = code_step(SIGNIN.get().get("challenge") if method == "sms" else None)
    return render_template(
        "auth/verify.html",
        form=form,
        method=method,
        profile=profile,
        sms_flow="signin",
        resend_form=EmptyForm(),
        **code,
    )


PASSED, RETRY, ENDED = "passed", "retry", "ended"


def _check_second_factor(profile: Profile, method: str, form) -> str:
    """Check the submitted code; return PASSED, RETRY (error on the form) or ENDED.

    Every try counts against the profile's sign-in throttling before the code is looked at, so a
    known password does not open unlimited guesses of the second factor.
    """
    pending = SIGNIN.get()
    try:
        attempt = take_second_factor_attempt(profile, pending.get("identifier") or profile.phone)
    except Locked as error:
        return _end_pending(credential_error(error))
    except Throttled as error:
        form.code.errors.append(credential_error(error))
        return RETRY
    if method == "sms":
        return _check_sms_code(pending, form)
    if method == "totp":
        result = totp.verify(profile, form.code.data)
    else:
        result = totp.VALID if recovery_codes.use(profile, form.code.data) else totp.WRONG
    if result == totp.VALID:
        record("signin.recovery_code_used" if method == "recovery" else "signin.totp", profile.id)
        db.session.commit()
        return PASSED
    if result == totp.REUSED:  # a right code, only too early again: not a guess
        throttle.give_back(attempt)
        form.code.errors.append(
            _(
                "This code was already used. Wait for the next code in your "
                "authenticator app (it changes every 30 seconds)."
            )
        )
        return RETRY
    failures = pending["failures"] + 1
    SIGNIN.update(failures=failures)
    if failures >= current_app.config["IDP_OTP_MAX_ATTEMPTS"]:
        return _end_pending(_("Too many wrong codes. Sign in again."))
    form.code.errors.append(_("The code is wrong or was already used."))
    return RETRY


def _check_sms_code(pending: dict, form) -> str:
    """A spent code (too many wrong tries) leaves the sign-in waiting on this page, which offers a
    new code: its tries and the profile's sign-in throttling keep counting across codes."""
    try:
        otp.verify(pending.get("challenge"), "signin", form.code.data)
        return PASSED
    except OtpError as error:
        form.code.errors.append(otp_error_text(error))
        return RETRY


def _end_pending(message: str) -> str:
    SIGNIN.end()
    flash(message, "error")
    return ENDED


@bp.post("/signin/verify/method")
def choose_method():
    """Switch the second step to another method the profile has."""
    profile = _pending_profile()
    form = EmptyForm()
    if profile is None or not form.validate_on_submit():
        return redirect(url_for("auth.signin"))
    wanted = request.form.get("method")
    if wanted == "sms" and profile.sms_2fa_enabled:
        return _send_sms_step(profile)
    if wanted == "recovery" or (wanted == "totp" and profile.totp_enabled):
        SIGNIN.update(method=wanted)
    return redirect(url_for("auth.verify"))


@bp.post("/signin/verify/resend")
def resend_signin_code():
    """Send the sign-in SMS code again (after the cooldown)."""
    profile = _pending_profile()
    if profile is None or not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.signin"))
    resend_and_tell(SIGNIN, "signin", current_locale())
    return redirect(url_for("auth.verify"))


def _complete(profile: Profile, amr: list[str], next_url: str):
    sign_in(profile, amr, next_url)
    signed_in(profile)
    record("signin.succeeded", profile.id, amr=amr)
    # Committed with the session's new row as the answer goes out (DatabaseSessionInterface): the
    # counters cleared and the event stored only if the session is.
    return redirect(next_url)


@bp.post("/signout")
def signout():
    """End this browser's session."""
    profile = current_profile()
    if EmptyForm().validate_on_submit() and profile is not None:
        record("signout", profile.id)
        db.session.commit()
        sign_out()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.signin"))


@bp.route("/recover", methods=["GET", "POST"])
def recover():
    """Restore the password, step 1: the profile's phone number."""
    form = RecoverPhoneForm()
    if form.validate_on_submit():
        phone = form.phone.e164
        profile = find_by_phone(phone)
        try:
            # An unknown number gets a notice instead of a code: one SMS either way, so the
            # pages, the budgets and the delivery state look the same.
            challenge = otp.start_challenge(
                "recover",
                phone,
                current_locale(),
                profile.id if profile else None,
                send_code=profile is not None,
                notice_kind="sms_no_profile",
                proof=pow.submitted(),
            )
        except OtpError as error:
            refuse_on_field(form.phone, error)
        else:
            RECOVERY.start(challenge=challenge.id, phone=phone)
            return redirect(url_for("auth.recover_code"))
    return render_template("auth/recover.html", form=form)


@bp.route("/recover/code", methods=["GET", "POST"])
@limiter.limit(code_limit, methods=["POST"])
def recover_code():
    """Restore the password, step 2: the SMS code."""
    state = RECOVERY.get()
    if state and "challenge" not in state:  # the code was already accepted
        return redirect(url_for("auth.recover_password"))
    if not state:
        return redirect(url_for("auth.recover"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            challenge = otp.verify(state["challenge"], "recover", form.code.data)
        except OtpError as error:
            form.code.errors.append(otp_error_text(error))
        else:
            RECOVERY.start(profile_id=challenge.profile_id)  # ten minutes for the new password
            return redirect(url_for("auth.recover_password"))
    return render_template(
        "auth/code.html",
        form=form,
        phone=state["phone"],
        sms_flow="recovery",
        title=_("Restore the password"),
        resend_url=url_for("auth.recover_resend"),
        resend_form=EmptyForm(),
        restart_url=url_for("auth.recover"),
        **code_step(state["challenge"]),
    )


@bp.post("/recover/resend")
def recover_resend():
    """Send the recovery code again."""
    state = RECOVERY.get()
    if state and "challenge" in state and EmptyForm().validate_on_submit():
        resend_and_tell(RECOVERY, "recover", current_locale())
    return redirect(url_for("auth.recover_code"))


@bp.route("/recover/password", methods=["GET", "POST"])
def recover_password():
    """Restore the password, step 3: the new password; every session of the profile ends."""
    state = RECOVERY.get() or {}
    profile = db.session.get(Profile, state["profile_id"]) if "profile_id" in state else None
    if profile is None:
        RECOVERY.end()
        return redirect(url_for("auth.recover"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        adopt_language(profile)  # the notice speaks the language of these pages
        set_password(
            profile,
            form.password.data,
            keep_session_id=None,
            event="password.restored",
            notice_kind="password_restored",
        )
        # Someone else may have had the password: applications lose their access too.
        revoke_all(profile.id, "password_restored")
        db.session.commit()
        forget_failures(profile)
        RECOVERY.end()
        flash(_("Your password has been changed. Sign in with the new password."), "success")
        return redirect(url_for("auth.signin"))
    return render_template("auth/new_password.html", form=form, title=_("New password"))
