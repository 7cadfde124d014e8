"""Errors of the profile domain (a dead e-mail link is ``idp.email_links.LinkInvalid``)."""

from idp.email_links import LinkInvalid

__all__ = ["EmailInUse", "LinkInvalid", "PhoneTaken", "ProfileError"]


class ProfileError(Exception):
    """Base of profile errors."""


class EmailInUse(ProfileError):
    """Another profile has already confirmed this address."""


class PhoneTaken(ProfileError):
    """Another profile is registered with this number."""
