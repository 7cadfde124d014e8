"""What became of the SMS of a code flow, for the code pages to show (and to update live)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, session

from idp.delivery.models import DELIVERED, SENT
from idp.delivery.services import message_state
from idp.delivery.transports import is_inline
from idp.extensions import db
from idp.otp.models import SmsChallenge

bp = Blueprint("sms", __name__, url_prefix="/sms")

# The session key under which each code flow keeps its challenge id.
FLOWS = {"registration": "registration", "signin": "pending_signin", "recovery": "recovery",
         "phone": "phone_change"}


def flow_sms_state(flow: str) -> str | None:
    """Return the delivery state of the newest SMS of this browser's ``flow``.

    The answer must not tell whether the number has a profile: a flow that sent a notice instead
    of a code shows the notice's state, and one that sent nothing at all (recovery for an unknown
    number) shows the state of an SMS that has left.
    """
    state = session.get(FLOWS[flow]) or {}
    challenge = db.session.get(SmsChallenge, state["challenge"]) if state.get("challenge") else None
    if challenge is None:
        return None
    if challenge.message_id is None and not challenge.sends_code:
        return DELIVERED if is_inline("sms", current_app.config) else SENT
    return message_state(challenge.message_id)


@bp.get("/status/<flow>")
def status(flow: str):
    """Return ``{"state": ...}`` of the flow's SMS; only this browser's own flows are readable."""
    if flow not in FLOWS:
        abort(404)
    response = jsonify(state=flow_sms_state(flow))
    response.headers["Cache-Control"] = "no-store"
    return response
