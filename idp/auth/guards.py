"""Decorators for views that need a signed-in profile."""

from __future__ import annotations

from functools import wraps

from flask import redirect, request, url_for

from idp.sessions.services import current_profile


def login_required(view):
    """Send anonymous visitors to the sign-in page, coming back here afterwards."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_profile() is None:
            return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped
