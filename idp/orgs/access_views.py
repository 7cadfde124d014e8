"""Access on the organisation page: a colleague's role on an account, taking access away (J8),
handing an account's ownership on, and the organisation's people (administrators, removal)."""

from __future__ import annotations

from flask import abort, flash, request
from flask_babel import gettext as _

from idp.auth.guards import login_required
from idp.connectors.cabinet import role_name
from idp.connectors.links import owner_of
from idp.connectors.models import USER, VIEWER
from idp.orgs import pages, revocation, services
from idp.orgs.forms import AccountRoleForm, MemberRoleForm, RevokeForm, TransferForm, options
from idp.orgs.models import ORG_ADMIN, ORG_MEMBER
from idp.orgs.people import people_page
from idp.orgs.services import account_label
from idp.orgs.views import (
    action_page,
    attempt,
    back_to,
    bp,
    confirmed,
    holder_of,
    role_choices,
    scope_of,
    tell_passwords,
)

# --- access to accounts -----------------------------------------------------------------------


@bp.route("/org/<int:org_id>/access/<int:link_id>/role", methods=["GET", "POST"])
@login_required
def access_role(org_id: int, link_id: int):
    """Give a colleague another role on an account (viewer or user)."""
    scope = scope_of(org_id)
    link = scope.link(link_id)
    name, account = holder_of(link).full_name, account_label(link.connector, link.account)
    form = AccountRoleForm()
    form.role.choices, hints = role_choices([VIEWER, USER])
    if request.method == "GET":
        form.role.data = link.role if link.role in (VIEWER, USER) else USER
    refused = False
    if confirmed(form):
        role = form.role.data
        if attempt(lambda: revocation.change_role(scope.actor, link, role)):
            flash(
                _(
                    "%(name)s now has the role %(role)s on account %(account)s.",
                    name=name,
                    role=role_name(role),
                    account=account,
                ),
                "success",
            )
            return back_to(scope, "accounts")
        refused = True
    return action_page(
        scope,
        form,
        refused,
        title=_("Change the role of %(name)s on %(account)s", name=name, account=account),
        lines=[
            _(
                "A lower role takes effect at once: their sessions end, and the services they use ask "
                "them to sign in again."
            )
        ],
        hints={"role": hints},
        submit=_("Change the role"),
    )


