"""Demo data for the embedded default: one profile anybody can sign in with."""

from __future__ import annotations

from idp.profiles.models import Profile
from idp.profiles.services import create_profile, find_by_phone

DEMO_PHONE = "+380441234567"
DEMO_EMAIL = "demo@business-id.example"
DEMO_PASSWORD = "DemoPassw0rd"  # noqa: S105 - printed by `idp demo`


def ensure_demo_data() -> Profile:
    """Create the demo profile unless it exists; return it."""
    profile = find_by_phone(DEMO_PHONE)
    if profile is None:
        profile = create_profile(DEMO_PHONE, DEMO_EMAIL, "Olena", "Demchenko", DEMO_PASSWORD,
                                 "uk", email_verified=True)
    return profile
