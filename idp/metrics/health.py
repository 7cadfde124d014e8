"""The readiness checks of /readyz: the database, Redis and the signing key, each failing fast.

A check returns "ok" (or "not configured") or raises CheckFailed with a short reason fit for a
load balancer's log: never a secret, a URL or an exception's text.
"""

from __future__ import annotations

import logging

import redis
from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from idp.extensions import db
from idp.oauth.keys import private_key
from idp.oauth.models import CURRENT, SigningKey

log = logging.getLogger("idp.metrics")

REDIS_TIMEOUT_SECONDS = 0.5  # an unreachable Redis must not hold the load balancer's probe


class CheckFailed(Exception):
    """A readiness check failed; ``reason`` says how, in a few words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_database() -> str:
    """Run ``SELECT 1`` on a connection of the app's pool."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("readiness: database unreachable (%s)", type(exc).__name__)
        raise CheckFailed("unreachable") from exc
    return "ok"


def _redis_client(url: str) -> redis.Redis:
    """One client per app and URL, with short timeouts, kept between probes."""
    clients = current_app.extensions.setdefault("idp_ready_redis", {})
    client = clients.get(url)
    if client is None:
        client = clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
    return client


def check_redis() -> str:
    """PING the Redis of IDP_REDIS_URL, if one is configured."""
    url = current_app.config["IDP_REDIS_URL"]
    if not url:
        return "not configured"
    try:
        _redis_client(url).ping()
    except redis.TimeoutError as exc:
        log.warning("readiness: redis timed out")
        raise CheckFailed("timed out") from exc
    except redis.RedisError as exc:
        log.warning("readiness: redis unreachable (%s)", type(exc).__name__)
        raise CheckFailed("unreachable") from exc
    return "ok"


def check_signing_key() -> str:
    """The current key of IDP_SIGNING_ALG is stored and its private key decrypts and loads.

    It only reads: keys are made by ``idp keys ensure`` (or the first token or JWKS request)."""
    alg = current_app.config["IDP_SIGNING_ALG"]
    try:
        key = db.session.scalar(
            select(SigningKey)
            .where(SigningKey.alg == alg, SigningKey.state == CURRENT)
            .order_by(SigningKey.created_at.desc())
        )
    except SQLAlchemyError as exc:
        db.session.rollback()
        raise CheckFailed("could not be read") from exc
    if key is None:
        raise CheckFailed(f"no current {alg} key (run: idp keys ensure)")
    try:
        private_key(key)
    except (InvalidToken, ValueError) as exc:
        log.warning("readiness: the current %s key does not load (%s)", alg, type(exc).__name__)
        raise CheckFailed("does not load (check IDP_SECRETS_KEY)") from exc
    finally:
        db.session.rollback()  # end the read's transaction: a probe holds nothing open
    return "ok"


CHECKS = (("database", check_database), ("redis", check_redis), ("signing_key", check_signing_key))


def readiness() -> tuple[bool, dict[str, str]]:
    """Run every check; return whether all passed and each one's outcome."""
    outcomes: dict[str, str] = {}
    ready = True
    for name, check in CHECKS:
        try:
            outcomes[name] = check()
        except CheckFailed as failure:
            outcomes[name] = failure.reason
            ready = False
    return ready, outcomes
