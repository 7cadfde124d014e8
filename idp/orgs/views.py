"""The customer's administrator's pages: /org (organisations), /org/<id> and its actions, and the
colleague's /invite/<token>.

Every action is confirmed with the person's password and done by the services of idp.orgs, which
check the person's rights themselves; a refusal (OrgError) is shown and changes nothing. Pages show
only the controls the person may use (idp.orgs.pages decides the scope).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.signals import request_finished
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from idp.auth.guards import login_required
from idp.auth.step_up import SmsConfirmation, password_confirmed
from idp.connectors.cabinet import role_name
from idp.connectors.models import OWNER, USER, VIEWER, ServiceLink
from idp.extensions import db
from idp.forms import REQUIRED
from idp.orgs import pages, revocation
from idp.orgs.forms import options
from idp.orgs.services import OrgError
from idp.profiles.models import Profile
from idp.security.phones import display_phone
from idp.sessions.services import current_profile

bp = Blueprint("orgs", __name__)
BY_SMS = SmsConfirmation("org_action")  # the SMS code that confirms one action, bound to its page


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    """Give templates the person's organisations (the home page's card) and keep invitation
    links out of Referer headers."""
    state.app.add_template_global(pages.my_organisations)
    state.app.add_template_global(pages.org_role_name)
    request_finished.connect(_no_referrer, state.app)


def _no_referrer(app: Flask, response, **_extra: Any) -> None:
    """An invitation's secret is in its URL: no page on its way sends it on as a Referer (this
    runs after Talisman has set the site's own policy)."""
    if request.endpoint in INVITATION_ENDPOINTS or (request.args.get("next") or "").startswith("/invite/"):
        response.headers["Referrer-Policy"] = "no-referrer"


# --- the organisations ------------------------------------------------------------------------


@bp.get("/org")
@login_required
def home():
    """The organisations of the signed-in profile; the only one opens at once."""
    entries = pages.my_organisations(current_profile())
    if len(entries) == 1 and entries[0].opens:
        return redirect(url_for("orgs.organisation", org_id=entries[0].membership.org_id))
    return render_template("orgs/home.html", entries=entries)


@bp.get("/org/<int:org_id>")
@login_required
def organisation(org_id: int):
    """The organisation: its people, accounts and who has access, invitations, security events."""
    scope = scope_of(org_id)
    listed, people = pages.people(scope, request.args.get("page", 1, type=int), request.args.get("q", ""))
    return render_template(
        "orgs/organisation.html",
        scope=scope,
        number=pages.number_label(scope.org),
        listed=listed,
        people=people,
        accounts=pages.account_rows(scope),
        invitations=pages.invitation_rows(scope),
        events=pages.events(scope),
        may_invite=pages.may_invite(scope),
        states=pages.INVITATION_STATES,
        statuses=pages.STATUS_NAMES,
    )


def scope_of(org_id: int) -> pages.Scope:
    """What the signed-in person may see and do on organisation ``org_id`` (404 if nothing)."""
    me = current_profile()
    assert me is not None  # behind login_required
    return pages.load_scope(org_id, me)


def back_to(scope: pages.Scope, anchor: str):
    """Back to the organisation page, at one of its cards."""
    return redirect(url_for("orgs.organisation", org_id=scope.org.id) + "#" + anchor)


def attempt(call: Callable[[], Any]) -> bool:
    """Run a service call; when it is refused, undo, show why and return False."""
    try:
        call()
    except OrgError as error:
        db.session.rollback()
        flash(str(error), "error")
        return False
    return True


def action_page(scope: pages.Scope, form, refused: bool = False, **context: Any):
    """An action's confirmation page (its form, what it does, the password)."""
    by_sms = sms_pending()
    code_spent = by_sms and BY_SMS.code_step()["code_spent"]
    page = render_template(
        "orgs/action.html", scope=scope, form=form, by_sms=by_sms, code_spent=code_spent, **context
    )
    return page, 400 if refused else 200


def confirmed(form) -> bool:
    """The form is valid and the person confirmed it: their password again, or the code of the
    SMS they asked for on this very page. Asking for the code ("by_sms") sends it and returns
    False: the page comes back with the form as filled in and a field for the code (the
    password still works instead)."""
    if not form.validate_on_submit():
        return False
    if request.form.get("by_sms"):
        _send_code(form)
        return False
    if sms_pending() and form.code.data:
        return _code_confirms(form)
    if not form.current_password.data:
        waiting_code = sms_pending() and not BY_SMS.code_step()["code_spent"]
        (form.code if waiting_code else form.current_password).errors.append(REQUIRED)
        return False
    return password_confirmed(form)


def sms_pending() -> bool:
    """A code was sent to confirm the action of this page (its URL), and is not used yet."""
    state = BY_SMS.state()
    return state is not None and state.get("path") == request.path


def _send_code(form) -> None:
    if sms_pending():
        BY_SMS.resend()  # after the wait; it says so
        return
    refused = BY_SMS.start(path=request.path)
    if refused:
        form.code.errors.append(refused)
    else:
        me = current_profile()
        assert me is not None
        flash(_("We sent a code by SMS to %(phone)s.", phone=display_phone(me.phone)), "info")


def _code_confirms(form) -> bool:
    refused = BY_SMS.check(form.code.data.strip())
    if refused:
        form.code.errors.append(refused)
        return False
    return True


ROLE_HINTS = {
    OWNER: lambda: _(
        "Everything, including disconnecting the service, the SIP password, and giving and taking access."
    ),
    USER: lambda: _(
        "The cabinet's settings (routing, trunk lines, forwarding), but not disconnecting, "
        "the SIP password or access."
    ),
    VIEWER: lambda: _("The cards and details only."),
}


def role_choices(roles: list[str]) -> tuple[list[SelectChoice], dict[str, str]]:
    """The radio choices of account roles, and what each role may do."""
    return options((role, role_name(role)) for role in roles), {role: ROLE_HINTS[role]() for role in roles}


def invitation_days() -> int:
    return int(current_app.config["IDP_INVITATION_DAYS"])


def holder_of(link: ServiceLink) -> Profile:
    """The profile that holds an access."""
    profile = db.session.get(Profile, link.profile_id)
    assert profile is not None
    return profile


def tell_passwords(done: revocation.Revoked) -> None:
    """Say which accounts got a new SIP password with the revocation."""
    if done.passwords_replaced:
        flash(
            _(
                "A new SIP password was made for %(accounts)s and sent to the account itself.",
                accounts=", ".join(done.passwords_replaced),
            ),
            "info",
        )


INVITATION_ENDPOINTS = {"orgs.invitation", "orgs.invitation_accept", "orgs.invitation_switch"}


# The actions and the colleague's page join the blueprint (they use the helpers above).
from idp.orgs import access_views, invite_views  # noqa: E402, F401
