"""Who may use the staff console, and for what.

Only profiles with a staff role open ``/staff``; anybody else signed in gets the 404 of a page that
does not exist. A staff member needs a second factor, and confirms it is them (password, then the
second factor) at most ``IDP_STAFF_CONFIRM_MINUTES`` before every page and action: past that, the
next request asks again and changes nothing. What each role may do:

- support: read;
- manager: read, and act on access (revoke, remove from an organisation, hand ownership on,
  invitations), and end sessions;
- security: read, end sessions, disable and enable profiles, reset a second factor.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from idp.orgs.models import MANAGER, SECURITY, SUPPORT
from idp.orgs.services import Actor, staff_role
from idp.profiles.models import Profile
from idp.sessions.flows import STARTED, Flow
from idp.sessions.services import current_profile
from idp.timeutil import utcnow

READ = "read"
ACCESS = "access"  # revoke, remove, transfer, invitations
SESSIONS = "sessions"
PROFILE = "profile"  # disable / enable, reset the second factor
CAPABILITIES = {
    SUPPORT: frozenset({READ}),
    MANAGER: frozenset({READ, ACCESS, SESSIONS}),
    SECURITY: frozenset({READ, SESSIONS, PROFILE}),
}
CONFIRMED_KEY = "staff_confirmed"


def confirmation() -> Flow:
    """The flow that keeps when the staff member last confirmed it was them."""
    return Flow(CONFIRMED_KEY, minutes=current_app.config["IDP_STAFF_CONFIRM_MINUTES"])


def confirmed_until(profile: Profile) -> datetime | None:
    """Until when (naive UTC) the staff member's confirmation holds; None when it does not."""
    flow = confirmation()
    state = flow.get()
    if state is None or state.get("profile") != profile.id:
        return None
    now = utcnow()
    left = flow.lifetime.total_seconds() - (now.timestamp() - state[STARTED])
    return now + timedelta(seconds=left)


def staff_may(capability: str) -> bool:
    """In a staff page: tell whether the staff member's role allows ``capability``."""
    return capability in CAPABILITIES.get(g.get("staff_role") or "", frozenset())


def actor() -> Actor:
    """The signed-in staff member as the actor of a service call (in a ``staff_view``)."""
    profile = current_profile()
    assert profile is not None  # staff_view let only a signed-in staff member in
    return Actor.staff(profile)


def staff_member(view):
    """A signed-in staff member with a second factor (not yet confirmed: the confirmation pages)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        profile = current_profile()
        if profile is None:
            return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
        role = staff_role(profile.id)
        if role not in CAPABILITIES:
            abort(404)
        g.staff_role = role
        if not profile.two_factor_enabled:
            return render_template("staff/second_factor_needed.html"), 403
        return view(*args, **kwargs)

    return wrapped


def staff_view(capability: str = READ):
    """A page or action of the console: the role must allow ``capability`` (else 403), and the
    confirmation must be fresh (else the confirmation is asked for, and nothing is done)."""

    def decorate(view):
        @wraps(view)
        @staff_member
        def wrapped(*args, **kwargs):
            if not staff_may(capability):
                abort(403)
            profile = current_profile()
            g.staff_confirmed_until = confirmed_until(profile)
            if g.staff_confirmed_until is None:
                return _ask_confirmation()
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _ask_confirmation():
    if request.method == "POST":
        flash(
            _(
                "Confirm that it is you again: your last confirmation is more than %(minutes)s minutes "
                "old. Nothing was changed.",
                minutes=current_app.config["IDP_STAFF_CONFIRM_MINUTES"],
            ),
            "error",
        )
        return redirect(url_for("staff.confirm", next=request.path))
    return redirect(url_for("staff.confirm", next=request.full_path.rstrip("?")))
