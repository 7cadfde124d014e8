"""Errors of the profile domain."""


class ProfileError(Exception):
    """Base of profile errors."""


class LinkInvalid(ProfileError):
    """An e-mail link is forged, expired, already used or no longer matches the profile."""


class EmailInUse(ProfileError):
    """Another profile has already confirmed this address."""


class PhoneTaken(ProfileError):
    """Another profile is registered with this number."""
