"""Operator commands of the delivery service: run the worker, test a transport."""

from __future__ import annotations

import signal
import threading
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from idp.delivery.models import FINAL_STATES, SENT, Message
from idp.extensions import db


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@with_appcontext
def worker_command(once):
    """Deliver queued SMS and e-mails until stopped (SIGINT or SIGTERM)."""
    from idp.delivery.worker import Worker

    worker = Worker(current_app._get_current_object())
    if once:
        count = worker.run_once()
        worker.close()
        click.echo(f"tried {count} messages")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    worker.run(stop)


def _send_test(kind: str, to: str, locale: str, wait: float) -> None:
    """Send one test message through the configured transport and report what became of it."""
    from idp.delivery.services import send
    from idp.delivery.worker import Worker

    message = send(kind, to, locale)
    worker = Worker(current_app._get_current_object(), idle_seconds=0.2)
    click.echo(f"message #{message.id} stored ({message.channel} to {to})")
    seen, deadline = (), time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            worker.run_once()
            db.session.expire_all()
            row = db.session.get(Message, message.id)
            if (row.state, row.last_error) != seen:
                if row.state != SENT and row.sent_at is not None and seen[0:1] != (SENT,):
                    click.echo(f"  {SENT}")  # the receipt came in the round that handed it over
                seen = (row.state, row.last_error)
                detail = f" ({row.last_error})" if row.last_error else ""
                click.echo(f"  {row.state}{detail}")
            # An SMTP relay sends no receipt: for e-mail, accepted is as far as it can be followed.
            if row.state in FINAL_STATES or (row.channel == "email" and row.state == SENT):
                break
            time.sleep(0.2)
    finally:
        worker.close()
    if row.state in ("failed", "undeliverable", "expired", "rejected"):
        raise click.ClickException(f"not delivered: {row.state}")
    if row.state == "queued":
        raise click.ClickException(f"not accepted within {wait:.0f} s; it stays queued")


@click.group("sms")
def sms_group():
    """SMS delivery."""


@sms_group.command("test")
@click.option("--to", "number", required=True, help="Phone number with its country code.")
@click.option("--locale", type=click.Choice(["uk", "ru", "en"]), default="en")
@click.option("--wait", default=30.0, show_default=True, help="Seconds to wait for a receipt.")
@with_appcontext
def sms_test(number, locale, wait):
    """Send a test SMS and report: accepted, delivered, or the error."""
    from idp.security.phones import InvalidPhone, normalize_phone

    try:
        e164 = normalize_phone(number)
    except InvalidPhone as exc:
        raise click.BadParameter("not a valid phone number", param_hint="--to") from exc
    _send_test("sms_test", e164, locale, wait)


@click.group("mail")
def mail_group():
    """E-mail delivery."""


@mail_group.command("test")
@click.option("--to", "address", required=True)
@click.option("--locale", type=click.Choice(["uk", "ru", "en"]), default="en")
@click.option("--wait", default=30.0, show_default=True)
@with_appcontext
def mail_test(address, locale, wait):
    """Send a test e-mail and report: accepted by the relay, or the error."""
    from email_validator import EmailNotValidError, validate_email

    from idp.security.emails import normalise_email

    try:
        address = normalise_email(validate_email(address, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from exc
    _send_test("email_test", address, locale, wait)