@bp.route("/org/<int:org_id>/access/<int:link_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(org_id: int, link_id: int):
    """Take one person's access to one account away (J8)."""
    scope = scope_of(org_id)
    link = scope.link(link_id)
    name, account = holder_of(link).full_name, account_label(link.connector, link.account)
    form = RevokeForm()
    refused = False
    if confirmed(form):
        done: list[revocation.Revoked] = []
        if attempt(
            lambda: done.append(
                revocation.revoke_access(scope.actor, link, form.reason.data, form.replace_password.data)
            )
        ):
            flash(
                _(
                    "%(name)s no longer has access to account %(account)s; their sessions were ended.",
                    name=name,
                    account=account,
                ),
                "success",
            )
            tell_passwords(done[0])
            return back_to(scope, "accounts")
        refused = True
    return action_page(
        scope,
        form,
        refused,
        title=_("Take away the access of %(name)s to %(account)s", name=name, account=account),
        lines=[
            _(
                "The access ends at once: their sessions end everywhere, the services they signed in to "
                "sign them out, and they receive a notice."
            )
        ],
        submit=_("Take the access away"),
        danger=True,
    )


@bp.route("/org/<int:org_id>/accounts/<int:account_id>/transfer", methods=["GET", "POST"])
@login_required
def transfer(org_id: int, account_id: int):
    """Make another person of the organisation the account's owner."""
    scope = scope_of(org_id)
    if not scope.manages:
        abort(404)
    row = scope.account(account_id)
    account = account_label(row.connector, row.account)
    owner = owner_of(row.connector, row.account)
    form = TransferForm()
    # The people found by the page's search (?q=, kept by the form's post), a page at a time.
    listed = people_page(
        scope.org, query=request.args.get("q", ""), excluding=owner.profile_id if owner else None
    )
    form.new_owner.choices = options(
        (str(m.id), f"{m.profile.full_name} · {m.profile.email}") for m in listed.rows
    )
    if owner is None:
        del form.old_owner
    else:
        form.old_owner.choices = options(
            [
                ("keep", _("keeps user access")),
                ("lose", _("loses access to the account (their sessions end)")),
            ]
        )
    refused = False
    if confirmed(form):
        member = scope.member(int(form.new_owner.data))
        keeps = owner is None or form.old_owner.data == "keep"
        if attempt(
            lambda: revocation.transfer_ownership(
                scope.actor, row.connector, row.account, member.profile, keeps, form.reason.data
            )
        ):
            flash(
                _("%(name)s now owns account %(account)s.", name=member.profile.full_name, account=account),
                "success",
            )
            return back_to(scope, "accounts")
        refused = True
    present = holder_of(owner).full_name if owner is not None else None
    return action_page(
        scope,
        form,
        refused,
        title=_("Hand on the ownership of account %(account)s", account=account),
        lines=[
            _("The present owner: %(name)s.", name=present)
            if present
            else _("The account has no owner yet."),
            _("The owner can do everything with the account, including giving and taking access."),
            *(
                [_("You own this account: handing it on ends your sessions too, and you sign in again.")]
                if owner is not None and owner.profile_id == scope.me.id
                else []
            ),
        ],
        submit=_("Hand on the ownership"),
        listed=listed,
    )


# --- people -----------------------------------------------------------------------------------


@bp.route("/org/<int:org_id>/members/<int:member_id>/role", methods=["GET", "POST"])
@login_required
def member_role(org_id: int, member_id: int):
    """Make a person an administrator of the organisation, or a plain member again."""
    scope = scope_of(org_id)
    member = scope.member(member_id)
    name = member.profile.full_name
    form = MemberRoleForm()
    form.role.choices = options((role, pages.org_role_name(role)) for role in (ORG_MEMBER, ORG_ADMIN))
    hints = {
        ORG_ADMIN: _("Manages the organisation's people, accounts and access."),
        ORG_MEMBER: _("Works with the accounts they were given access to."),
    }
    if request.method == "GET":
        form.role.data = ORG_MEMBER if member.role == ORG_ADMIN else ORG_ADMIN
    refused = False
    if confirmed(form):
        role = form.role.data
        if attempt(lambda: services.set_member_role(scope.actor, scope.org, member, role)):
            flash(
                _(
                    "The role of %(name)s in the organisation is now: %(role)s.",
                    name=name,
                    role=pages.org_role_name(role),
                ),
                "success",
            )
            return back_to(scope, "people")
        refused = True
    return action_page(
        scope,
        form,
        refused,
        title=_("The role of %(name)s in the organisation", name=name),
        lines=[],
        hints={"role": hints},
        submit=_("Change the role"),
    )


@bp.route("/org/<int:org_id>/members/<int:member_id>/remove", methods=["GET", "POST"])
@login_required
def remove(org_id: int, member_id: int):
    """Remove a person from the organisation: every access of theirs to its accounts ends."""
    scope = scope_of(org_id)
    member = scope.member(member_id)
    name = member.profile.full_name
    form = RevokeForm()
    refused = False
    if confirmed(form):
        done: list[revocation.Revoked] = []
        if attempt(
            lambda: done.append(
                revocation.remove_member(
                    scope.actor, scope.org, member, form.reason.data, form.replace_password.data
                )
            )
        ):
            flash(
                _(
                    "%(name)s was removed from the organisation; their access to its accounts ended.",
                    name=name,
                ),
                "success",
            )
            tell_passwords(done[0])
            return back_to(scope, "people")
        refused = True
    return action_page(
        scope,
        form,
        refused,
        title=_("Remove %(name)s from the organisation", name=name),
        lines=[
            _(
                "Every access of theirs to the organisation's accounts ends at once, their sessions end "
                "everywhere, and they receive a notice."
            )
        ],
        submit=_("Remove from the organisation"),
        danger=True,
    )
