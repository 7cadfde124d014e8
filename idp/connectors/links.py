"""Link service accounts to profiles, remember the account being linked, and the active account.

A browser works in one account per service at a time (seed 004 §2): the active account of each
service lives in the session under ``service_accounts``. An account proven by its own credentials
but not linked yet waits under ``service_link`` while the person signs in or registers; it is kept
across the sign-in (see ``ServerSession.authenticate``) and expires after thirty minutes, time
enough to register a profile.
"""

from __future__ import annotations

import time

from flask import session

from idp.audit.services import record
from idp.connectors import registry
from idp.connectors.contract import VerifiedAccount
from idp.connectors.models import OWNER, ServiceLink
from idp.extensions import db
from idp.profiles.models import Profile
from idp.timeutil import utcnow

PENDING = "service_link"
ACTIVE = "service_accounts"
PENDING_SECONDS = 1800


class LinkRefused(Exception):
    """The account already belongs to another profile."""


def links_of(profile_id: int, connector_id: str | None = None) -> list[ServiceLink]:
    """The profile's links, of one connector or all, oldest first."""
    query = db.select(ServiceLink).where(ServiceLink.profile_id == profile_id)
    if connector_id:
        query = query.where(ServiceLink.connector == connector_id)
    return list(db.session.scalars(query.order_by(ServiceLink.id)))


def find_link(profile_id: int, connector_id: str, account: str) -> ServiceLink | None:
    """The profile's link to this account, or None."""
    return db.session.scalar(db.select(ServiceLink).where(
        ServiceLink.profile_id == profile_id, ServiceLink.connector == connector_id,
        ServiceLink.account == account))


def posted_link(profile_id: int, link_id: str | None, connector_id: str | None = None
                ) -> ServiceLink | None:
    """The profile's own link whose id a form posted (of ``connector_id``, if given), or None."""
    valid = link_id is not None and link_id.isdigit() and len(link_id) <= 9  # fits an INTEGER
    row = db.session.get(ServiceLink, int(link_id)) if valid else None
    if row is None or row.profile_id != profile_id \
            or (connector_id is not None and row.connector != connector_id):
        return None
    return row


def owner_of(connector_id: str, account: str) -> ServiceLink | None:
    """The owner's link to this account, or None when nobody has linked it."""
    return db.session.scalar(db.select(ServiceLink).where(
        ServiceLink.connector == connector_id, ServiceLink.account == account,
        ServiceLink.role == OWNER))


def link(profile: Profile, connector_id: str, verified: VerifiedAccount) -> ServiceLink:
    """Link the account to ``profile`` as its owner; refuse if another profile owns it."""
    existing = find_link(profile.id, connector_id, verified.account)
    if existing is not None:
        return existing
    if owner_of(connector_id, verified.account) is not None:
        record("service.link_refused", profile.id, connector=connector_id,
               account=verified.account)
        db.session.commit()
        raise LinkRefused
    created = ServiceLink(profile_id=profile.id, connector=connector_id,
                          account=verified.account, label=verified.label, role=OWNER)
    db.session.add(created)
    record("service.linked", profile.id, connector=connector_id, account=verified.account)
    db.session.commit()
    return created


def unlink(link_row: ServiceLink, actor_id: int | None, reason: str) -> None:
    """End a link: the connector is told, the event audited."""
    connector = registry.get(link_row.connector)
    if connector is not None:
        connector.link_revoked(link_row)
    record("service.unlinked", link_row.profile_id, actor_id, connector=link_row.connector,
           account=link_row.account, reason=reason)
    db.session.delete(link_row)
    db.session.commit()


def hold_pending(connector_id: str, verified: VerifiedAccount) -> None:
    """Remember an account proven by its own credentials until the person has a profile."""
    session[PENDING] = {"connector": connector_id, "account": verified.account,
                        "label": verified.label, "at": int(time.time())}


def pending(connector_id: str | None = None) -> VerifiedAccount | None:
    """The account waiting to be linked (of ``connector_id``, if given), or None."""
    held = session.get(PENDING)
    if not held or time.time() - held["at"] > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    if connector_id is not None and held["connector"] != connector_id:
        return None
    return VerifiedAccount(held["account"], held["label"])


def pending_connector() -> str | None:
    """The connector of the account waiting to be linked, or None."""
    return session[PENDING]["connector"] if pending() else None


def link_pending(profile: Profile) -> ServiceLink | None:
    """Link the waiting account to ``profile`` and make it active; None if nothing waits."""
    connector_id = pending_connector()
    verified = pending()
    if verified is None or connector_id is None:
        return None
    session.pop(PENDING, None)
    created = link(profile, connector_id, verified)
    activate(created)
    return created


def activate(link_row: ServiceLink) -> None:
    """Make this account the browser's active account of its service."""
    active = dict(session.get(ACTIVE) or {})
    active[link_row.connector] = link_row.account
    session[ACTIVE] = active
    link_row.last_used_at = utcnow()
    db.session.commit()


def active_link(profile_id: int, connector_id: str) -> ServiceLink | None:
    """The link of the browser's active account of this service, if it is still linked."""
    account = (session.get(ACTIVE) or {}).get(connector_id)
    return find_link(profile_id, connector_id, account) if account else None


def leave(connector_id: str) -> None:
    """Forget the browser's active account of this service."""
    active = dict(session.get(ACTIVE) or {})
    if active.pop(connector_id, None) is not None:
        session[ACTIVE] = active


def service_claims(profile: Profile) -> list[dict]:
    """The ``services`` claim: every linked account with its connector and the profile's role."""
    entries = []
    for row in links_of(profile.id):
        connector = registry.get(row.connector)
        if connector is None:
            continue
        entry = {"connector": row.connector, "account": row.account, "role": row.role}
        entry.update(connector.claims(row))
        entries.append(entry)
    return entries
