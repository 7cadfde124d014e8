"""``idp registrar``: reconcile the registrar, say what it holds of an account, run one locally."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click
from flask.cli import with_appcontext

from idp.connectors.contract import SipAccount
from idp.registrar import control, database
from idp.registrar.sync import SETTINGS, desired_row, difference, reconcile


@click.group("registrar")
def registrar_group():
    """The SIP registrar (Kamailio) that checks the SIP passwords and applies the call settings."""


def _require_registrar() -> None:
    if not database.enabled():
        raise click.ClickException("no registrar is configured: set IDP_REGISTRAR_DATABASE_URL")


@registrar_group.command("sync")
@click.option("--dry-run", is_flag=True, help="Report the differences, change nothing.")
@with_appcontext
def sync_command(dry_run):
    """Compare every account with the registrar and store what differs."""
    _require_registrar()
    differences = reconcile(apply_changes=not dry_run)
    for change in differences:
        click.echo(change.line())
    verb = "differ" if dry_run else "brought in step"
    click.echo(f"{len(differences)} accounts {verb}" if differences else "the registrar is in step")
    if dry_run and differences:
        raise SystemExit(1)


@registrar_group.command("status")
@click.argument("account")
@click.option("--service", help="The connector id, when the account is known to several.")
@with_appcontext
def status_command(account, service):
    """Say what the registrar holds for ACCOUNT (a SIP login or a number) and whether it is in step."""
    _require_registrar()
    found = _accounts_named(account, service)
    if not found:
        raise click.ClickException(f"no service has an account {account}")
    for connector_id, key, sip in found:
        for line in _status_lines(connector_id, key, sip):
            click.echo(line)


def _accounts_named(account: str, service: str | None) -> list[tuple[str, str, SipAccount]]:
    """The accounts of the installed services that ``account`` names, read as each service reads
    its logins (a number in its own region's formats, a SIP login without the "+")."""
    from idp.connectors import registry

    found = []
    for connector in registry.installed().values():
        if service not in (None, connector.id):
            continue
        for typed in dict.fromkeys([account, "+" + account.strip().lstrip("+")]):
            key = connector.normalise_login(typed)
            sip = connector.sip_account(key) if key else None
            if key and sip is not None:
                found.append((connector.id, key, sip))
                break
    return found


def _status_lines(connector_id: str, key: str, sip: SipAccount) -> list[str]:
    held = database.row_of(connector_id, key)
    lines = [
        f"{connector_id} {key}: SIP login {sip.login}",
        f"  may register: {'yes' if sip.may_register else 'no'}",
    ]
    if held is None:
        lines.append("  the registrar holds nothing: every REGISTER is refused")
    else:
        lines.append(f"  the registrar holds login {held['username']} in realm {held['domain']}")
        lines.append("  " + ", ".join(f"{name} {held[name]!r}" for name in SETTINGS))
    change = difference(held, desired_row(connector_id, key, sip))
    lines.append("  in step" if change is None else f"  NOT in step: {change.line()}; run idp registrar sync")
    if held is not None and control.configured():
        try:
            contacts = control.registrations(held["username"])
        except control.ControlError as exc:
            lines.append(f"  registrations: unknown ({exc})")
        else:
            lines.append(f"  registrations: {', '.join(map(str, contacts)) if contacts else 'none'}")
    return lines


#: The shipped configuration, in a checkout (an installed wheel has no deploy/: pass --config).
SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "kamailio" / "kamailio.cfg"


@registrar_group.command("run")
@click.option("--listen", default="udp:127.0.0.1:5060", show_default=True, help="Kamailio's SIP socket.")
@click.option("--gsm-gateway", default="127.0.0.1:5070", show_default=True, help="host:port of the GSM side.")
@click.option(
    "--pstn-gateway", default="127.0.0.1:5080", show_default=True, help="host:port of other numbers."
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="kamailio.cfg")
@with_appcontext
def run_command(listen, gsm_gateway, pstn_gateway, config_path):
    """Run Kamailio in the foreground on the registrar database, for a developer's softphone.

    Uses the shipped deploy/kamailio/kamailio.cfg with this app's registrar database, realm and
    control socket, brings the registrar in step first, and logs to the terminal (Ctrl+C stops).
    """
    from flask import current_app

    _require_registrar()
    config_path = config_path or SHIPPED_CONFIG
    kamailio = shutil.which("kamailio") or next(
        (path for path in ("/usr/sbin/kamailio", "/usr/local/sbin/kamailio") if Path(path).is_file()), None
    )
    if kamailio is None:
        raise click.ClickException(
            "Kamailio is not installed: apt-get install -y kamailio kamailio-sqlite-modules"
        )
    if not config_path.is_file():
        raise click.ClickException(f"no Kamailio configuration at {config_path}: pass --config")
    config = current_app.config
    run_dir = _run_dir(config["IDP_REGISTRAR_RPC"], Path(current_app.instance_path) / "kamailio")
    run_dir.mkdir(parents=True, exist_ok=True)
    for change in reconcile():
        click.echo(f"registrar: {change.line()}")
    args = [kamailio, "-DD", "-E", "-f", str(config_path), "-w", str(run_dir), "-Y", str(run_dir)]
    args += ["-P", str(run_dir / "kamailio.pid")]
    defines = {
        "DBURL": f'"{kamailio_database_url(config["IDP_REGISTRAR_DATABASE_URL"])}"',
        "REALM": f'"{config["IDP_SIP_REALM"]}"',
        "LISTEN": listen,
        "GSM_GATEWAY": f'"{gsm_gateway}"',
        "PSTN_GATEWAY": f'"{pstn_gateway}"',
        "RUN_DIR": f'"{run_dir}"',
    }
    for name, value in defines.items():
        args += ["-A", f"{name}={value}"]
    click.echo(f"Kamailio on {listen}, realm {config['IDP_SIP_REALM']}, control socket {run_dir}")
    os.execv(kamailio, args)  # noqa: S606  (the operator's own Kamailio, with fixed arguments)


def _run_dir(rpc: str, default: Path) -> Path:
    """Where Kamailio's control sockets go: beside IDP_REGISTRAR_RPC's socket when it is set."""
    return Path(rpc[len("unix:") :]).parent if rpc.startswith("unix:") else default


def kamailio_database_url(url: str) -> str:
    """The registrar database's URL as Kamailio's db_postgres and db_sqlite read it."""
    for prefix in ("postgresql+psycopg://", "postgresql://"):
        if url.startswith(prefix):
            return "postgres://" + url[len(prefix) :]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return "sqlite:///" + str(Path(url[len("sqlite:///") :]).resolve())
    return url
