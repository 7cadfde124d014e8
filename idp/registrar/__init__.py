"""The SIP registrar kept in step: the accounts that may register, their HA1s and call settings.

Business ID writes a table in Kamailio's ``subscriber`` shape (``schema``) in the registrar's own
database (``database``), through jobs of the delivery queue (``sync``), and drops registrations
over Kamailio's control socket (``control``). ``deploy/kamailio/kamailio.cfg`` is the registrar
and proxy that reads it. Commands: ``idp registrar sync | status | run`` (``cli``).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from idp.registrar.cli import registrar_group
    from idp.registrar.sync import register_jobs

    register_jobs()
    app.cli.add_command(registrar_group)
