"""A profile's single-use e-mail links: confirming its address, or a new one (``IDP_EMAIL_LINK_HOURS``)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from idp.email_links import SingleUseLinks
from idp.profiles.models import EmailLink


def _lifetime(purpose: str) -> timedelta:
    return timedelta(hours=current_app.config["IDP_EMAIL_LINK_HOURS"])


LINKS = SingleUseLinks(
    EmailLink,
    "profile_id",
    salt="idp.email-link",
    endpoints={"confirm": "profiles.confirm_email", "change": "profiles.confirm_email"},
    lifetime=_lifetime,
)
