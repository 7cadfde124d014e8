"""A colleague's access to a service account with a role, made directly as a ServiceLink row (as an
accepted invitation leaves it), and what the cabinets audit when a role is refused."""

from __future__ import annotations

import json

from flask import Flask

from idp.audit.models import AuditEvent
from idp.connectors.models import ServiceLink
from idp.extensions import db
from idp.profiles.models import Profile


def grant(app: Flask, profile: Profile, connector: str, account: str, label: str, role: str) -> None:
    """Give ``profile`` access to ``account`` of ``connector`` with ``role``."""
    with app.app_context():
        db.session.add(
            ServiceLink(profile_id=profile.id, connector=connector, account=account, label=label, role=role)
        )
        db.session.commit()


def events(app: Flask, name: str) -> list[dict]:
    """The details of every audit event ``name``, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)
        )
        return [json.loads(row.details) for row in rows]


def refusals(app: Flask) -> list[dict]:
    """The audited refusals of a cabinet request for a role too low."""
    return events(app, "service.role_refused")
