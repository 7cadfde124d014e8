"""One-time recovery codes that stand in for a lost second factor."""

from __future__ import annotations

import secrets

from idp.extensions import db
from idp.profiles.models import Profile, RecoveryCode
from idp.security.crypto import keyed_hash, legacy_keyed_hash
from idp.timeutil import utcnow

COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes


def _normalise(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


def generate(profile: Profile) -> list[str]:
    """Replace the profile's recovery codes with new ones and return them (shown once)."""
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.profile_id == profile.id))
    codes = []
    for _ in range(COUNT):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(profile_id=profile.id, code_hash=keyed_hash("recovery-code", raw)))
    return codes


def discard(profile: Profile) -> None:
    """Forget every recovery code of the profile (its second factor was reset)."""
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.profile_id == profile.id))


def remaining(profile: Profile) -> int:
    """Return how many unused codes the profile has."""
    return (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.profile_id == profile.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def use(profile: Profile, code: str) -> bool:
    """Use up a matching unused code; return whether there was one (one conditional UPDATE, so a
    code used twice at the same moment works once)."""
    raw = _normalise(code)
    wanted = (keyed_hash("recovery-code", raw), legacy_keyed_hash("recovery-code", raw))
    used = db.session.execute(
        db.update(RecoveryCode)
        .where(
            RecoveryCode.profile_id == profile.id,
            RecoveryCode.code_hash.in_(wanted),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    ).rowcount
    db.session.commit()
    return used >= 1
