"""Errors of sign-in. Their texts never say whether an identifier is registered."""


class AuthError(Exception):
    """Base of sign-in errors."""


class WrongCredentials(AuthError):
    """The identifier and password do not match a profile (or the profile is unknown)."""


class Throttled(AuthError):
    """Too many recent failures: wait ``seconds`` before the next try."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


class Disabled(AuthError):
    """The password was right, but the operator disabled the profile (told only after it)."""


class Locked(AuthError):
    """Too many consecutive failures: the password must be restored."""
