"""The localised sentence a page shows for each SMS code error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import flash
from flask_babel import gettext as _
from flask_babel import ngettext

from idp.otp.errors import (
    AttemptsExhausted,
    BudgetExceeded,
    BudgetUnavailable,
    CodeExpired,
    CodeInvalid,
    FlowUnknown,
    OtpError,
    ProofRequired,
    ResendTooSoon,
)

if TYPE_CHECKING:
    from idp.sessions.flows import Flow


def otp_error_text(error: OtpError) -> str:
    """Return what to tell the user about ``error``."""
    if isinstance(error, CodeInvalid):
        return ngettext(
            "The code is wrong. %(num)d try left.", "The code is wrong. %(num)d tries left.", error.remaining
        )
    if isinstance(error, CodeExpired):
        return _("The code has expired. Ask for a new one.")
    if isinstance(error, AttemptsExhausted):
        return _("Too many wrong codes: this code no longer works. Get a new code.")
    if isinstance(error, ResendTooSoon):
        return ngettext(
            "A new code can be sent in %(num)d second.",
            "A new code can be sent in %(num)d seconds.",
            error.seconds,
        )
    if isinstance(error, BudgetExceeded):
        return _("Too many SMS were sent to this number or from your network. Try again later.")
    if isinstance(error, ProofRequired):
        return _(
            "Many codes were asked for from your network or for this number lately. Your "
            "browser makes a short check first; the code is sent when it is done."
        )
    if isinstance(error, BudgetUnavailable):
        return _("We cannot send SMS right now. Try again in a few minutes.")
    if isinstance(error, FlowUnknown):
        return _("This step has ended. Start again.")
    return _("The code could not be checked. Try again.")


def refuse_on_field(field, error: OtpError) -> None:
    """Put the sentence for ``error`` under the form field that started the SMS; a proof of work
    asked for is no fault of the field: the form's check box explains it (``proof_of_work``)."""
    if not isinstance(error, ProofRequired):
        field.errors.append(otp_error_text(error))


def letter_refusal(key: str) -> str | None:
    """Count a letter to a typed address against ``key``'s budget; the sentence to show if refused."""
    from idp.otp.budgets import spend_letter_budget

    try:
        if spend_letter_budget(key):
            return None
    except BudgetUnavailable:
        return _("We cannot send letters right now. Try again in a few minutes.")
    return _("Too many letters were sent for this profile or account lately. Try again later.")


def resend_and_tell(flow: Flow, purpose: str, locale: str) -> None:
    """The code page's "Send the code again" for ``flow`` (whose ``challenge`` is its SMS code):
    a new code after the wait; when the code is spent (too many wrong tries), a new challenge the
    flow goes on with, while the spent one stays spent. Both draw on the SMS budgets; the person is
    told how it went by a flash message."""
    from idp.otp import pow
    from idp.otp import services as otp

    state = flow.get() or {}
    challenge_id = state.get("challenge")
    try:
        if otp.is_spent(challenge_id):
            flow.update(challenge=otp.renew(challenge_id, purpose, locale, proof=pow.submitted()).id)
        else:
            otp.resend(challenge_id, purpose, locale, proof=pow.submitted())
        flash(_("We sent a new code."), "info")
    except ProofRequired:
        pass  # the resend form now carries the check, which says why and sends it again
    except OtpError as error:
        flash(otp_error_text(error), "error")


def code_step(challenge_id: str | None) -> dict[str, Any]:
    """What a code page shows besides its form: how long until a new code may be sent
    (``resend_wait``) and whether the code is spent (``code_spent``: the page then says so and
    offers a new code instead of the field)."""
    from idp.otp import services as otp

    return {"resend_wait": otp.seconds_until_resend(challenge_id), "code_spent": otp.is_spent(challenge_id)}
