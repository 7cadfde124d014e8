"""``idp clients``: register the relying services that sign people in with Business ID."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from idp.oauth.clients import (
    GRANT_TYPES,
    ClientError,
    create_client,
    delete_client,
    describe,
    find_client,
    list_clients,
    rotate_secret,
)
from idp.oauth.keys import ALGORITHMS


@click.group("clients")
def clients_group():
    """Manage OpenID Connect clients (relying services)."""


def _print(data: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if isinstance(value, list):
            value = " ".join(value) or "-"
        click.echo(f"{key:28} {value if value not in (None, '') else '-'}")
    if "client_secret" in data:
        click.echo("Store the secret now: it is kept hashed and cannot be shown again.")


def _client_or_fail(client_id: str):
    client = find_client(client_id)
    if client is None:
        raise click.ClickException(f"no client {client_id!r}")
    return client


@clients_group.command("create")
@click.option("--name", required=True, help="Shown to people on the consent page.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Exact redirect URI (repeat).")
@click.option(
    "--post-logout-redirect-uri",
    "logout_uris",
    multiple=True,
    help="Exact URI to return to after RP-initiated logout (repeat).",
)
@click.option("--public", is_flag=True, help="A client without a secret (browser or mobile app).")
@click.option("--first-party", is_flag=True, help="The operator's own service: no consent page.")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Choice(GRANT_TYPES),
    help="Allowed grant (repeat); default authorization_code and refresh_token.",
)
@click.option("--scope", help="Scopes the client may ask for (space-separated).")
@click.option("--backchannel-logout-uri", help="Where logout tokens are POSTed.")
@click.option("--client-id", help="A chosen client id (default: random).")
@click.option(
    "--id-token-alg",
    type=click.Choice(ALGORITHMS),
    help="How its ID tokens are signed (default: IDP_SIGNING_ALG).",
)
@click.option(
    "--org",
    "org_ref",
    help="Bind a provisioning client to one organisation (its id or registration number).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the secret, once).")
@with_appcontext
def create_command(
    name,
    redirect_uris,
    logout_uris,
    public,
    first_party,
    grants,
    scope,
    backchannel_logout_uri,
    client_id,
    id_token_alg,
    org_ref,
    as_json,
):
    """Register a client and print its id and (once) its secret."""
    org_id = _organisation_id(org_ref) if org_ref else None
    try:
        registered = create_client(
            name,
            list(redirect_uris),
            public=public,
            first_party=first_party,
            grant_types=list(grants) or None,
            scope=scope,
            post_logout_redirect_uris=list(logout_uris),
            backchannel_logout_uri=backchannel_logout_uri,
            client_id=client_id,
            id_token_alg=id_token_alg,
            org_id=org_id,
        )
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    _print(describe(registered.client, registered.secret), as_json)


def _organisation_id(org_ref: str) -> int:
    from idp.orgs.services import resolve_organisation

    org = resolve_organisation(org_ref)
    if org is None:
        raise click.ClickException(f"no organisation {org_ref!r} (see idp orgs list)")
    return org.id


@clients_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_command(as_json):
    """List the registered clients."""
    clients = [describe(c) for c in list_clients()]
    if as_json:
        click.echo(json.dumps(clients, indent=2))
        return
    for c in clients:
        click.echo(
            f"{c['client_id']:26} {c['type']:13} {'first-party' if c['first_party'] else '':12} {c['name']}"
        )


@clients_group.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show_command(client_id, as_json):
    """Show one client (never its secret)."""
    _print(describe(_client_or_fail(client_id)), as_json)


@clients_group.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def rotate_command(client_id, as_json):
    """Give a client a new secret (the old one stops working at once)."""
    client = _client_or_fail(client_id)
    try:
        secret = rotate_secret(client)
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    _print({"client_id": client.client_id, "client_secret": secret}, as_json)


@clients_group.command("delete")
@click.argument("client_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def delete_command(client_id, yes):
    """Delete a client with its grants and tokens."""
    client = _client_or_fail(client_id)
    if not yes:
        click.confirm(f"Delete {client.name} ({client.client_id}) and every token issued to it?", abort=True)
    delete_client(client)
    click.echo(f"deleted {client_id}")
