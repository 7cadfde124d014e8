"""Pages every connector shares: the service login, linking to the profile, the account chooser.

seed 004 §1–§2: the service login takes the account's own credentials (SIP login and password);
the person then signs in with the business profile or registers one, and the account is linked.
With several linked accounts, entering the service shows a chooser; one account is active per
browser session.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from idp.audit.services import record
from idp.auth import throttle
from idp.auth.errors import Locked, Throttled, WrongCredentials
from idp.auth.messages import credential_error
from idp.connectors import registry
from idp.connectors.cabinet import BackendUnavailable, read_backend
from idp.connectors.contract import Connector, VerifiedAccount
from idp.connectors.links import (
    LinkRefused,
    activate,
    active_link,
    drop_pending,
    drop_target,
    find_link,
    hold_pending,
    link_pending,
    links_of,
    pending,
    pending_flow,
    posted_link,
    remember_target,
    take_target,
)
from idp.extensions import db, limiter
from idp.forms import REQUIRED, EmptyForm
from idp.i18n import current_locale
from idp.security.phones import InvalidPhone, normalize_phone
from idp.sessions.services import current_profile, sign_out

bp = Blueprint("services", __name__, url_prefix="/services")


class ServiceLoginForm(FlaskForm):
    login = StringField(
        _l("Account"),
        [DataRequired(REQUIRED), Length(max=64)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        [DataRequired(REQUIRED), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )


def _connector(connector_id: str) -> Connector:
    connector = registry.get(connector_id)
    if connector is None:
        abort(404)
    return connector


def _cabinet(connector: Connector):
    """Into the active account: the page the person was going to, if the service remembered one
    (``remember_target``), else the cabinet's start."""
    return redirect(take_target(connector.id) or url_for(f"{connector.id}.cabinet"))


def _to_login(connector: Connector):
    return redirect(url_for("services.login", connector_id=connector.id))


def _signin_limit() -> str:
    return current_app.config["IDP_SIGNIN_LIMIT_IP"]


def login_throttle_key(connector_id: str, account: str) -> str:
    """The sign-in throttling key of one account of a service (its failures count together)."""
    return f"service:{connector_id}:{account}"


def forget_login_failures(connector_id: str, account: str) -> None:
    """Clear the sign-in throttling of an account that proved itself another way (an e-mailed
    reset link)."""
    throttle.reset(login_throttle_key(connector_id, account))


def verify_service_login(connector: Connector, login: str, password: str) -> VerifiedAccount:
    """Check an account's own credentials under the sign-in throttling; raise like ``authenticate``.

    The attempt is counted before the backend is asked (``throttle.take``), and given back when the
    backend cannot answer: that is not the person's failure.
    """
    normalised = connector.normalise_login(login)
    key = login_throttle_key(connector.id, normalised or login.strip().lower())
    attempt = throttle.take(key)
    try:
        verified = (
            read_backend(
                lambda: connector.verify_credentials(normalised, password),
                f"{connector.id}.verify_credentials",
            )
            if normalised
            else None
        )
    except BackendUnavailable:
        throttle.give_back(attempt)
        raise
    if verified is None:
        record("service.signin_failed", None, connector=connector.id, account=normalised)
        db.session.commit()
        raise WrongCredentials()
    throttle.reset(key)
    return verified


@bp.get("/<connector_id>/")
def entry(connector_id: str):
    """Enter a service: its login, the account chooser, or straight into the active account."""
    connector = _connector(connector_id)
    remember_target(connector.id, request.args.get("next"))
    profile = current_profile()
    if profile is None:
        return _to_login(connector)
    if active_link(profile.id, connector.id) is not None:
        return _cabinet(connector)
    links = links_of(profile.id, connector.id)
    if len(links) == 1:
        activate(links[0])
        return _cabinet(connector)
    if not links:
        return _to_login(connector)
    return redirect(url_for("services.choose", connector_id=connector.id))


