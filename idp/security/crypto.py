"""Encryption at rest and keyed hashes, with keys from configuration.

Secrets that must be read back (TOTP seeds, queued message bodies) are encrypted with Fernet
(AES-128-CBC with HMAC-SHA256, authenticated) under ``IDP_SECRETS_KEY``; MultiFernet lets a new key
be put first while the old ones still decrypt. Secrets only ever compared (SMS codes, recovery
codes, throttle keys) are kept as HMAC-SHA256 under a key derived from ``IDP_SECRET_KEY``.
Secrets bound to one record (SIP passwords) are sealed with AES-GCM; see ``seal``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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
    """Return a hex HMAC of ``value`` under a key derived for ``purpose`` (HKDF), so hashes never
    cross uses."""
    return hmac.new(derived_key(f"keyed hash {purpose}"), value.encode(), hashlib.sha256).hexdigest()


def legacy_keyed_hash(purpose: str, value: str) -> str:
    """``keyed_hash`` as releases before 2026-12 derived its key (plain SHA-256), to still accept
    values stored then (recovery codes); nothing new is stored this way."""
    key = hashlib.sha256(f"{purpose}:{current_app.config['SECRET_KEY']}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    """The stored form of a random token (session tokens, codes, refresh tokens, client secrets):
    they carry 256 random bits, so a plain SHA-256 is enough and costs microseconds."""
    return hashlib.sha256(token.encode()).hexdigest()


def derived_key(purpose: str) -> bytes:
    """Return a 32-byte key for ``purpose``, derived from ``IDP_SECRET_KEY`` with HKDF."""
    return _derive(current_app.config["SECRET_KEY"], purpose)


@functools.lru_cache(maxsize=256)
def _derive(secret: str, purpose: str) -> bytes:
    """HKDF of ``secret`` for ``purpose``, once per process (a sign-in hashes five identifiers)."""
    info = f"business-id {purpose}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


def same_hash(a: str | None, b: str) -> bool:
    """Compare two hashes in constant time; ``None`` never matches."""
    return a is not None and hmac.compare_digest(a, b)


# Sealed values: AES-256-GCM with associated data, for secrets that must be read back and must
# stay bound to the record they belong to (SIP passwords): a sealed value copied into another
# account's row does not open there. Each key of IDP_SECRETS_KEY gives an AES key through HKDF;
# the sealed text names its key, so the newest key seals and every configured key still opens.

SEALED_PREFIX = "g1"


def _sealing_keys() -> list[tuple[str, AESGCM]]:
    keys = []
    for entry in current_app.config["IDP_SECRETS_KEY"].split(","):
        material = base64.urlsafe_b64decode(entry.strip())
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"business-id sealed values v1"
        ).derive(material)
        keys.append((hashlib.sha256(derived).hexdigest()[:8], AESGCM(derived)))
    return keys


def seal(plaintext: str, context: str) -> str:
    """Encrypt ``plaintext`` with the newest key, bound to ``context`` (e.g. "multifon:79260250730")."""
    kid, aead = _sealing_keys()[0]
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, plaintext.encode(), context.encode())
    return f"{SEALED_PREFIX}.{kid}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(token: str, context: str) -> str:
    """Decrypt a sealed value; raise ``InvalidToken`` if it was altered or sealed for another context."""
    try:
        prefix, kid, body = token.split(".")
        raw = base64.urlsafe_b64decode(body)
    except ValueError as exc:
        raise InvalidToken("not a sealed value") from exc
    if prefix != SEALED_PREFIX:
        raise InvalidToken("not a sealed value")
    for key_id, aead in _sealing_keys():
        if key_id == kid:
            try:
                return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
            except InvalidTag as exc:
                raise InvalidToken("sealed value altered or out of context") from exc
    raise InvalidToken("sealed with a key that is no longer configured")


def reseal(token: str, context: str) -> str:
    """Seal a value again under the newest key (``idp keys rotate-secrets``)."""
    return seal(unseal(token, context), context)


def sealed_with_newest_key(token: str) -> bool:
    """Tell whether ``token`` is already sealed under the newest key."""
    return token.split(".")[1:2] == [_sealing_keys()[0][0]]
