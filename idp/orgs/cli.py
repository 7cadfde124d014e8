"""``idp orgs``, ``idp staff`` and ``idp access``: the operator's provisioning of organisations,
its staff, and access taken away from the command line (audited as the operator)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp.orgs.models import ORG_ROLES, STAFF_ROLES, Organisation
from idp.orgs.numbers import COUNTRIES, InvalidNumber


def _org(ref: str) -> Organisation:
    from idp.orgs.services import resolve_organisation

    org = resolve_organisation(ref)
    if org is None:
        raise click.ClickException(f"no organisation {ref!r} (give its id or registration number)")
    return org


def _profile(phone: str):
    from idp.profiles.services import find_by_phone
    from idp.security.phones import InvalidPhone, normalize_phone

    try:
        profile = find_by_phone(normalize_phone(phone))
    except InvalidPhone as exc:
        raise click.ClickException(f"{phone!r} is not a valid phone number") from exc
    if profile is None:
        raise click.ClickException(f"no profile with the number {phone}")
    return profile


@click.group("orgs")
def orgs_group():
    """Organisations: business customers, their accounts and people."""


@orgs_group.command("create")
@click.option("--country", type=click.Choice(COUNTRIES, case_sensitive=False), required=True)
@click.option("--number", required=True, help="ЄДРПОУ or РНОКПП (UA); ИНН, ОГРН or ОГРНИП (RU).")
@click.option("--name", required=True, help="The organisation's name.")
@click.option(
    "--owner-phone", default=None, help="The profile that owns the organisation (its administrator)."
)
@with_appcontext
def create_command(country, number, name, owner_phone):
    """Register an organisation (its registration number is checked)."""
    from idp.orgs.models import ORG_OWNER
    from idp.orgs.numbers import KINDS
    from idp.orgs.services import OrgError, add_member, create_organisation

    owner = _profile(owner_phone) if owner_phone else None
    try:
        org = create_organisation(country, number, name)
    except (InvalidNumber, OrgError) as exc:
        raise click.ClickException(str(exc)) from exc
    if owner is not None:
        add_member(org, owner, ORG_OWNER)
    click.echo(
        f"Organisation {org.id} created: {org.name}, "
        f"{KINDS[org.number_kind][0]} {org.number} ({org.country})."
    )
    if owner is not None:
        click.echo(f"  owner: {owner.full_name} ({owner.phone})")


@orgs_group.command("assign")
@click.argument("connector")
@click.argument("account")
@click.option("--org", "org_ref", required=True, help="The organisation's id or registration number.")
@with_appcontext
def assign_command(connector, account, org_ref):
    """Say that ACCOUNT of CONNECTOR belongs to an organisation."""
    from idp.orgs.services import OrgError, assign_account

    org = _org(org_ref)
    try:
        assign_account(org, connector, account)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{connector} account {account} belongs to {org.name} now.")


@orgs_group.command("add-member")
@click.argument("org_ref")
@click.option("--phone", required=True, help="The member's profile, by phone number.")
@click.option("--role", type=click.Choice(ORG_ROLES), default="member", show_default=True)
@with_appcontext
def add_member_command(org_ref, phone, role):
    """Put a profile into an organisation with a role (owner, admin or member)."""
    from idp.orgs.services import add_member

    org = _org(org_ref)
    profile = _profile(phone)
    add_member(org, profile, role)
    click.echo(f"{profile.full_name} is {role} of {org.name}.")


@orgs_group.command("list")
@click.option("--search", default="", help="A registration number or part of the name.")
@with_appcontext
def list_command(search):
    """List organisations."""
    from idp.extensions import db
    from idp.orgs.services import search_organisations

    orgs = (
        search_organisations(search, limit=200)
        if search
        else list(db.session.scalars(db.select(Organisation)))
    )
    for org in orgs:
        click.echo(f"{org.id:>5}  {org.country}  {org.number:<15}  {org.status:<9}  {org.name}")


@orgs_group.command("show")
@click.argument("org_ref")
@with_appcontext
def show_command(org_ref):
    """Show an organisation's people, accounts (with who has access) and pending invitations."""
    from idp.orgs.invitations import pending_of, shown_address
    from idp.orgs.services import access_to, account_label, accounts_of, members_of

    org = _org(org_ref)
    click.echo(f"{org.name} ({org.country} {org.number}, {org.status})")
    click.echo("People:")
    for member in members_of(org):
        click.echo(
            f"  {member.role:<7} {member.profile.full_name}  {member.profile.phone}  {member.profile.email}"
        )
    click.echo("Accounts:")
    for row in accounts_of(org):
        holders = ", ".join(
            f"{link.role} #{link.profile_id}" for link in access_to(row.connector, row.account)
        )
        click.echo(
            f"  {row.connector:<9} {account_label(row.connector, row.account)}  {holders or '(nobody)'}"
        )
    click.echo("Pending invitations:")
    for invitation in pending_of(org):
        click.echo(
            f"  #{invitation.id} {invitation.state:<8} {invitation.role:<7} {shown_address(invitation)}"
        )


@click.group("staff")
def staff_group():
    """The operator's staff: who may use /staff, with which role."""


@staff_group.command("grant")
@click.option("--phone", required=True, help="The staff member's profile, by phone number.")
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True)
@with_appcontext
def staff_grant_command(phone, role):
    """Give a profile a staff role: support reads, managers act on access, security disables."""
    from idp.orgs.services import grant_staff

    profile = _profile(phone)
    grant_staff(profile, role)
    click.echo(f"{profile.full_name} has the staff role {role}.")
    if not profile.two_factor_enabled:
        click.echo(
            "  They must turn on a second factor (SMS or an authenticator app) before /staff lets them in."
        )


@staff_group.command("revoke")
@click.option("--phone", required=True)
@with_appcontext
def staff_revoke_command(phone):
    """Take a profile's staff role away."""
    from idp.orgs.services import revoke_staff

    profile = _profile(phone)
    click.echo(
        f"{profile.full_name}: "
        + ("staff role taken away." if revoke_staff(profile) else "had no staff role.")
    )


@staff_group.command("list")
@with_appcontext
def staff_list_command():
    """List the staff members."""
    from idp.orgs.services import staff_members

    for member in staff_members():
        click.echo(f"{member.role:<9} {member.profile.full_name}  {member.profile.phone}")


@click.group("access")
def access_group():
    """Access to service accounts, from the command line (audited as the operator)."""


@access_group.command("revoke")
@click.argument("connector")
@click.argument("account")
@click.option("--phone", required=True, help="Whose access, by their profile's phone number.")
@click.option("--reason", required=True, help="Why: it goes into the audit log.")
@click.option("--new-sip-password", is_flag=True, help="Also replace the account's SIP password.")
@with_appcontext
def access_revoke_command(connector, account, phone, reason, new_sip_password):
    """Take one person's access to one account away, at once, everywhere (J8)."""
    from idp.connectors.links import find_link
    from idp.orgs.revocation import revoke_access
    from idp.orgs.services import Actor, OrgError

    profile = _profile(phone)
    link = find_link(profile.id, connector, account)
    if link is None:
        raise click.ClickException(f"{profile.full_name} has no access to {connector} account {account}")
    try:
        done = revoke_access(Actor.operator(), link, reason, replace_password=new_sip_password)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Access taken away; {done.sessions_ended} session(s) ended.")
    if done.passwords_replaced:
        click.echo("  New SIP password sent for: " + ", ".join(done.passwords_replaced))
