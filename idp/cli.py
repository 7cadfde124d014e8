"""The product's own commands of ``idp`` (the entry point is ``idp.command:main``)."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import with_appcontext

from idp.config import describe_settings


def _upgrade_every_branch() -> None:
    """Make ``idp db upgrade`` go to every head: each connector's tables are a branch of the history."""
    from flask_migrate.cli import upgrade

    for param in upgrade.params:
        if param.name == "revision":
            param.default = "heads"


_upgrade_every_branch()


def register_commands(app: Flask) -> None:
    """Attach the product's command groups to ``app.cli``."""
    app.cli.add_command(demo_command)
    app.cli.add_command(profiles_group)
    app.cli.add_command(outbox_group)
    app.cli.add_command(config_group)
    app.cli.add_command(keys_group)
    app.cli.add_command(prune_command)
    app.cli.add_command(audit_group)
    app.cli.add_command(routes_command)

    from idp.connectors.cli import services_group
    from idp.delivery.cli import mail_group, sms_group, worker_command
    from idp.oauth.cli import clients_group
    from idp.orgs.cli import access_group, orgs_group, staff_group

    for command in (
        worker_command,
        sms_group,
        mail_group,
        clients_group,
        services_group,
        orgs_group,
        staff_group,
        access_group,
    ):
        app.cli.add_command(command)


@click.command("routes")
@with_appcontext
def routes_command():
    """List every URL: its methods, rule, endpoint and the module of its view."""
    from flask import current_app

    for line in route_table(current_app):
        click.echo(line)


def route_table(app: Flask) -> list[str]:
    """The lines of ``idp routes``: one per URL rule (sorted by rule), in aligned columns."""
    rows = [("Methods", "Rule", "Endpoint", "Module")]
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, sorted(r.methods or ()))):
        methods = ", ".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        rows.append((methods, rule.rule, rule.endpoint, app.view_functions[rule.endpoint].__module__))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]  # the last column is not padded
    return ["  ".join([*(row[i].ljust(width) for i, width in enumerate(widths)), row[3]]) for row in rows]


@click.command("demo")
@with_appcontext
def demo_command():
    """Create the demo data (idempotent) and print how to sign in.

    In development it also registers the demo relying party, the virtual PBX portal, and writes
    its credentials for ``python -m examples.pbx_portal``.
    """
    import os
    from pathlib import Path

    from flask import current_app

    from idp.demo import (
        DEMO_CLIENT_FILE,
        DEMO_PASSWORD,
        describe_demo_password,
        ensure_demo_client,
        ensure_demo_data,
        ensure_demo_services,
    )
    from idp.oauth.clients import ClientError

    profile = ensure_demo_data()
    click.echo("Demo profile ready:")
    click.echo(f"  sign in at  /signin  with  {profile.phone}  or  {profile.email}")
    click.echo(f"  password    {describe_demo_password(profile)}")
    if profile.two_factor_enabled:
        click.echo("  then        its second factor (turned on at /security)")
    click.echo("  SMS codes and e-mails appear at /dev/outbox and in `idp outbox list`.")
    for service, lines in ensure_demo_services(profile).items():
        click.echo("")
        click.echo(f"{service}:")
        for line in lines:
            click.echo(f"  {line}")
    from idp.orgs.demo import ensure_demo_organisation

    click.echo("")
    click.echo("Organisation (J7: give a colleague access, J8: take it away):")
    for line in ensure_demo_organisation(profile, DEMO_PASSWORD):
        click.echo(f"  {line}")
    from idp.registrar.demo import demo_lines

    registrar_lines = demo_lines()
    if registrar_lines:
        click.echo("")
        click.echo("SIP registrar (register a softphone with a demo account):")
        for line in registrar_lines:
            click.echo(f"  {line}")
    if current_app.config["IDP_ENV"] != "development":
        click.echo(
            "The demo relying party (the virtual PBX portal) is registered in development only: skipped."
        )
        return
    try:
        demo = ensure_demo_client()
    except ClientError as exc:
        raise click.ClickException(f"cannot register the demo portal: {exc}") from exc
    shown = os.path.relpath(demo.path) if not os.path.relpath(demo.path).startswith("..") else str(demo.path)
    command = "python -m examples.pbx_portal"
    if demo.path.resolve() != (Path("instance") / DEMO_CLIENT_FILE).resolve():
        command = f"PBX_CLIENT_FILE={demo.path} {command}"
    state = "registered" if demo.created else "ready"
    click.echo("")
    click.echo(
        f"Demo relying party {state}: {demo.client.name} (client {demo.client.client_id}, asks for consent):"
    )
    click.echo(f"  credentials {shown}" + (" (written now, mode 0600)" if demo.written else ""))
    click.echo(f"  start it    {command}   (`make run` starts it for you)")
    click.echo(f'  open        {demo.portal_url}  and press "Sign in with Business ID"')


