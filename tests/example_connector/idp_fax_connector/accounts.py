"""The fax service's own table, and how the operator provisions a fax number (``idp fax add``)."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from idp.connectors.sdk import (
    db,
    hash_password,
    normalize_phone,
    utcnow,
)


class FaxMailbox(db.Model):
    """A fax number and the address its faxes are delivered to."""

    __tablename__ = "fax_mailboxes"  # every table of a connector starts with its id

    number: Mapped[str] = mapped_column(String(16), primary_key=True)  # E.164 digits
    password_hash: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disconnected_at: Mapped[datetime | None]


def provision(number: str, password: str, email: str) -> FaxMailbox:
    """Create a fax number (or reset its password and address)."""
    digits = normalize_phone(number).removeprefix("+")
    mailbox = db.session.get(FaxMailbox, digits) or FaxMailbox(number=digits)
    mailbox.password_hash = hash_password(password)
    mailbox.email = email
    mailbox.disconnected_at = None
    db.session.add(mailbox)
    db.session.commit()
    return mailbox


def mailbox_summary(account: str) -> dict:
    """What the cabinet and the home card show, as plain values (it runs under ``read_backend``)."""
    mailbox = db.session.get(FaxMailbox, account)
    if mailbox is None:
        raise LookupError(account)
    return {
        "number": mailbox.number,
        "email": mailbox.email,
        "disconnected": mailbox.disconnected_at is not None,
    }


@click.group("fax")
def fax_group():
    """Manage the numbers of the fax service."""


@fax_group.command("add")
@click.argument("number")
@click.option("--email", required=True, help="Where the number's faxes are delivered.")
@click.password_option(help="The number's own password (prompted for when not given).")
@with_appcontext
def add_command(number, email, password):
    """Create a fax number with its own password."""
    mailbox = provision(number, password, email)
    click.echo(f"fax number +{mailbox.number} delivers to {mailbox.email}")
