"""Security settings: name, password, e-mail, phone, two-step sign-in, recovery codes, sessions.

Every change asks for the current password again, is audited, and is told to the profile by
e-mail (seed 000: a password change is notified without the password; an e-mail change is
notified to the old and the new address).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from idp.audit.services import recent_events, record
from idp.auth import recovery_codes, totp
from idp.auth.guards import login_required
from idp.auth.step_up import password_confirmed
from idp.delivery.services import send
from idp.extensions import db, limiter
from idp.forms import CodeForm, EmptyForm
from idp.i18n import current_locale, language_for
from idp.oauth.access import applications, revoke_application
from idp.oauth.backchannel import revoke_all
from idp.otp import pow
from idp.otp import services as otp
from idp.otp.budgets import code_limit
from idp.otp.errors import OtpError
from idp.otp.messages import code_step, letter_refusal, otp_error_text, refuse_on_field, resend_and_tell
from idp.profiles.errors import PhoneTaken
from idp.profiles.forms import (
    ChangeEmailForm,
    ChangeNameForm,
    ChangePasswordForm,
    ChangePhoneForm,
    ConfirmPasswordForm,
    TotpEnrolForm,
)
from idp.profiles.services import (
    change_name,
    change_phone,
    find_by_phone,
    request_email_change,
    set_password,
)
from idp.security.emails import normalise_email
from idp.sessions.flows import Flow
from idp.sessions.services import (
    active_sessions,
    current_profile,
    current_session_row,
    end_session,
    end_sessions,
    sign_out,
)

bp = Blueprint("security", __name__, url_prefix="/security")

PHONE_CHANGE = Flow("phone_change", minutes=15, sms_status="phone")
TOTP_ENROL = Flow("totp_enrol", minutes=30)  # the new secret, sealed to the profile


@bp.get("")
@login_required
def index():
    """The security page: every setting with its state, the sessions and recent events."""
    profile = current_profile()
    row = current_session_row()
    return render_template(
        "security/index.html",
        profile=profile,
        sessions=active_sessions(profile.id),
        current_session_id=row.id if row else None,
        events=recent_events(profile.id, 10),
        recovery_left=recovery_codes.remaining(profile),
        applications=applications(profile.id),
        form=EmptyForm(),
    )


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change the password; the other sessions end and an e-mail tells the profile."""
    form = ChangePasswordForm()
    if form.validate_on_submit() and password_confirmed(form):
        row = current_session_row()
        set_password(
            current_profile(),
            form.password.data,
            keep_session_id=row.id if row else None,
            event="password.changed",
            notice_kind="password_changed",
        )
        flash(_("Your password has been changed. Your other sessions were ended."), "success")
        return redirect(url_for("security.index"))
    return render_template("security/password.html", form=form)


@bp.route("/name", methods=["GET", "POST"])
@login_required
def name():
    """Correct the name given at registration; relying services get it with their next token."""
    profile = current_profile()
    form = ChangeNameForm(obj=profile)
    if form.validate_on_submit() and password_confirmed(form):
        if change_name(profile, form.first_name.data, form.last_name.data):
            flash(_("The name in your profile is now %(name)s.", name=profile.full_name), "success")
            return redirect(url_for("security.index"))
        form.last_name.errors.append(_("This is already the name in your profile."))
    return render_template("security/name.html", form=form)


@bp.route("/email", methods=["GET", "POST"])
@login_required
def email():
    """Ask for a new e-mail address; it changes when the link sent there is followed."""
    form = ChangeEmailForm()
    if form.validate_on_submit() and password_confirmed(form):
        refusal = letter_refusal(f"profile:{current_profile().id}")
        if refusal:
            form.email.errors.append(refusal)
        else:
            request_email_change(current_profile(), form.email.data.strip())
            flash(
                _(
                    "We sent a confirmation link to %(email)s. The address changes when you follow it.",
                    email=normalise_email(form.email.data),
                ),
                "info",
            )
            return redirect(url_for("security.index"))
    return render_template("security/email.html", form=form)


