"""The digest HA1s a registrar checks a REGISTER against, so that it never holds a password."""

from __future__ import annotations

import hashlib


def ha1_md5(user: str, realm: str, password: str) -> str:
    """``MD5(user:realm:password)`` in hex (RFC 2617), what most SIP phones answer."""
    return hashlib.md5(f"{user}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def ha1_sha256(user: str, realm: str, password: str) -> str:
    """``SHA-256(user:realm:password)`` in hex (RFC 7616, for SIP RFC 8760)."""
    return hashlib.sha256(f"{user}:{realm}:{password}".encode()).hexdigest()
