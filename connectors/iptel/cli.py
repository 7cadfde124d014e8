"""``idp iptel``: connect the service for a number, and look at the accounts."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp.connectors.sdk import (
    LANGUAGES,
)


@click.group("iptel")
def iptel_group():
    """IP-telephony accounts."""


@iptel_group.command("connect")
@click.option("--number", required=True, help="The phone number of the service, with country code.")
@click.option("--email", required=True, help="Where the initial password and notices go.")
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default="uk",
    show_default=True,
    help="Language of the customer's letters.",
)
@click.option(
    "--forwarding/--no-forwarding",
    default=True,
    show_default=True,
    help="Whether call forwarding is authorised for the subscriber.",
)
@click.option(
    "--org",
    "org_ref",
    default=None,
    help="The organisation the account belongs to: its id or registration number (idp orgs list).",
)
@with_appcontext
def connect_command(number, email, language, forwarding, org_ref):
    """Connect the service: the initial password is e-mailed; the service is inactive until the
    customer changes it in the portal."""
    from connectors.iptel.accounts import ConnectError, check_connection, connect

    try:
        e164, _address = check_connection(number, email, language)
        # The organisation before the letter: an unknown one connects nothing and sends nothing.
        org = _assign(org_ref, e164) if org_ref else None
        account = connect(number, email, language, forwarding_allowed=forwarding)
    except ConnectError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"IP telephony connected for {account.number}; the initial password was e-mailed "
        f"to {account.email}. The service is inactive until the password is changed."
    )
    if org is not None:
        click.echo(f"  organisation: {org.name} ({org.country} {org.number}, id {org.id})")


def _assign(org_ref: str, number: str):
    """Make the account the organisation's; a clear error (nothing stored) when it cannot be."""
    from idp.connectors.sdk import OrgError, assign_to_organisation

    try:
        return assign_to_organisation(org_ref, "iptel", number)
    except OrgError as exc:
        raise click.ClickException(f"{exc} Nothing was connected; see idp orgs list.") from exc


@iptel_group.command("list")
@with_appcontext
def list_command():
    """List the accounts."""
    from connectors.iptel.accounts import accounts

    for account in accounts():
        click.echo(f"{account.number:16} {account.status:12} {account.email}")


@iptel_group.command("show")
@click.argument("number")
@with_appcontext
def show_command(number):
    """Show one account (its password stays sealed) and its call forwarding."""
    from connectors.iptel.accounts import find
    from connectors.iptel.forwarding import forwardings
    from idp.connectors.sdk import read_phone

    account = find(read_phone(number))
    if account is None:
        raise click.ClickException(f"no IP-telephony account {number}")
    rows = [
        ("number", account.number),
        ("status", account.status),
        ("e-mail", account.email),
        ("language", account.language),
        ("password", "(sealed, not shown)"),
        ("forwarding", "authorised" if account.forwarding_allowed else "not authorised"),
    ]
    for forwarding in forwardings(account).values():
        state = f"on → {forwarding.number}" if forwarding.enabled else "off"
        if forwarding.delay_seconds:
            state += f" after {forwarding.delay_seconds} s"
        rows.append((f"  {forwarding.condition}", state))
    for name, value in rows:
        click.echo(f"{name + ':':16}{value}")
