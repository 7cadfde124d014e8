"""``idp services``: the installed connectors and the links of service accounts, for operators."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp.extensions import db


@click.group("services")
def services_group():
    """Service connectors and linked service accounts."""


@services_group.command("connectors")
@with_appcontext
def list_connectors():
    """List the installed connectors."""
    from idp.connectors.registry import installed

    for connector in installed().values():
        click.echo(f"{connector.id:12} {connector.names['en']}")


@services_group.command("links")
@click.option("--connector", "connector_id", default=None, help="Only this connector.")
@click.option("--account", default=None, help="Only this account.")
@with_appcontext
def list_links(connector_id, account):
    """List linked service accounts with their profiles."""
    from idp.connectors.models import ServiceLink
    from idp.profiles.models import Profile

    query = db.select(ServiceLink, Profile).join(Profile, Profile.id == ServiceLink.profile_id)
    if connector_id:
        query = query.where(ServiceLink.connector == connector_id)
    if account:
        query = query.where(ServiceLink.account == account)
    for link, profile in db.session.execute(query.order_by(ServiceLink.id)):
        click.echo(f"{link.connector:10} {link.account:16} {link.role:6} {profile.phone} {profile.full_name}")


def _connector_or_fail(connector_id: str):
    from idp.connectors.registry import get

    connector = get(connector_id)
    if connector is None:
        raise click.ClickException(f"no connector {connector_id!r} is installed")
    return connector


@services_group.command("unlink")
@click.argument("connector_id")
@click.argument("account")
@click.option("--phone", default=None, help="Only the link of the profile with this phone.")
@with_appcontext
def unlink_command(connector_id, account, phone):
    """End the links of a service account (all of them, or one profile's)."""
    from idp.connectors.links import unlink
    from idp.connectors.models import ServiceLink
    from idp.profiles.services import find_by_phone

    connector = _connector_or_fail(connector_id)
    account = connector.normalise_login(account) or account
    query = db.select(ServiceLink).where(
        ServiceLink.connector == connector.id, ServiceLink.account == account
    )
    if phone:
        profile = find_by_phone(phone)
        if profile is None:
            raise click.ClickException("no profile has this phone number")
        query = query.where(ServiceLink.profile_id == profile.id)
    rows = list(db.session.scalars(query))
    if not rows:
        raise click.ClickException("no such link")
    for row in rows:
        unlink(row, None, "operator")
    click.echo(f"{len(rows)} link(s) ended")


@services_group.command("disconnect")
@click.argument("connector_id")
@click.argument("account")
@with_appcontext
def disconnect_command(connector_id, account):
    """Disconnect the service for an account; it stays linked and shows as disconnected."""
    from idp.audit.services import record
    from idp.connectors.links import owner_of

    connector = _connector_or_fail(connector_id)
    account = connector.normalise_login(account) or account
    try:
        connector.disconnect(account)
    except LookupError as exc:
        raise click.ClickException(f"{connector.id} has no account {account}") from exc
    owner = owner_of(connector.id, account)
    record(
        "service.disconnected",
        owner.profile_id if owner else None,
        connector=connector.id,
        account=account,
        by="operator",
    )
    db.session.commit()
    click.echo(f"{connector.id} {account}: disconnected")