@click.group("profiles")
def profiles_group():
    """Manage business profiles."""


@profiles_group.command("create")
@click.option("--phone", required=True, help="Phone number, with its country code.")
@click.option("--email", required=True)
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option(
    "--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted for when not given."
)
@click.option("--locale", type=click.Choice(["uk", "ru", "en"]), default="uk")
@with_appcontext
def create_profile_command(phone, email, first_name, last_name, password, locale):
    """Create a profile whose phone and e-mail are already verified."""
    from email_validator import EmailNotValidError, validate_email

    from idp.profiles.errors import EmailInUse, PhoneTaken
    from idp.profiles.services import create_profile
    from idp.security.emails import normalise_email
    from idp.security.passwords import broken_rules, rule_text
    from idp.security.phones import InvalidPhone, normalize_phone

    try:
        e164 = normalize_phone(phone)
        email = normalise_email(validate_email(email, check_deliverability=False).normalized)
    except (InvalidPhone, EmailNotValidError) as exc:
        raise click.BadParameter(f"invalid phone number or e-mail: {exc}") from exc
    broken = broken_rules(password)
    if broken:
        raise click.BadParameter(" ".join(rule_text(rule) for rule in broken), param_hint="password")
    try:
        profile = create_profile(e164, email, first_name, last_name, password, locale, email_verified=True)
    except (PhoneTaken, EmailInUse) as exc:
        raise click.ClickException("a profile with this phone number or e-mail exists") from exc
    click.echo(f"created profile {profile.subject} for {profile.phone}")


@click.group("outbox")
def outbox_group():
    """Read the messages the product has sent."""


@outbox_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, one object per message.")
@click.option("--limit", default=20, show_default=True)
@click.option("--to", "recipient", help="Only messages to this phone number or address.")
@with_appcontext
def outbox_list(as_json, limit, recipient):
    """List stored SMS and e-mails, newest first."""
    from idp.delivery.services import outbox

    entries = outbox(limit, recipient)
    if as_json:
        click.echo(json.dumps([entry.as_dict() for entry in entries], ensure_ascii=False, indent=2))
        return
    for entry in entries:
        click.echo(
            f"#{entry.id} {entry.created_at:%Y-%m-%d %H:%M:%S} {entry.channel} "
            f"to {entry.recipient} [{entry.kind}, {entry.locale}, {entry.state}, "
            f"{entry.attempts} tries]"
        )
        if entry.last_error:
            click.echo(f"  Last error: {entry.last_error}")
        if entry.subject:
            click.echo(f"  Subject: {entry.subject}")
        for line in entry.text.splitlines():
            click.echo(f"  {line}")
        click.echo("")


@click.group("config")
def config_group():
    """Inspect the configuration."""


@config_group.command("docs")
def config_docs():
    """Print every IDP_* setting as a Markdown table, then those of each installed connector."""
    from idp.connectors.registry import discover

    click.echo(describe_settings())
    for connector in discover().values():
        if connector.settings:
            click.echo(f"\nConnector `{connector.id}` ({connector.names['en']}):\n")
            click.echo(describe_settings(connector.settings))


@config_group.command("check")
@with_appcontext
def config_check():
    """Load and validate the configuration (exit status 2 when it is invalid)."""
    click.echo("configuration is valid")


