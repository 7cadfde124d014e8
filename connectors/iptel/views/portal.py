"""The portal's pages outside the cabinet: the forced change of the initial password, "Forgot
password?" and the links from its letters (seed 000)."""

from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _

from connectors.iptel import accounts, activation, links, recovery
from connectors.iptel.forms import ForgotPasswordForm, NewServicePasswordForm
from connectors.iptel.models import DISCONNECTED, IptelAccount
from connectors.iptel.views.blueprint import bp
from connectors.iptel.views.common import (
    CONNECTOR_ID,
    connector,
    portal_page,
    service_name,
    to_login,
)
from idp.connectors.sdk import (
    EmptyForm,
    Flow,
    VerifiedAccount,
    continue_service_login,
    current_profile,
    db,
    forget_login_failures,
    limiter,
)

FORGOT_SENT = Flow("iptel_forgot_sent", minutes=15)  # the number the "sent" page names


@bp.route("/activate", methods=["GET", "POST"])
def activate():
    """First login with the initial password: set a new one before anything else; the service
    becomes active."""
    account = activation.held_account()
    if account is None:
        activation.forget()
        return to_login()
    form = NewServicePasswordForm()
    if form.validate_on_submit():
        if accounts.is_current_password(account, form.password.data):
            form.password.errors.append(
                _("Choose a password of your own, not the initial one from the letter.")
            )
        else:
            accounts.set_password(
                account, form.password.data, how="changed", profile_id=getattr(current_profile(), "id", None)
            )
            activation.forget()
            flash(
                _(
                    "Your new password is set and %(service)s is active. Use the same password "
                    "in your SIP phone.",
                    service=service_name(),
                ),
                "success",
            )
            return continue_service_login(
                connector(), VerifiedAccount(account.number, accounts.label(account.number))
            )
    return portal_page("activate.html", form=form, number=accounts.label(account.number))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["IDP_IPTEL_FORGOT_LIMIT_IP"], methods=["POST"])
def forgot_password():
    """ "Forgot password?": a reset link to the account's address; the same answer, after the same
    work, for any number (the worker sends the link)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        recovery.request_reset(form.login.e164)
        # Echoed as typed (its spaces tidied), for a known number and an unknown one alike: what
        # the person recognises, not a regrouping they never wrote.
        FORGOT_SENT.start(number=" ".join(form.login.data.split()))
        return redirect(url_for("iptel.forgot_sent"))
    return portal_page("forgot.html", form=form)


@bp.get("/forgot/sent")
def forgot_sent():
    sent = FORGOT_SENT.get()
    if sent is None:
        return redirect(url_for("iptel.forgot_password"))
    number = sent["number"]
    return portal_page(
        "forgot_sent.html", number=number, minutes=current_app.config["IDP_IPTEL_RESET_LINK_MINUTES"]
    )


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """The link from the "Forgot password?" letter, or from the letter about a password replaced
    after a revocation: set a new password (it works once)."""
    account = _link_account(token, links.SET_PASSWORD)
    if account is None:
        return portal_page("link_invalid.html"), 400
    form = NewServicePasswordForm()
    if form.validate_on_submit():
        try:
            used = links.LINKS.redeem(token, links.SET_PASSWORD)
        except links.LinkInvalid:
            return portal_page("link_invalid.html"), 400
        accounts.set_password(account, form.password.data, how="reset")
        forget_login_failures(CONNECTOR_ID, account.number)
        if used.purpose == links.RESET:
            # Restored by its address alone: the profiles linked before must prove it again. A
            # replaced password's link keeps the links its owner left when access was taken away.
            recovery.end_links_after_reset(account)
        activation.forget()
        flash(_("Your new password is set. Sign in with it."), "success")
        return to_login()
    return portal_page("reset.html", form=form, number=accounts.label(account.number))


@bp.get("/email/confirm/<token>")
def confirm_email(token: str):
    """Show a button that confirms the new address; link scanners that only GET change nothing."""
    account = _link_account(token, (links.EMAIL,))
    if account is None:
        return portal_page("link_invalid.html"), 400
    return portal_page("confirm_email.html", form=EmptyForm(), number=accounts.label(account.number))


@bp.post("/email/confirm/<token>")
def confirm_email_post(token: str):
    """Make the new address the account's; both addresses are told."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("iptel.confirm_email", token=token))
    account = _link_account(token, (links.EMAIL,))
    try:
        link = links.LINKS.redeem(token, (links.EMAIL,)) if account is not None else None
    except links.LinkInvalid:
        link = None
    if link is None:
        return portal_page("link_invalid.html"), 400
    accounts.change_email(account, link.email, profile_id=getattr(current_profile(), "id", None))
    flash(
        _(
            "The e-mail address of %(number)s is now %(email)s.",
            number=accounts.label(account.number),
            email=account.email,
        ),
        "success",
    )
    if current_profile() is not None:
        return redirect(url_for("services.entry", connector_id=CONNECTOR_ID))
    return to_login()


def _link_account(token: str, purposes: tuple[str, ...]) -> IptelAccount | None:
    """The account of a working link of one of ``purposes`` (None for a dead link or account)."""
    try:
        link = links.LINKS.peek(token, purposes)
    except links.LinkInvalid:
        return None
    account = db.session.get(IptelAccount, link.account_id)
    return account if account is not None and account.status != DISCONNECTED else None
