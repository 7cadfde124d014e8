"""``/sms/status``: what became of the SMS of a code flow, for the code pages to show (and update live)."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify

from idp.delivery.services import message_state
from idp.otp.services import current
from idp.sessions.flows import flow_named

bp = Blueprint("sms", __name__, url_prefix="/sms")


def flow_sms_state(flow: str) -> str | None:
    """Return the delivery state of the newest SMS of this browser's ``flow`` (a flow registered
    with ``sms_status``).

    Every flow a stranger can start sends exactly one SMS, a code or a notice (the number is
    already registered, or has no profile), so this state never tells whether a number has one.
    """
    found = flow_named(flow)
    state = (found.get() if found else None) or {}
    challenge = current(state.get("challenge"))  # a spent code's new challenge, once it has one
    return message_state(challenge.message_id) if challenge else None


@bp.get("/status/<flow>")
def status(flow: str):
    """Return ``{"state": ...}`` of the flow's SMS; only this browser's own flows are readable."""
    if flow_named(flow) is None:
        abort(404)
    response = jsonify(state=flow_sms_state(flow))
    response.headers["Cache-Control"] = "no-store"
    return response
