"""Invitations on the organisation page (invite, send again, withdraw) and the colleague's
/invite/<token> (sign in or register, then accept)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from idp.audit.services import record
from idp.auth.guards import login_required
from idp.connectors.models import ACCOUNT_ROLES, USER
from idp.extensions import db
from idp.forms import EmptyForm
from idp.i18n import current_locale
from idp.orgs import invitations, pages
from idp.orgs.forms import ConfirmForm, InviteForm, options
from idp.orgs.models import Invitation
from idp.orgs.services import OrgError, account_label
from idp.orgs.views import (
    action_page,
    attempt,
    back_to,
    bp,
    confirmed,
    invitation_days,
    role_choices,
    scope_of,
)
from idp.sessions.services import current_profile, sign_out

# --- invitations ------------------------------------------------------------------------------


@bp.route("/org/<int:org_id>/invite", methods=["GET", "POST"])
@login_required
def invite(org_id: int):
    """Invite a colleague by SMS or e-mail to accounts of the organisation, with a role."""
    scope = scope_of(org_id)
    offered = pages.invitable(scope)
    if not offered:
        abort(404)
    form = InviteForm()
    form.channel.choices = options([(invitations.SMS, _("By SMS")), (invitations.EMAIL, _("By e-mail"))])
    form.accounts.choices = options(
        (str(row.id), account_label(row.connector, row.account)) for row, _r in offered
    )
    roles = [role for role in ACCOUNT_ROLES if any(role in given for _row, given in offered)]
    form.role.choices, hints = role_choices(roles)
    if request.method == "GET":
        form.language.data = current_locale()
        form.role.data = USER if USER in roles else roles[0]
        if len(offered) == 1:
            form.accounts.data = [str(offered[0][0].id)]
    refused = False
    if confirmed(form):
        chosen = [scope.account(int(value)) for value in form.accounts.data]
        made: list[Invitation] = []
        if attempt(
            lambda: made.append(
                invitations.invite(
                    scope.actor,
                    scope.org,
                    form.channel.data,
                    form.address.data,
                    [(row.connector, row.account) for row in chosen],
                    form.role.data,
                    form.language.data,
                )
            )
        ):
            address = invitations.shown_address(made[0])
            flash(_("The invitation was sent to %(address)s.", address=address), "success")
            return back_to(scope, "invitations")
        refused = True
    return action_page(
        scope,
        form,
        refused,
        title=_("Invite a colleague"),
        lines=[
            _(
                "Your colleague receives a link, signs in with their own business profile or registers "
                "one, and must hold the phone number or e-mail address you give. Nobody shares a password."
            ),
            _(
                "The invitation works once and is valid for %(days)s days.",
                days=invitation_days(),
            ),
        ],
        hints={"role": hints},
        submit=_("Send the invitation"),
    )


@bp.route("/org/<int:org_id>/invitations/<int:invitation_id>/resend", methods=["GET", "POST"])
@login_required
def resend(org_id: int, invitation_id: int):
    """Send an invitation again with a new link (the old one stops working)."""
    scope = scope_of(org_id)
    found = scope.invitation(invitation_id)
    form = ConfirmForm()
    address = invitations.shown_address(found)
    refused = False
    if confirmed(form):
        if attempt(lambda: invitations.resend(scope.actor, found)):
            flash(_("The invitation was sent again to %(address)s.", address=address), "success")
            return back_to(scope, "invitations")
        refused = True
    return action_page(
        scope,
        form,
        refused,
        title=_("Send the invitation again"),
        lines=[
            _(
                "A new message goes to %(address)s with a new link; the old link stops working.",
                address=address,
            ),
            _("The invitation is valid for %(days)s days from now.", days=invitation_days()),
        ],
        submit=_("Send again"),
    )


@bp.route("/org/<int:org_id>/invitations/<int:invitation_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(org_id: int, invitation_id: int):
    """Withdraw a pending invitation."""
    scope = scope_of(org_id)
    found = scope.invitation(invitation_id)
    form = ConfirmForm()
    address = invitations.shown_address(found)
    refused = False
    if confirmed(form):
        if attempt(lambda: invitations.withdraw(scope.actor, found)):
            flash(
                _("The invitation to %(address)s was withdrawn: its link no longer works.", address=address),
                "success",
            )
            return back_to(scope, "invitations")
        refused = True
    return action_page(
        scope,
        form,
        refused,
        title=_("Withdraw the invitation"),
        lines=[_("The link sent to %(address)s stops working.", address=address)],
        submit=_("Withdraw"),
        danger=True,
    )


# --- the colleague's side of an invitation ----------------------------------------------------


@bp.get("/invite/<token>")
def invitation(token: str):
    """An invitation: what it gives and how to take it (sign in or register, then accept)."""
    found = invitations.by_token(token)
    why = invitations.refusal(found)
    profile = current_profile()
    if found is None or why is not None:
        return render_template("orgs/invitation.html", why=why), 404 if found is None else 410
    here = url_for("orgs.invitation", token=token)
    hint = found.address
    return render_template(
        "orgs/invitation.html",
        invitation=found,
        token=token,
        accounts=[account_label(c, a) for c, a in found.accounts],
        holder_why=invitations.holder_refusal(found, profile) if profile is not None else None,
        signin_url=url_for("auth.signin", next=here, login_hint=hint),
        register_url=url_for(
            "registration.phone", next=here, phone=hint if found.channel == invitations.SMS else None
        ),
        form=EmptyForm(),
    )


@bp.post("/invite/<token>")
def invitation_accept(token: str):
    """Accept the invitation as the signed-in profile; its home then shows the accounts."""
    here = url_for("orgs.invitation", token=token)
    profile = current_profile()
    if profile is None:
        return redirect(url_for("auth.signin", next=here))
    if not EmptyForm().validate_on_submit():
        return redirect(here)
    try:
        accepted = invitations.accept(token, profile)
    except OrgError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(here)
    if not accepted.accounts:  # a directory's invitation to the organisation alone
        flash(_("You joined %(organisation)s.", organisation=accepted.organisation.name), "success")
        return redirect(url_for("profiles.home"))
    flash(
        _(
            "You now have access to %(accounts)s of %(organisation)s.",
            accounts=", ".join(account_label(c, a) for c, a in accepted.accounts),
            organisation=accepted.organisation.name,
        ),
        "success",
    )
    return redirect(url_for("profiles.home"))


@bp.post("/invite/<token>/switch")
def invitation_switch(token: str):
    """Sign out, to come back to the invitation with the profile it was sent to."""
    here = url_for("orgs.invitation", token=token)
    profile = current_profile()
    if profile is not None and EmptyForm().validate_on_submit():
        record("signout", profile.id)
        db.session.commit()
        sign_out()
    return redirect(url_for("auth.signin", next=here))
