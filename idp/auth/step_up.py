"""Confirm an action again (step-up): the profile's password, or a code by SMS to its phone.

Changing a password, disconnecting a service or sending a SIP password by SMS asks the signed-in
person to prove again that it is them. ``password_confirmed`` checks the password under the
sign-in throttling; ``SmsConfirmation`` runs the SMS code alternative as a flow of the session,
drawing on the profile's own SMS budget.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from idp.auth.errors import Locked, Throttled, WrongCredentials
from idp.auth.messages import credential_error
from idp.auth.services import reauthenticate
from idp.i18n import current_locale
from idp.otp import services as otp
from idp.otp.budgets import PROVEN
from idp.otp.errors import OtpError
from idp.otp.messages import code_step, otp_error_text, resend_and_tell
from idp.sessions.flows import Flow
from idp.sessions.services import current_profile


def password_confirmed(form, field: str = "current_password", wrong: str | None = None) -> bool:
    """Check the signed-in profile's password in ``form.<field>`` (throttled like a sign-in);
    put the reason on the field when it fails. ``wrong`` replaces "The current password is
    wrong."."""
    target = getattr(form, field)
    try:
        reauthenticate(current_profile(), target.data)
        return True
    except (WrongCredentials, Throttled, Locked) as error:
        if isinstance(error, WrongCredentials):
            target.errors.append(wrong or _("The current password is wrong."))
        else:
            target.errors.append(credential_error(error))
        return False


class SmsConfirmation:
    """A code by SMS to the signed-in profile's phone that confirms one action.

    ``purpose`` names the action (its SMS code flow, e.g. "multifon_remind"); ``start`` may bind
    values to it (the account it is for), which ``state`` returns while it runs.
    """

    def __init__(self, purpose: str, minutes: float = 10):
        self.purpose = purpose
        self.flow = Flow(purpose, minutes=minutes)

    def start(self, **bound: Any) -> str | None:
        """Send the code; return why it could not be sent, or None."""
        profile = current_profile()
        try:
            challenge = otp.start_challenge(
                self.purpose, profile.phone, current_locale(), profile.id, budget=PROVEN
            )
        except OtpError as error:
            return otp_error_text(error)
        self.flow.start(challenge=challenge.id, **bound)
        return None

    def state(self) -> dict[str, Any] | None:
        """What ``start`` bound, while the confirmation runs; None otherwise."""
        return self.flow.get()

    def check(self, code: str) -> str | None:
        """Check the code: None when it confirms the action (the flow ends), else why not."""
        state = self.flow.get()
        try:
            otp.verify(state.get("challenge") if state else None, self.purpose, code)
        except OtpError as error:
            return otp_error_text(error)
        self.flow.end()
        return None

    def resend(self) -> None:
        """Send the code again (after the wait), or a new code when it is spent (too many wrong
        tries), and tell the person by a flash message."""
        resend_and_tell(self.flow, self.purpose, current_locale())

    def seconds_until_resend(self) -> int:
        state = self.flow.get()
        return otp.seconds_until_resend(state.get("challenge") if state else None)

    def code_step(self) -> dict[str, Any]:
        """``resend_wait`` and ``code_spent`` for the code page (``idp.otp.messages.code_step``)."""
        state = self.flow.get()
        return code_step(state.get("challenge") if state else None)
