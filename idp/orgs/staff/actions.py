"""What the staff console does, each action on a page of its own that says what will happen and
asks why (the reason and an optional ticket number go into the audit log, the staff member as
the actor). The services check the actor's rights again; a refusal is shown and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from idp.connectors.cabinet import connector_name, role_name
from idp.connectors.links import owner_of
from idp.connectors.models import OWNER, ServiceLink
from idp.extensions import db
from idp.i18n import safe_next
from idp.orgs import invitations, revocation
from idp.orgs.models import Invitation, Membership, OrgAccount
from idp.orgs.people import people_page
from idp.orgs.services import OrgError, account_label
from idp.orgs.staff.blueprint import bp
from idp.orgs.staff.guard import ACCESS, PROFILE, SESSIONS, actor, staff_view
from idp.orgs.staff_forms import (
    END,
    ActionForm,
    RemoveMemberForm,
    ResetSecondFactorForm,
    RevokeAccessForm,
    TransferForm,
)
from idp.profiles.models import Profile
from idp.security.phones import display_phone


def _back(default: str) -> str:
    """The console page the action was started from (``next``), else ``default``."""
    target = safe_next(request.args.get("next"), default)
    return target if target.startswith("/staff/") else default


def _act(
    form: ActionForm,
    perform: Callable[[], str],
    back: str,
    **page: Any,
) -> Response | str:
    """Show the action's page; on a valid form ``perform`` it (it returns what to tell the staff
    member) and go back; a refusal of the service is shown on the page and nothing changed."""
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            done = perform()
        except OrgError as error:
            db.session.rollback()
            errors.append(str(error))
        else:
            flash(done, "success")
            return redirect(back)
    return render_template("staff/action.html", form=form, back=back, refused=errors, **page)


def _person(profile_id: int) -> Profile:
    return db.session.get(Profile, profile_id) or abort(404)


def _profile_page(profile_id: int) -> str:
    return url_for("staff.profile", profile_id=profile_id)


# --- access --------------------------------------------------------------------------------------


@bp.route("/access/<int:link_id>/revoke", methods=["GET", "POST"])
@staff_view(ACCESS)
def revoke(link_id: int):
    """Take one person's access to one account away (the whole J8 cascade)."""
    link = db.session.get(ServiceLink, link_id) or abort(404)
    person = _person(link.profile_id)
    label = account_label(link.connector, link.account)
    form = RevokeAccessForm()

    def perform() -> str:
        done = revocation.revoke_access(
            actor(), link, form.reason.data, form.replace_password.data, form.ticket_number
        )
        text = _(
            "%(name)s no longer has access to %(account)s. Sessions ended: %(count)s.",
            name=person.full_name,
            account=label,
            count=done.sessions_ended,
        )
        if done.passwords_replaced:
            text += " " + _("A new SIP password was sent to the account's holder.")
        return text

    lines = [
        _(
            "%(name)s (%(phone)s) has the role %(role)s on %(service)s %(account)s.",
            name=person.full_name,
            phone=display_phone(person.phone),
            role=role_name(link.role),
            service=connector_name(link.connector),
            account=label,
        ),
        *_cascade_lines(),
    ]
    if link.role == OWNER:
        lines.append(
            _(
                "This person owns the account: it will have no owner. "
                "Hand the ownership on instead if somebody takes over."
            )
        )
    return _act(
        form,
        perform,
        _back(_profile_page(person.id)),
        title=_("Take access away"),
        lines=lines,
        submit=_("Take access away"),
        danger=True,
    )


def _cascade_lines() -> list[str]:
    return [
        _("Every session of the person ends, and every application signs them in again."),
        _("Their access tokens stop working at once; they are told by e-mail."),
    ]


