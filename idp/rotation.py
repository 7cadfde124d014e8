"""Re-encrypt every stored secret under the newest key of IDP_SECRETS_KEY (``idp keys rotate-secrets``).

Put a new key first in IDP_SECRETS_KEY, keeping the old ones after it, deploy, run the command;
once it reports nothing left under an old key, the old keys can be removed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from idp.extensions import db
from idp.security.crypto import reseal, rotate

BATCH = 500


def _fernet_columns() -> list[tuple[Any, str]]:
    from idp.delivery.models import Message
    from idp.oauth.models import SigningKey
    from idp.profiles.models import Profile

    return [
        (Profile, "totp_secret_encrypted"),
        (SigningKey, "private_pem_encrypted"),
        (Message, "body_encrypted"),
        (Message, "html_encrypted"),
    ]


def _rewrite(model, column: str, convert: Callable[[Any, str], str]) -> int:
    """Apply ``convert(row, value)`` to every non-empty value of a column; return how many."""
    count = 0
    key = model.__mapper__.primary_key[0]
    attribute = getattr(model, column)
    query = db.select(model).where(attribute.is_not(None)).order_by(key).limit(BATCH)
    rows = list(db.session.scalars(query))
    while rows:
        for row in rows:
            setattr(row, column, convert(row, getattr(row, column)))
            count += 1
        last = getattr(rows[-1], key.key)
        db.session.commit()
        rows = list(db.session.scalars(query.where(key > last)))
    return count


def rotate_secrets(connectors) -> dict[str, int]:
    """Re-encrypt the core's secrets and each connector's sealed values; return counts per column."""
    counts = {}
    for model, column in _fernet_columns():
        counts[f"{model.__tablename__}.{column}"] = _rewrite(model, column, lambda row, value: rotate(value))
    for connector in connectors:
        for model, column, context in connector.encrypted_values():
            counts[f"{model.__tablename__}.{column}"] = _rewrite(
                model, column, lambda row, value, context=context: reseal(value, context(row))
            )
    return counts
