"""E-mail addresses: one rule for every place that stores, finds or compares one.

An address is kept and compared trimmed and lower-cased as a whole, the part before the @ too:
what Keycloak does, and what people expect ("Olena@Company.com" is the same mailbox as
"olena@company.com" everywhere they meet it). Profiles, invitations, the staff console's search,
the outbox and every connector's accounts (through the connector SDK) use ``normalise_email``.
"""

from __future__ import annotations


def normalise_email(text: str) -> str:
    """The one form of an address: no surrounding spaces, lower case throughout."""
    return text.strip().lower()
