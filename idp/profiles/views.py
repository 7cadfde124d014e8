"""The profile's home, the e-mail confirmation link and the offer."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from idp.auth import recovery_codes
from idp.auth.guards import login_required
from idp.extensions import db
from idp.forms import EmptyForm
from idp.profiles.errors import EmailInUse, LinkInvalid
from idp.profiles.registration import STATE as REGISTRATION
from idp.profiles.services import confirm_email as redeem_confirmation
from idp.sessions.services import active_sessions, current_profile, sign_in

bp = Blueprint("profiles", __name__)


@bp.get("/")
@login_required
def home():
    """The profile's home: who I am, how I am protected, my services."""
    profile = current_profile()
    return render_template(
        "profiles/home.html",
        profile=profile,
        sessions=len(active_sessions(profile.id)),
        open_form=EmptyForm(),
        recovery_left=recovery_codes.remaining(profile),
    )


@bp.get("/offer")
def offer():
    """The terms a new profile accepts, with their version."""
    return render_template("profiles/offer.html", version=current_app.config["IDP_OFFER_VERSION"])


@bp.get("/email/confirm/<token>")
def confirm_email(token: str):
    """Show a button that confirms the address; link scanners that only GET change nothing."""
    return render_template("profiles/confirm_email.html", form=EmptyForm(), token=token)


@bp.post("/email/confirm/<token>")
def confirm_email_post(token: str):
    """Confirm the address; a first confirmation also signs the new profile in (seed 004 §1)."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("profiles.confirm_email", token=token))
    try:
        profile, link = redeem_confirmation(token)
    except LinkInvalid:
        db.session.rollback()
        return render_template("profiles/link_invalid.html"), 400
    except EmailInUse:
        return render_template("profiles/link_invalid.html", in_use=True), 409
    if link.purpose == "change":
        flash(_("Your e-mail address is now %(email)s.", email=profile.email), "success")
        return redirect(url_for("security.index"))
    next_url = (REGISTRATION.end() or {}).get("next") or "/"
    signed_in = current_profile()
    if profile.two_factor_enabled and (signed_in is None or signed_in.id != profile.id):
        # A link never stands in for a second factor the profile has turned on since.
        flash(_("Your e-mail is confirmed. Sign in to continue."), "success")
        return redirect(url_for("auth.signin", next=next_url))
    if signed_in is None or signed_in.id != profile.id:
        sign_in(profile, ["email"], next_url)
    flash(
        _(
            "Your e-mail is confirmed. Welcome to %(product)s!",
            product=current_app.config["IDP_PRODUCT_NAME"],
        ),
        "success",
    )
    return redirect(next_url)