@bp.route("/phone", methods=["GET", "POST"])
@login_required
def phone():
    """Start a phone change: the new number must be confirmed by an SMS code."""
    form = ChangePhoneForm()
    profile = current_profile()
    if form.validate_on_submit() and password_confirmed(form):
        new_phone = form.phone.e164
        if new_phone == profile.phone:
            form.phone.errors.append(_("This is already the number of your profile."))
        else:
            taken = find_by_phone(new_phone) is not None
            try:
                challenge = otp.start_challenge(
                    "change_phone",
                    new_phone,
                    current_locale(),
                    profile.id,
                    send_code=not taken,
                    notice_kind="sms_already_registered",
                    proof=pow.submitted(),
                )
            except OtpError as error:
                refuse_on_field(form.phone, error)
            else:
                PHONE_CHANGE.start(challenge=challenge.id, phone=new_phone)
                return redirect(url_for("security.phone_code"))
    return render_template("security/phone.html", form=form)


@bp.route("/phone/code", methods=["GET", "POST"])
@login_required
@limiter.limit(code_limit, methods=["POST"])
def phone_code():
    """Finish a phone change with the code sent to the new number."""
    state = PHONE_CHANGE.get()
    if not state:
        return redirect(url_for("security.phone"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            otp.verify(state["challenge"], "change_phone", form.code.data)
            change_phone(current_profile(), state["phone"])
        except OtpError as error:
            form.code.errors.append(otp_error_text(error))
        except PhoneTaken:
            form.code.errors.append(_("This number cannot be used for your profile."))
        else:
            PHONE_CHANGE.end()
            flash(_("The phone number of your profile has been changed."), "success")
            return redirect(url_for("security.index"))
    return render_template(
        "auth/code.html",
        form=form,
        phone=state["phone"],
        sms_flow="phone",
        title=_("Confirm the new number"),
        resend_url=url_for("security.phone_resend"),
        resend_form=EmptyForm(),
        restart_url=url_for("security.phone"),
        **code_step(state["challenge"]),
    )


@bp.post("/phone/resend")
@login_required
def phone_resend():
    """Send the code to the new number again."""
    state = PHONE_CHANGE.get()
    if state and EmptyForm().validate_on_submit():
        resend_and_tell(PHONE_CHANGE, "change_phone", current_locale())
    return redirect(url_for("security.phone_code"))


def _factor_changed(event: str):
    """Audit a second-factor change, notify by e-mail, and show fresh recovery codes if new."""
    profile = current_profile()
    assert profile is not None  # login_required
    record(event, profile.id)
    first_codes = None
    if profile.two_factor_enabled and recovery_codes.remaining(profile) == 0:
        first_codes = recovery_codes.generate(profile)
    db.session.commit()
    send("two_factor_changed", profile.email, language_for(profile), profile.id, profile=profile, event=event)
    if first_codes:
        return render_template("security/recovery_codes.html", codes=first_codes)
    return redirect(url_for("security.index"))


@bp.route("/sms", methods=["GET", "POST"])
@login_required
def sms_factor():
    """Turn the SMS code at every sign-in on or off."""
    form = ConfirmPasswordForm()
    profile = current_profile()
    if form.validate_on_submit() and password_confirmed(form):
        profile.sms_2fa_enabled = not profile.sms_2fa_enabled
        flash(
            _("SMS codes at sign-in are on.")
            if profile.sms_2fa_enabled
            else _("SMS codes at sign-in are off."),
            "success",
        )
        return _factor_changed(
            "two_factor.sms_enabled" if profile.sms_2fa_enabled else "two_factor.sms_disabled"
        )
    return render_template("security/sms.html", form=form, profile=profile)


@bp.route("/totp", methods=["GET", "POST"])
@login_required
def totp_enrol():
    """Add an authenticator app: scan the QR code, then prove it with a code and the password."""
    profile = current_profile()
    if profile.totp_enabled:
        return redirect(url_for("security.totp_disable"))
    enrolment = TOTP_ENROL.get()
    secret = totp.enrolment_secret(enrolment["sealed"] if enrolment else None, profile)
    if secret is None:
        secret = totp.new_secret()
        TOTP_ENROL.start(sealed=totp.seal_enrolment(secret, profile))
    form = TotpEnrolForm()
    if form.validate_on_submit() and password_confirmed(form):
        step = totp.matching_step(secret, form.code.data)
        if step is None:
            form.code.errors.append(
                _("The code does not match. Check the time on your phone and enter the newest code.")
            )
        else:
            totp.enable(profile, secret, step)
            TOTP_ENROL.end()
            flash(_("The authenticator app is on."), "success")
            return _factor_changed("two_factor.totp_enabled")
    uri = totp.provisioning_uri(secret, profile)
    return render_template("security/totp.html", form=form, secret=secret, qr=totp.qr_data_uri(uri))


@bp.route("/totp/disable", methods=["GET", "POST"])
@login_required
def totp_disable():
    """Remove the authenticator app."""
    profile = current_profile()
    if not profile.totp_enabled:
        return redirect(url_for("security.totp_enrol"))
    form = ConfirmPasswordForm()
    if form.validate_on_submit() and password_confirmed(form):
        totp.disable(profile)
        flash(_("The authenticator app is off."), "success")
        return _factor_changed("two_factor.totp_disabled")
    return render_template("security/totp_disable.html", form=form)


@bp.route("/recovery-codes", methods=["GET", "POST"])
@login_required
def new_recovery_codes():
    """Replace the recovery codes; the new ones are shown once."""
    form = ConfirmPasswordForm()
    profile = current_profile()
    if form.validate_on_submit() and password_confirmed(form):
        codes = recovery_codes.generate(profile)
        record("two_factor.recovery_codes_generated", profile.id)
        db.session.commit()
        return render_template("security/recovery_codes.html", codes=codes)
    return render_template("security/recovery_codes_confirm.html", form=form)


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_one_session(session_id: int):
    """End one of my other sessions."""
    profile = current_profile()
    if EmptyForm().validate_on_submit() and end_session(profile.id, session_id):
        record("session.ended", profile.id, session=session_id)
        db.session.commit()
        flash(_("The session has ended."), "success")
    return redirect(url_for("security.index"))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    """End every session of mine but this one."""
    profile = current_profile()
    row = current_session_row()
    if EmptyForm().validate_on_submit():
        ended = end_sessions(profile.id, keep_id=row.id if row else None)
        record("session.ended_others", profile.id, count=ended)
        db.session.commit()
        flash(_("Your other sessions have ended."), "success")
    return redirect(url_for("security.index"))


@bp.post("/sessions/end-all")
@login_required
def sign_out_everywhere():
    """End every session of mine, this one too, and take every application's access back."""
    profile = current_profile()
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("security.index"))
    ended = end_sessions(profile.id)
    revoke_all(profile.id, "signed_out_everywhere")
    record("session.ended_everywhere", profile.id, count=ended)
    db.session.commit()
    sign_out()
    flash(_("You have signed out everywhere: on every device and in every application."), "success")
    return redirect(url_for("auth.signin"))


@bp.post("/applications/<client_id>/revoke")
@login_required
def revoke_access(client_id: str):
    """Take an application's access back: it must ask again, its tokens stop working."""
    profile = current_profile()
    if EmptyForm().validate_on_submit() and revoke_application(profile.id, client_id):
        record("oauth.access_revoked", profile.id, client=client_id)
        db.session.commit()
        flash(_("The application no longer has access to your profile."), "success")
    return redirect(url_for("security.index") + "#applications")
