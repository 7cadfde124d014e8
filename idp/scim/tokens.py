"""The SCIM tokens of an organisation: made by its owner or an administrator on the organisation
page, shown once, kept as a hash, revocable, audited. A token works on its organisation's SCIM
base URL only."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from flask_babel import gettext as _

from idp.audit.services import record
from idp.extensions import db
from idp.orgs.models import Organisation
from idp.orgs.services import Actor, OrgError, may_manage_org
from idp.scim.models import ScimToken
from idp.security.crypto import token_digest
from idp.timeutil import utcnow

PREFIX = "bidscim_"  # lets secret scanners recognise a leaked token
LABEL_LIMIT = 100
USE_RECORDED_EVERY = timedelta(minutes=1)  # ``last_used_at`` is not written on every request


def create_token(actor: Actor, org: Organisation, label: str) -> tuple[ScimToken, str]:
    """A new token for ``org``'s directory; return it with its secret (shown once, never stored)."""
    if not may_manage_org(actor, org) or actor.client_id is not None:
        raise OrgError(_("You cannot manage this organisation."))
    label = " ".join((label or "").split())[:LABEL_LIMIT] or "SCIM"
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ScimToken(org_id=org.id, token_hash=token_digest(secret), label=label, created_by=actor.id)
    db.session.add(row)
    db.session.flush()
    record("scim.token_created", None, actor.id, by=actor.kind, org=org.id, token=row.id, label=label)
    db.session.commit()
    return row, secret


def revoke_token(actor: Actor, org: Organisation, token: ScimToken) -> None:
    """Revoke a token of ``org``: the next request with it gets 401."""
    if token.org_id != org.id or not may_manage_org(actor, org) or actor.client_id is not None:
        raise OrgError(_("You cannot manage this organisation."))
    if token.revoked_at is not None:
        raise OrgError(_("This token was already revoked."))
    token.revoked_at = utcnow()
    record("scim.token_revoked", None, actor.id, by=actor.kind, org=org.id, token=token.id, label=token.label)
    db.session.commit()


def tokens_of(org: Organisation) -> list[ScimToken]:
    """The organisation's tokens, the newest first (revoked ones too)."""
    return list(
        db.session.scalars(
            db.select(ScimToken).where(ScimToken.org_id == org.id).order_by(ScimToken.id.desc())
        )
    )


def token_of(org: Organisation, token_id: int) -> ScimToken | None:
    """One of the organisation's tokens, or None."""
    row = db.session.get(ScimToken, token_id)
    return row if row is not None and row.org_id == org.id else None


def authenticate(org_id: int, presented: str) -> ScimToken | None:
    """The active token of organisation ``org_id`` that ``presented`` is, or None."""
    if not presented.startswith(PREFIX) or len(presented) > 100:
        return None
    digest = token_digest(presented)
    row = db.session.scalar(db.select(ScimToken).where(ScimToken.token_hash == digest))
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    if row.org_id != org_id or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > USE_RECORDED_EVERY:
        row.last_used_at = now
        db.session.commit()
    return row
