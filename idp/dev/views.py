"""Development-only pages: the outbox of SMS and e-mails. Not registered in production."""

from flask import Blueprint, render_template, request

from idp.delivery.services import outbox as stored_messages

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/outbox")
def outbox():
    """Show the newest messages, as a developer's phone and mailbox would."""
    recipient = (request.args.get("to") or "").strip() or None
    return render_template("dev/outbox.html", messages=stored_messages(100, recipient), recipient=recipient)