@bp.route("/members/<int:member_id>/remove", methods=["GET", "POST"])
@staff_view(ACCESS)
def remove(member_id: int):
    """Remove a person from an organisation: every access of theirs to its accounts goes too."""
    member = db.session.get(Membership, member_id) or abort(404)
    org, person = member.organisation, member.profile
    form = RemoveMemberForm()

    def perform() -> str:
        done = revocation.remove_member(
            actor(), org, member, form.reason.data, form.replace_password.data, form.ticket_number
        )
        return _(
            "%(name)s is no longer in %(organisation)s. Accounts taken away: %(count)s.",
            name=person.full_name,
            organisation=org.name,
            count=len(done.accounts),
        )

    lines = [
        _(
            "%(name)s (%(phone)s) leaves %(organisation)s, with every access to its accounts.",
            name=person.full_name,
            phone=display_phone(person.phone),
            organisation=org.name,
        ),
        *_cascade_lines(),
    ]
    return _act(
        form,
        perform,
        _back(url_for("staff.organisation", org_id=org.id)),
        title=_("Remove from the organisation"),
        lines=lines,
        submit=_("Remove from the organisation"),
        danger=True,
    )


@bp.route("/accounts/<int:org_account_id>/transfer", methods=["GET", "POST"])
@staff_view(ACCESS)
def transfer(org_account_id: int):
    """Make another member of the organisation the account's owner."""
    row = db.session.get(OrgAccount, org_account_id) or abort(404)
    org, label = row.organisation, account_label(row.connector, row.account)
    owner = owner_of(row.connector, row.account)
    form = TransferForm()
    # The people found by the page's search (?q=, kept by the form's post), a page at a time.
    listed = people_page(org, query=request.args.get("q", ""), excluding=owner.profile_id if owner else None)
    form.new_owner.choices = [
        SelectChoice(str(m.profile_id), f"{m.profile.full_name} · {display_phone(m.profile.phone)}")
        for m in listed.rows
    ]

    def perform() -> str:
        new_owner = _person(int(form.new_owner.data))
        revocation.transfer_ownership(
            actor(),
            row.connector,
            row.account,
            new_owner,
            form.old_owner.data != END,
            form.reason.data,
            form.ticket_number,
        )
        return _("%(name)s now owns %(account)s.", name=new_owner.full_name, account=label)

    present = db.session.get(Profile, owner.profile_id) if owner is not None else None
    lines = [
        _("Account %(account)s of %(organisation)s.", account=label, organisation=org.name),
        _("Its owner now: %(name)s.", name=present.full_name) if present else _("It has no owner now."),
    ]
    return _act(
        form,
        perform,
        _back(url_for("staff.organisation", org_id=org.id)),
        title=_("Hand the ownership on"),
        lines=lines,
        submit=_("Hand the ownership on"),
        danger=False,
        listed=listed,
    )


@bp.route("/invitations/<int:invitation_id>/resend", methods=["GET", "POST"], defaults={"what": "resend"})
@bp.route("/invitations/<int:invitation_id>/withdraw", methods=["GET", "POST"], defaults={"what": "withdraw"})
@staff_view(ACCESS)
def invitation(invitation_id: int, what: str):
    """Send an invitation again, or withdraw it."""
    found = db.session.get(Invitation, invitation_id) or abort(404)
    form = ActionForm()
    address = invitations.shown_address(found)

    def perform() -> str:
        if what == "resend":
            invitations.resend(actor(), found, form.reason.data, form.ticket_number)
            return _("The invitation was sent again to %(address)s.", address=address)
        invitations.withdraw(actor(), found, form.reason.data, form.ticket_number)
        return _("The invitation to %(address)s was withdrawn: its link no longer works.", address=address)

    title = _("Send the invitation again") if what == "resend" else _("Withdraw the invitation")
    lines = [
        _(
            "An invitation of %(address)s to %(organisation)s, with the role %(role)s on %(accounts)s.",
            address=address,
            organisation=found.organisation.name,
            role=role_name(found.role),
            accounts=", ".join(account_label(c, a) for c, a in found.accounts),
        )
    ]
    if what == "resend":
        lines.append(_("A new link is sent; the old one stops working."))
    return _act(
        form,
        perform,
        _back(url_for("staff.organisation", org_id=found.org_id)),
        title=title,
        lines=lines,
        submit=title,
        danger=what == "withdraw",
    )