@bp.route("/<connector_id>/login", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"])
def login(connector_id: str):
    """The service's own login: the account and its password (seed 004 §1)."""
    connector = _connector(connector_id)
    if request.method == "GET":
        remember_target(connector.id, request.args.get("next"))
    form = ServiceLoginForm()
    locale = current_locale()
    form.login.label.text = connector.login_labels.get(locale) or form.login.label.text
    if form.validate_on_submit() and not _not_an_account(connector, form, locale):
        try:
            verified = verify_service_login(connector, form.login.data, form.password.data)
        except (WrongCredentials, Throttled, Locked) as error:
            form.password.errors.append(_service_credential_error(error))
        except BackendUnavailable:
            form.password.errors.append(
                _(
                    "%(service)s cannot check the password right now. Try again in a few minutes.",
                    service=connector.name(locale),
                )
            )
        else:
            step = connector.after_login(verified)
            return redirect(step) if step else continue_service_login(connector, verified)
    return render_template(
        "services/login.html",
        connector=connector,
        form=form,
        hint=connector.login_hints.get(locale),
        profile=current_profile(),
        forgot_url=connector.forgot_password_url(),
    )


def _not_an_account(connector: Connector, form: ServiceLoginForm, locale: str) -> bool:
    """Whether the typed login cannot be an account of the service at all; if so the field says
    what its logins look like. Only the typed text decides, so this tells nothing about any
    account; no password is tried and no failure counted."""
    if connector.normalise_login(form.login.data) is not None:
        return False
    form.login.errors.append(connector.login_error(locale))
    return True


def _service_credential_error(error: Exception) -> str:
    if isinstance(error, WrongCredentials):
        return _("The account or its password is wrong.")
    return credential_error(error)


def continue_service_login(connector: Connector, verified: VerifiedAccount):
    """The account is proven: open its cabinet if this profile has it, or go on to linking."""
    profile = current_profile()
    if profile is not None:
        mine = find_link(profile.id, connector.id, verified.account)
        if mine is not None:
            activate(mine)
            return _cabinet(connector)
    hold_pending(connector.id, verified, profile.id if profile else None)
    return redirect(url_for("services.link", connector_id=connector.id))


@bp.get("/<connector_id>/link")
def link(connector_id: str):
    """The account is proven: sign in with the business profile, or register one, to link it."""
    connector = _connector(connector_id)
    verified = pending(connector.id)
    if verified is None:
        return _to_login(connector)
    complete = url_for("services.link_complete", connector_id=connector.id, flow=pending_flow(connector.id))
    phone = _as_phone(verified.account)
    return render_template(
        "services/link.html",
        connector=connector,
        account=verified,
        profile=current_profile(),
        signin_url=url_for("auth.signin", next=complete, reauth="1"),
        register_url=url_for("registration.phone", next=complete, phone=phone),
    )


def _as_phone(account: str) -> str | None:
    try:
        return normalize_phone(account if account.startswith("+") else f"+{account}")
    except InvalidPhone:
        return None


@bp.route("/<connector_id>/link/complete", methods=["GET", "POST"])
def link_complete(connector_id: str):
    """Back from the profile's sign-in: the person confirms the account, then it is linked.

    Only the sign-in that continued the service login's flow carried the waiting account here
    (``carried_through_sign_in``), and the account is named before it is linked, so nobody links
    an account somebody else proved in this browser without seeing which.
    """
    connector = _connector(connector_id)
    profile = current_profile()
    if profile is None:
        return _to_login(connector)
    flow = request.args.get("flow", "")
    waiting = pending(connector.id, flow) if flow else None
    if waiting is None:
        return redirect(url_for("services.entry", connector_id=connector.id))
    form = EmptyForm()
    if find_link(profile.id, connector.id, waiting.account) is not None:
        link_pending(profile, flow)  # already this profile's: it only becomes the active one
        return _cabinet(connector)
    if not form.validate_on_submit():
        return render_template(
            "services/link_confirm.html", connector=connector, account=waiting, profile=profile, form=form
        )
    if request.form.get("decision") != "link":
        drop_pending()
        flash(_("Account %(account)s was not linked.", account=waiting.label), "info")
        return redirect(url_for("profiles.home"))
    try:
        link_pending(profile, flow)
    except LinkRefused:
        return render_template("services/link_refused.html", connector=connector, account=waiting), 409
    flash(_("Account %(account)s is now linked to your business profile.", account=waiting.label), "success")
    return _cabinet(connector)


@bp.route("/<connector_id>/choose", methods=["GET", "POST"])
def choose(connector_id: str):
    """The account chooser: which linked account to work in (seed 004 §2 c)."""
    connector = _connector(connector_id)
    profile = current_profile()
    if profile is None:
        return _to_login(connector)
    links = links_of(profile.id, connector.id)
    form = EmptyForm()
    if form.validate_on_submit():
        chosen = posted_link(profile.id, request.form.get("link"), connector.id)
        if chosen is not None:
            activate(chosen)
            return _cabinet(connector)
        flash(_("Choose one of your accounts."), "error")
    if not links:
        return _to_login(connector)
    current = active_link(profile.id, connector.id)
    return render_template(
        "services/choose.html", connector=connector, links=links, form=form, current=current
    )


@bp.post("/<connector_id>/open")
def open_account(connector_id: str):
    """Open a linked account's cabinet from the profile's home (it becomes the active account)."""
    connector = _connector(connector_id)
    profile = current_profile()
    if profile is None:
        return _to_login(connector)
    chosen = posted_link(profile.id, request.form.get("link"), connector.id)
    if not EmptyForm().validate_on_submit() or chosen is None:
        return redirect(url_for("services.entry", connector_id=connector.id))
    activate(chosen)
    drop_target()  # opened from the profile's home: its start, not a page left behind earlier
    return _cabinet(connector)


@bp.post("/<connector_id>/signout")
def signout(connector_id: str):
    """Sign out of the cabinet: the browser's session ends (seed 004 §4, "Sign out")."""
    connector = _connector(connector_id)
    profile = current_profile()
    if EmptyForm().validate_on_submit() and profile is not None:
        record("signout", profile.id, connector=connector.id)
        db.session.commit()
        sign_out()
        flash(_("You have signed out."), "info")
    return _to_login(connector)