@click.group("keys")
def keys_group():
    """Create and rotate keys."""


@click.group("audit")
def audit_group():
    """Look after the audit log."""


@keys_group.command("new-secrets-key")
def new_secrets_key():
    """Print a new key for IDP_SECRETS_KEY."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@click.command("prune")
@click.option("--days", default=30, show_default=True, help="Keep records this many days.")
@with_appcontext
def prune_command(days):
    """Delete sessions, SMS challenges, e-mail links and tokens that ended more than --days ago."""
    from datetime import timedelta

    from idp.extensions import db
    from idp.oauth.prune import prune_tokens
    from idp.otp import pow
    from idp.otp.models import SmsChallenge
    from idp.profiles.models import EmailLink
    from idp.sessions.services import prune_sessions
    from idp.timeutil import utcnow

    age = timedelta(days=days)
    cutoff = utcnow() - age
    sessions = prune_sessions(age)
    challenges = db.session.execute(db.delete(SmsChallenge).where(SmsChallenge.expires_at < cutoff)).rowcount
    links = db.session.execute(db.delete(EmailLink).where(EmailLink.created_at < cutoff)).rowcount
    tokens = prune_tokens(cutoff)
    proofs = pow.prune()
    db.session.commit()
    click.echo(
        f"deleted {sessions} sessions, {challenges} SMS challenges, {links} e-mail links, "
        + ", ".join(f"{count} {what}" for what, count in tokens.items())
        + f", {proofs} used proofs of work"
    )


@audit_group.command("backfill-refs")
@with_appcontext
def backfill_refs_command():
    """Give events recorded by instances older than migration 0015 the refs of what they name (run
    once every instance runs the new release; it may be run again)."""
    from idp.audit.refs import backfill

    click.echo(f"added {backfill()} refs")


@keys_group.command("rotate")
@click.option(
    "--alg",
    type=click.Choice(["ES256", "RS256"]),
    default=None,
    help="Algorithm to rotate (default: IDP_SIGNING_ALG).",
)
@with_appcontext
def rotate_signing_key(alg):
    """Sign with the already published next key; keep the old one published until it expires."""
    from flask import current_app

    from idp.oauth.keys import rotate

    alg = alg or current_app.config["IDP_SIGNING_ALG"]
    current, retired = rotate(alg)
    click.echo(
        f"{alg}: now signing with {current.kid}; {retired.kid} stays published until "
        f"{retired.unpublish_at:%Y-%m-%d %H:%M} UTC"
    )


@keys_group.command("ensure")
@with_appcontext
def ensure_signing_keys():
    """Create the signing keys if there are none (run it at deploy, after `idp db upgrade`):
    IDP_SIGNING_ALG's, and the other algorithm's for clients registered with --id-token-alg."""
    from flask import current_app

    from idp.oauth.keys import ALGORITHMS, ensure_keys

    default = current_app.config["IDP_SIGNING_ALG"]
    for alg in sorted(ALGORITHMS, key=lambda a: a != default):
        key = ensure_keys(alg)
        role = "signing" if alg == default else "signing ID tokens of clients that ask for it"
        click.echo(f"{alg}: {role} with {key.kid}")


@keys_group.command("rotate-secrets")
@with_appcontext
def rotate_secrets_command():
    """Re-encrypt every stored secret (TOTP seeds, key halves, queued messages, SIP passwords)
    under the first key of IDP_SECRETS_KEY; then the old keys can be dropped from it."""
    from idp.connectors.registry import installed
    from idp.rotation import rotate_secrets

    for column, count in rotate_secrets(installed().values()).items():
        click.echo(f"{column}: {count} re-encrypted")


@keys_group.command("list")
@with_appcontext
def list_signing_keys():
    """List the signing keys and their states."""
    from idp.extensions import db
    from idp.oauth.models import SigningKey

    for key in db.session.scalars(db.select(SigningKey).order_by(SigningKey.created_at)):
        until = f" (published until {key.unpublish_at:%Y-%m-%d %H:%M} UTC)" if key.unpublish_at else ""
        click.echo(f"{key.alg} {key.state:8} {key.kid}{until}")
