"""What the staff console shows: the search, a profile and an organisation (reading only)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, render_template, request

from idp.audit.services import recent_events
from idp.connectors.links import links_of
from idp.connectors.models import ServiceLink
from idp.extensions import db
from idp.oauth.access import applications
from idp.orgs import invitations
from idp.orgs.models import OrgAccount, Organisation
from idp.orgs.people import people_page
from idp.orgs.search import Holder, holders_of_each, search
from idp.orgs.services import (
    account_label,
    accounts_of,
    memberships_of,
    organisation_of,
    staff_role,
)
from idp.orgs.staff.blueprint import bp
from idp.orgs.staff.guard import staff_view
from idp.orgs.staff_forms import SearchForm
from idp.profiles.models import Profile
from idp.sessions.services import active_sessions


@dataclass
class HeldAccount:
    """One of a profile's accounts: its link (the role) and the organisation it belongs to."""

    link: ServiceLink
    label: str
    organisation: Organisation | None


@dataclass
class OrgAccountView:
    """One of an organisation's accounts and who holds access to it."""

    row: OrgAccount
    label: str
    holders: list[Holder]


@bp.get("")
@staff_view()
def home():
    """The search: phone (any format), e-mail, registration number or name, service account."""
    form = SearchForm(request.args)
    results = search(form.q.data) if form.q.data and form.validate() else None
    return render_template("staff/home.html", form=form, results=results)


@bp.get("/profiles/<int:profile_id>")
@staff_view()
def profile(profile_id: int):
    """Everything about one profile the operator may need to help or to act."""
    person = db.session.get(Profile, profile_id) or abort(404)
    held = [
        HeldAccount(
            link, account_label(link.connector, link.account), organisation_of(link.connector, link.account)
        )
        for link in links_of(person.id)
    ]
    return render_template(
        "staff/profile.html",
        person=person,
        person_staff_role=staff_role(person.id),
        memberships=memberships_of(person.id),
        held=held,
        sessions=active_sessions(person.id),
        apps=applications(person.id),
        invited=invitations.invitations_to(person),
        events=recent_events(person.id, 20),
    )


@bp.get("/orgs/<int:org_id>")
@staff_view()
def organisation(org_id: int):
    """An organisation: its people, its accounts with who holds each, its pending invitations."""
    org = db.session.get(Organisation, org_id) or abort(404)
    rows = accounts_of(org)
    held = holders_of_each((row.connector, row.account) for row in rows)
    accounts = [
        OrgAccountView(
            row, account_label(row.connector, row.account), held.get((row.connector, row.account), [])
        )
        for row in rows
    ]
    return render_template(
        "staff/org.html",
        org=org,
        listed=people_page(org, request.args.get("page", 1, type=int), request.args.get("q", "")),
        accounts=accounts,
        pending=invitations.pending_of(org),
        shown_address=invitations.shown_address,
    )
