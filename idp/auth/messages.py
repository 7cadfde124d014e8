"""The localised sentences of sign-in errors; none tells whether a profile exists."""

from __future__ import annotations

from flask_babel import gettext as _

from idp.auth.errors import Disabled, Locked, Throttled


def credential_error(error: Exception) -> str:
    """Return the sign-in error text; it never tells whether the profile exists."""
    if isinstance(error, Throttled):
        return _("Too many failed attempts. Try again in %(seconds)d s.", seconds=error.seconds)
    if isinstance(error, Locked):
        return _("Sign-in is blocked after too many failed attempts. Restore the password to unblock it.")
    if isinstance(error, Disabled):
        return _("This profile is disabled. Contact your operator.")
    return _("The phone number, e-mail or password is wrong.")