# --- sessions and the profile itself -----------------------------------------------------------


@bp.route("/profiles/<int:profile_id>/sessions/end", methods=["GET", "POST"])
@staff_view(SESSIONS)
def end_sessions(profile_id: int):
    """End every session and grant of a profile (it signs in again everywhere)."""
    person = _person(profile_id)
    form = ActionForm()

    def perform() -> str:
        count = revocation.end_all_sessions(actor(), person, form.reason.data, form.ticket_number)
        return _("Sessions of %(name)s ended: %(count)s.", name=person.full_name, count=count)

    return _act(
        form,
        perform,
        _back(_profile_page(person.id)),
        title=_("End every session"),
        lines=[
            _(
                "%(name)s (%(phone)s) is signed out of every browser and application.",
                name=person.full_name,
                phone=display_phone(person.phone),
            ),
            _("Nothing else changes: they can sign in again at once."),
        ],
        submit=_("End every session"),
        danger=True,
    )


@bp.route("/profiles/<int:profile_id>/disable", methods=["GET", "POST"], defaults={"what": "disable"})
@bp.route("/profiles/<int:profile_id>/enable", methods=["GET", "POST"], defaults={"what": "enable"})
@staff_view(PROFILE)
def disable(profile_id: int, what: str):
    """Disable a profile (it cannot sign in; every session ends) or enable it again."""
    person = _person(profile_id)
    if person.disabled == (what == "disable"):
        return redirect(_profile_page(person.id))
    form = ActionForm()

    def perform() -> str:
        if what == "disable":
            revocation.disable_profile(actor(), person, form.reason.data, form.ticket_number)
            return _("The profile of %(name)s is disabled.", name=person.full_name)
        revocation.enable_profile(actor(), person, form.reason.data, form.ticket_number)
        return _("The profile of %(name)s is enabled again.", name=person.full_name)

    if what == "disable":
        title = _("Disable the profile")
        lines = [
            _(
                "%(name)s (%(phone)s) cannot sign in until the profile is enabled again.",
                name=person.full_name,
                phone=display_phone(person.phone),
            ),
            _("Every session ends now, and applications are told; the access to accounts is kept for later."),
        ]
    else:
        title = _("Enable the profile")
        lines = [_("%(name)s can sign in again.", name=person.full_name)]
    return _act(
        form,
        perform,
        _back(_profile_page(person.id)),
        title=title,
        lines=lines,
        submit=title,
        danger=what == "disable",
    )


@bp.route("/profiles/<int:profile_id>/second-factor/reset", methods=["GET", "POST"])
@staff_view(PROFILE)
def reset_second_factor(profile_id: int):
    """Turn a profile's second factors off after the staff member checked who is asking."""
    person = _person(profile_id)
    if not person.two_factor_enabled:
        flash(_("This profile has no second factor to reset."), "info")
        return redirect(_profile_page(person.id))
    form = ResetSecondFactorForm()
    form.identity_checked.label.text = _(
        "I checked the person's identity: they are %(name)s and hold the phone %(phone)s "
        "(a call back to it, or an identity document).",
        name=person.full_name,
        phone=display_phone(person.phone),
    )

    def perform() -> str:
        revocation.reset_second_factor(actor(), person, form.reason.data, form.ticket_number)
        return _(
            "The second factor of %(name)s is reset: they sign in with the password alone "
            "and are told by e-mail.",
            name=person.full_name,
        )

    return _act(
        form,
        perform,
        _back(_profile_page(person.id)),
        title=_("Reset the second factor"),
        lines=[
            _("The SMS codes at sign-in, the authenticator app and the recovery codes are turned off."),
            _("Do this only for the person themselves, after checking who is asking."),
        ],
        submit=_("Reset the second factor"),
        danger=True,
    )
