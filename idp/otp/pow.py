"""Proof of work (ALTCHA): what a browser pays, in place of a hard stop, once a shared budget is spent.

The challenge is ALTCHA's (the ``altcha`` package, v1 format): find the number ``n`` up to
``maxNumber`` for which SHA-256(salt + n) is the challenge; the server signs the challenge with a
key of its own, so it keeps no state until a solution comes back. A browser solves it in well under
a second (``ui/static/pow.js``); each solution works once (``proof_solutions``) and for a few
minutes. Nothing is asked of a third party.

A budget that falls back to a proof calls ``ask``: the pages that follow carry a challenge in their
forms (``challenge``, a template global) until a solution is redeemed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import altcha
from flask import current_app, g, has_request_context, request
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from idp.atomic import insert_if_absent
from idp.extensions import db
from idp.security.crypto import derived_key
from idp.sessions.flows import Flow
from idp.timeutil import utcnow

FIELD = "altcha"  # the form field that carries a solution
ASKED = Flow("proof_asked", minutes=60)  # this browser's forms must carry a proof
LIFETIME = timedelta(minutes=5)


class ProofSolution(db.Model):
    """A redeemed solution, kept until it expires so it cannot be used twice."""

    __tablename__ = "proof_solutions"

    signature: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime]


def _key() -> bytes:
    return derived_key("altcha challenges")


def ask() -> None:
    """Make this browser's next forms carry a challenge to solve."""
    g.proof_asked = True
    ASKED.start()


def challenge() -> str | None:
    """The JSON of a new challenge when this browser was asked for a proof, else None."""
    if not has_request_context() or not (g.get("proof_asked") or ASKED.get()):
        return None
    created = altcha.create_challenge_v1(
        hmac_key=_key(),
        max_number=current_app.config["IDP_POW_MAX_NUMBER"],
        expires=datetime.now(UTC) + LIFETIME,
    )
    return json.dumps(created.to_dict())


def submitted() -> str | None:
    """The solution the posted form carries, if any."""
    value = request.form.get(FIELD, "") if has_request_context() else ""
    return value if 0 < len(value) <= 2000 else None


def redeem(solution: str | None) -> bool:
    """Accept a valid, unexpired solution once; return whether it was accepted."""
    if not solution:
        return False
    try:  # the library refuses most junk itself, and raises on some (b64 "null", a list)
        valid, _ = altcha.verify_solution_v1(solution, _key(), check_expires=True)
        signature = str(altcha.PayloadV1.from_base64(solution).signature)[:128] if valid else ""
    except (ValueError, TypeError, AttributeError, KeyError):
        return False
    if not valid:
        return False
    fresh = insert_if_absent(ProofSolution, signature=signature, expires_at=utcnow() + LIFETIME)
    db.session.commit()
    if fresh and has_request_context():
        ASKED.end()
    return fresh


def prune() -> int:
    """Delete the solutions that can no longer be replayed (expired)."""
    return db.session.execute(db.delete(ProofSolution).where(ProofSolution.expires_at < utcnow())).rowcount
