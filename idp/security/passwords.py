"""Password rules (SPEC.md, seed 004 §1) and Argon2id hashing."""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

MAX_LENGTH = 128

# OWASP's minimum for Argon2id: 19 MiB, 2 iterations, 1 lane (the defaults of the settings
# IDP_PASSWORD_HASH_MEMORY_KIB and IDP_PASSWORD_HASH_ITERATIONS; production refuses less).
OWASP_MEMORY_KIB, OWASP_ITERATIONS = 19 * 1024, 2


@cache
def _hasher_with(memory_kib: int, iterations: int) -> PasswordHasher:
    return PasswordHasher(time_cost=iterations, memory_cost=memory_kib, parallelism=1)


def _hasher() -> PasswordHasher:
    """The Argon2id hasher of the app's settings (OWASP's parameters outside an app)."""
    config = current_app.config if has_app_context() else {}
    return _hasher_with(
        config.get("IDP_PASSWORD_HASH_MEMORY_KIB", OWASP_MEMORY_KIB),
        config.get("IDP_PASSWORD_HASH_ITERATIONS", OWASP_ITERATIONS),
    )


RULE_MESSAGES = {
    "length": _l("At least %(min)s characters, at most %(max)s."),
    "upper": _l("At least one capital Latin letter (A–Z)."),
    "lower": _l("At least one lower-case Latin letter (a–z)."),
    "digit": _l("At least one digit (0–9)."),
    "common": _l("Not a commonly used password."),
}


@cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships a frequency-ranked list of the passwords most seen in breaches.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_rules() -> list[str]:
    """Return the rule ids in force, in the order they are shown to the user."""
    rules = ["length"]
    if current_app.config["IDP_PASSWORD_COMPOSITION"]:
        rules += ["upper", "lower", "digit"]
    return rules + ["common"]


def broken_rules(password: str) -> list[str]:
    """Return the ids of the rules ``password`` breaks (empty when it is acceptable)."""
    minimum = current_app.config["IDP_PASSWORD_MIN_LENGTH"]
    checks = {
        "length": minimum <= len(password) <= MAX_LENGTH,
        "upper": re.search(r"[A-Z]", password) is not None,
        "lower": re.search(r"[a-z]", password) is not None,
        "digit": re.search(r"[0-9]", password) is not None,
        "common": password.lower() not in _common_passwords(),
    }
    return [rule for rule in password_rules() if not checks[rule]]


def rule_text(rule: str) -> str:
    """Return the localised sentence that states one rule."""
    minimum = current_app.config["IDP_PASSWORD_MIN_LENGTH"]
    return str(RULE_MESSAGES[rule]) % {"min": minimum, "max": MAX_LENGTH}


def hash_password(password: str) -> str:
    """Return the Argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against a hash; with no hash, spend the same time and fail."""
    if password_hash is None:
        _hasher().hash(password)  # equalise timing for unknown accounts
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether a stored hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)
