"""Signing keys with rotation that never breaks a verifier.

Each algorithm (ES256 by default, RS256 on request) has one CURRENT key that signs and one NEXT key
that is already published, so relying parties have it in their cached JWKS before it signs.
``rotate`` makes NEXT current, retires the old current key (published until the tokens it signed
have expired: IDP_KEY_RETIRE_HOURS) and creates a new NEXT.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from joserfc.jwk import ECKey, KeySet, RSAKey

from idp import generations
from idp.extensions import db
from idp.oauth.models import CURRENT, NEXT, RETIRED, SigningKey
from idp.security.crypto import decrypt, encrypt
from idp.timeutil import utcnow

ALGORITHMS = ("ES256", "RS256")


def _generate(alg: str) -> SigningKey:
    key = ECKey.generate_key("P-256") if alg == "ES256" else RSAKey.generate_key(2048)
    return SigningKey(
        kid=key.thumbprint(), alg=alg, private_pem_encrypted=encrypt(key.as_pem(private=True).decode())
    )


def _in_state(alg: str, state: str) -> SigningKey | None:
    return db.session.scalar(
        db.select(SigningKey)
        .where(SigningKey.alg == alg, SigningKey.state == state)
        .order_by(SigningKey.created_at.desc())
    )


def ensure_keys(alg: str) -> SigningKey:
    """Make sure ``alg`` has a current and a next key; return the current one."""
    if alg not in ALGORITHMS:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    current, made = _in_state(alg, CURRENT), False
    if current is None:
        current = _generate(alg)
        current.state, current.activated_at = CURRENT, utcnow()
        db.session.add(current)
        made = True
    if _in_state(alg, NEXT) is None:
        upcoming = _generate(alg)
        upcoming.state = NEXT
        db.session.add(upcoming)
        made = True
    if made:  # otherwise nothing to commit here: a caller's changes (a spent code) are its own
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
    forget_cached_keys()
    return promoted, retired


def private_key(key: SigningKey) -> ECKey | RSAKey:
    """Return the usable private key of a stored signing key (decrypted once per process)."""
    cached = _DECRYPTED.get(key.kid)
    if cached is None:
        pem = decrypt(key.private_pem_encrypted)
        cached = ECKey.import_key(pem) if key.alg == "ES256" else RSAKey.import_key(pem)
        _DECRYPTED[key.kid] = cached
    return cached


# A stored key never changes, so its decrypted form can be kept for the life of the process.
_DECRYPTED: dict[str, ECKey | RSAKey] = {}


@dataclass
class _Cached:
    value: object
    generation: int
    until: float


# A rotation or a new key anywhere is seen through the keys' generation (idp.generations) within a
# fraction of a second; a retired key leaves the published set by time, seen within CACHE_SECONDS.
CACHE_SECONDS = 30


def _cache() -> dict[str, _Cached]:
    return current_app.extensions.setdefault("idp_key_cache", {})


def keys_generation() -> int:
    """The stored keys' generation: a value derived from them is good while it is unchanged."""
    return generations.current(current_app, "signing_keys")


def _cached(name: str, build):
    """Return a value derived from the stored keys, rebuilt when they changed (or CACHE_SECONDS)."""
    entry = _cache().get(name)
    now = time.time()
    generation = keys_generation()
    if entry is None or entry.until < now or entry.generation != generation:
        entry = _cache()[name] = _Cached(build(), generation, now + CACHE_SECONDS)
    return entry.value


def forget_cached_keys() -> None:
    """Drop this app's cached keys (after a rotation in this process)."""
    _cache().clear()


def signing_key(alg: str | None = None) -> tuple[str, str, ECKey | RSAKey]:
    """Return (kid, alg, private key) of the key that signs now with ``alg`` (default:
    IDP_SIGNING_ALG; a client may have its ID tokens signed with the other algorithm)."""
    alg = alg or current_app.config["IDP_SIGNING_ALG"]

    def build():
        key = ensure_keys(alg)
        return key.kid, key.alg, private_key(key)

    return _cached(f"signing-{alg}", build)


def public_jwks() -> dict:
    """Return the published JWKS, cached for a few seconds per process: IDP_SIGNING_ALG's keys,
    and the other algorithm's once a client asked for it (``idp keys ensure`` makes both)."""

    def build():
        ensure_keys(current_app.config["IDP_SIGNING_ALG"])
        return jwks()

    return _cached("jwks", build)


def verification_keys() -> KeySet:
    """Return the published keys as a joserfc KeySet, to verify tokens this provider signed."""
    return _cached("keyset", lambda: KeySet.import_key_set(jwks()))


def public_keys_by_kid() -> dict[str, tuple[str, Any]]:
    """The published keys as ``kid`` → (alg, ``cryptography`` public key), to verify a JWS straight."""

    def build():
        return {key.kid: (key.get("alg"), key.public_key) for key in verification_keys().keys}

    return _cached("by-kid", build)


def published_keys() -> list[SigningKey]:
    """Return the keys a verifier may meet: next, current, and retired ones still in use."""
    now = utcnow()
    return list(
        db.session.scalars(
            db.select(SigningKey)
            .where(db.or_(SigningKey.state.in_((NEXT, CURRENT)), SigningKey.unpublish_at > now))
            .order_by(SigningKey.alg, SigningKey.created_at)
        )
    )


def jwks() -> dict:
    """Return the public JSON Web Key Set."""
    keys = []
    for key in published_keys():
        public = private_key(key).as_dict(private=False)
        keys.append({**public, "kid": key.kid, "alg": key.alg, "use": "sig"})
    return {"keys": keys}


def prune_unpublished() -> int:
    """Delete retired keys that are no longer published."""
    return db.session.execute(
        db.delete(SigningKey).where(SigningKey.state == RETIRED, SigningKey.unpublish_at <= utcnow())
    ).rowcount
