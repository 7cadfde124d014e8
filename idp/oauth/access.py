"""The applications a profile has let in, and taking that access back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from idp.extensions import db
from idp.oauth.backchannel import notify_clients
from idp.oauth.models import Client, Consent, Grant, revoke_grant


@dataclass
class Application:
    """A client as the profile sees it on the security page."""

    client: Client
    scopes: list[str]
    since: datetime
    last_used: datetime | None


def applications(profile_id: int) -> list[Application]:
    """Clients holding a consent or a live grant of the profile, most recent first."""
    found: dict[str, Application] = {}
    for consent in db.session.scalars(db.select(Consent).where(Consent.profile_id == profile_id)):
        found[consent.client_id] = Application(
            consent.client, consent.scope.split(), consent.granted_at, None
        )
    live = db.session.scalars(
        db.select(Grant).where(Grant.profile_id == profile_id, Grant.revoked_at.is_(None))
    )
    for grant in live:
        app = found.setdefault(
            grant.client_id, Application(grant.client, grant.scope.split(), grant.created_at, None)
        )
        app.scopes = list(dict.fromkeys(app.scopes + grant.scope.split()))
        app.since = min(app.since, grant.created_at)
        app.last_used = max(filter(None, (app.last_used, grant.created_at)))
    return sorted(found.values(), key=lambda a: a.last_used or a.since, reverse=True)


def revoke_application(profile_id: int, client_id: str) -> bool:
    """Forget the consent and revoke every grant of one client; False when it had none."""
    consent = db.session.get(Consent, (profile_id, client_id))
    grants = list(
        db.session.scalars(
            db.select(Grant).where(
                Grant.profile_id == profile_id, Grant.client_id == client_id, Grant.revoked_at.is_(None)
            )
        )
    )
    if consent is None and not grants:
        return False
    if consent is not None:
        db.session.delete(consent)
    for grant in grants:
        revoke_grant(grant.id, "revoked_by_profile")
    notify_clients(grants)
    return True
