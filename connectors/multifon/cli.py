"""``idp multifon``: provision MultiFon accounts in the built-in store and look at them."""

from __future__ import annotations

from decimal import Decimal

import click
from flask.cli import with_appcontext

from connectors.multifon.backend import ROUTINGS, STATUSES


@click.group("multifon")
def multifon_group():
    """MultiFon Business accounts of the built-in provisioning store."""


@multifon_group.command("provision")
@click.option("--number", required=True, help="Service number (the SIP login), with country code.")
@click.option(
    "--sip-password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="SIP password; prompted for when not given. It is stored sealed.",
)
@click.option("--balance", default="0.00", show_default=True, help="Balance, may be negative.")
@click.option("--currency", default="RUB", show_default=True, help="ISO 4217 currency code.")
@click.option("--status", type=click.Choice(STATUSES), default="active", show_default=True)
@click.option("--tariff-option", default=None, help="Active tariff option (default: basic).")
@click.option("--caller-id", default=None, help="Number shown on outgoing calls (default: none).")
@click.option("--routing", type=click.Choice(ROUTINGS), default="SIP", show_default=True)
@click.option("--trunk-lines", type=int, default=2, show_default=True, help="1..20.")
@click.option("--seed-calls", is_flag=True, help="Fill 30 days of demo call statistics.")
@click.option(
    "--org",
    "org_ref",
    default=None,
    help="The organisation the account belongs to: its id or registration number (idp orgs list).",
)
@with_appcontext
def provision_command(number, sip_password, seed_calls, org_ref, **values):
    """Create a MultiFon account, or update the one with this number."""
    from connectors.multifon.store import ProvisioningError, checked_values, provision
    from connectors.multifon.store import seed_calls as fill_calls

    try:
        e164, _columns = checked_values(number, sip_password, **values)
        # The organisation first: an unknown one, or another's account, leaves nothing provisioned.
        org = _assign(org_ref, e164) if org_ref else None
        account = provision(number, sip_password, **values)
    except ProvisioningError as exc:
        raise click.ClickException(str(exc)) from exc
    if seed_calls:
        fill_calls(account.number)
    click.echo(f"MultiFon account {account.number} provisioned.")
    if org is not None:
        click.echo(f"  organisation: {org.name} ({org.country} {org.number}, id {org.id})")


def _assign(org_ref: str, number: str):
    """Make the account the organisation's; a clear error (nothing stored) when it cannot be."""
    from idp.connectors.sdk import OrgError, assign_to_organisation

    try:
        return assign_to_organisation(org_ref, "multifon", number)
    except OrgError as exc:
        raise click.ClickException(f"{exc} Nothing was provisioned; see idp orgs list.") from exc


@multifon_group.command("list")
@with_appcontext
def list_command():
    """List the provisioned accounts."""
    from connectors.multifon.store import accounts

    for account in accounts():
        click.echo(
            f"{account.number:16} {account.status:12} {_balance(account):>16} "
            f"{account.routing:7} {account.trunk_lines:2} lines"
        )


@multifon_group.command("show")
@click.argument("number")
@with_appcontext
def show_command(number):
    """Show one account (its SIP password stays sealed)."""
    from connectors.multifon.numbers import to_e164
    from connectors.multifon.store import find

    account = find(to_e164(number) or number)
    if account is None:
        raise click.ClickException(f"no MultiFon account {number}")
    rows = [
        ("number", account.number),
        ("status", account.status),
        ("balance", _balance(account)),
        ("tariff", account.tariff_option or "basic"),
        ("caller ID", account.caller_id or "not set"),
        ("routing", account.routing),
        ("trunk lines", account.trunk_lines),
        ("SIP password", "(sealed, not shown)"),
        ("updated", f"{account.updated_at:%Y-%m-%d %H:%M} UTC"),
    ]
    for name, value in rows:
        click.echo(f"{name + ':':14}{value}")


def _balance(account) -> str:
    """The balance for an operator's terminal and scripts: plain "-12.50 RUB" in any language (the
    pages write it as each language does, ``presenting.money``)."""
    return f"{Decimal(account.balance_minor) / 100:.2f} {account.currency}"
