"""Encryption at rest and keyed hashes, with keys from configuration.

Secrets that must be read back (TOTP seeds, queued message bodies) are encrypted with Fernet
(AES-128-CBC with HMAC-SHA256, authenticated) under ``IDP_SECRETS_KEY``; MultiFernet lets a new key
be put first while the old ones still decrypt. Secrets only ever compared (SMS codes, recovery
codes, throttle keys) are kept as HMAC-SHA256 under a key derived from ``IDP_SECRET_KEY``.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


def _fernet() -> MultiFernet:
    keys = current_app.config["IDP_SECRETS_KEY"].split(",")
    return MultiFernet([Fernet(key.strip()) for key in keys])


def encrypt(plaintext: str) -> str:
    """Encrypt text with the newest secrets key."""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt text encrypted by any configured secrets key."""
    return _fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key."""
    return _fernet().rotate(token.encode()).decode()


def keyed_hash(purpose: str, value: str) -> str:
    """Return a hex HMAC of ``value``, separated by ``purpose`` so hashes never cross uses."""
    key = hashlib.sha256(f"{purpose}:{current_app.config['SECRET_KEY']}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def same_hash(a: str | None, b: str) -> bool:
    """Compare two hashes in constant time; ``None`` never matches."""
    return a is not None and hmac.compare_digest(a, b)
