"""Housekeeping of the provider's tables (run by ``idp prune``)."""

from __future__ import annotations

from datetime import datetime

from idp.extensions import db
from idp.oauth.keys import prune_unpublished
from idp.oauth.models import AuthorizationCode, Grant, RefreshToken, RevokedAccessToken
from idp.timeutil import utcnow


def prune_tokens(cutoff: datetime) -> dict[str, int]:
    """Delete codes, refresh tokens and grants that ended before ``cutoff``; return the counts.

    Revoked access-token ids go as soon as the tokens would have expired anyway, and signing keys
    once they are no longer published.
    """
    revoked_grants = db.select(Grant.id).where(Grant.revoked_at < cutoff)
    counts = {
        "authorization codes": db.session.execute(
            db.delete(AuthorizationCode).where(AuthorizationCode.expires_at < cutoff)
        ).rowcount,
        "refresh tokens": db.session.execute(
            db.delete(RefreshToken).where(
                db.or_(
                    RefreshToken.expires_at < cutoff,
                    RefreshToken.used_at < cutoff,
                    RefreshToken.grant_id.in_(revoked_grants),
                )
            )
        ).rowcount,
        "revoked access tokens": db.session.execute(
            db.delete(RevokedAccessToken).where(RevokedAccessToken.expires_at < utcnow())
        ).rowcount,
        "signing keys": prune_unpublished(),
    }
    live_refresh = db.select(RefreshToken.grant_id)
    counts["grants"] = db.session.execute(
        db.delete(Grant).where(Grant.revoked_at < cutoff, Grant.id.not_in(live_refresh))
    ).rowcount
    return counts
