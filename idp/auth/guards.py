"""Decorators for views that need a signed-in profile, and where a sign-in returns to."""

from __future__ import annotations

from functools import wraps

from flask import current_app, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from idp.sessions.services import current_profile


def return_path() -> str | None:
    """Where a sign-in asked for by this request should return: the page itself for a GET (with its
    query), the page of a form sent after the session ended (its path, when it can be opened), or
    None when there is no page to return to."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    try:
        current_app.url_map.bind("localhost").match(request.path, method="GET")
    except HTTPException:
        return None
    return request.path


def login_required(view):
    """Send anonymous visitors to the sign-in page, coming back here afterwards."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_profile() is None:
            return redirect(url_for("auth.signin", next=return_path()))
        return view(*args, **kwargs)

    return wrapped
