"""Signing keys with rotation that never breaks a verifier.

Each algorithm (ES256 by default, RS256 on request) has one CURRENT key that signs and one NEXT key
that is already published, so relying parties have it in their cached JWKS before it signs.
``rotate`` makes NEXT current, retires the old current key (published until the tokens it signed
have expired: IDP_KEY_RETIRE_HOURS) and creates a new NEXT.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from joserfc.jwk import ECKey, RSAKey

from idp.extensions import db
from idp.oauth.models import CURRENT, NEXT, RETIRED, SigningKey
from idp.security.crypto import decrypt, encrypt
from idp.timeutil import utcnow

ALGORITHMS = ("ES256", "RS256")


def _generate(alg: str) -> SigningKey:
    key = ECKey.generate_key("P-256") if alg == "ES256" else RSAKey.generate_key(2048)
    return SigningKey(kid=key.thumbprint(), alg=alg,
                      private_pem_encrypted=encrypt(key.as_pem(private=True).decode()))


def _in_state(alg: str, state: str) -> SigningKey | None:
    return db.session.scalar(db.select(SigningKey).where(
        SigningKey.alg == alg, SigningKey.state == state).order_by(SigningKey.created_at.desc()))


def ensure_keys(alg: str) -> SigningKey:
    """Make sure ``alg`` has a current and a next key; return the current one."""
    if alg not in ALGORITHMS:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    current = _in_state(alg, CURRENT)
    if current is None:
        current = _generate(alg)
        current.state, current.activated_at = CURRENT, utcnow()
        db.session.add(current)
    if _in_state(alg, NEXT) is None:
        upcoming = _generate(alg)
        upcoming.state = NEXT
        db.session.add(upcoming)
    db.session.commit()
    return current


def rotate(alg: str) -> tuple[SigningKey, SigningKey]:
    """Promote the published next key to current; return (new current, retired)."""
    retired = ensure_keys(alg)
    promoted = _in_state(alg, NEXT)
    now = utcnow()
    retired.state, retired.retired_at = RETIRED, now
    retired.unpublish_at = now + timedelta(hours=current_app.config["IDP_KEY_RETIRE_HOURS"])
    promoted.state, promoted.activated_at = CURRENT, now
    db.session.commit()
    ensure_keys(alg)
    return promoted, retired


def private_key(key: SigningKey) -> ECKey | RSAKey:
    """Return the usable private key of a stored signing key."""
    pem = decrypt(key.private_pem_encrypted)
    return ECKey.import_key(pem) if key.alg == "ES256" else RSAKey.import_key(pem)


def published_keys() -> list[SigningKey]:
    """Return the keys a verifier may meet: next, current, and retired ones still in use."""
    now = utcnow()
    return list(db.session.scalars(db.select(SigningKey).where(
        db.or_(SigningKey.state.in_((NEXT, CURRENT)), SigningKey.unpublish_at > now))
        .order_by(SigningKey.alg, SigningKey.created_at)))


def jwks() -> dict:
    """Return the public JSON Web Key Set."""
    keys = []
    for key in published_keys():
        public = private_key(key).as_dict(private=False)
        keys.append({**public, "kid": key.kid, "alg": key.alg, "use": "sig"})
    return {"keys": keys}


def prune_unpublished() -> int:
    """Delete retired keys that are no longer published."""
    return db.session.execute(db.delete(SigningKey).where(
        SigningKey.state == RETIRED, SigningKey.unpublish_at <= utcnow())).rowcount
