"""The ``idp`` command: Flask's CLI for the app of ``create_app``, with the product's commands."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from idp import create_app
from idp.cli import routes_command
from idp.config import ConfigError


def _create_app():
    try:
        return create_app()
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main():
    """Business ID: run, migrate and operate the identity provider."""


# Flask's own ``routes`` (a built-in command, found before the app's) would hide ours, which also
# names the module of each view.
main.add_command(routes_command)
