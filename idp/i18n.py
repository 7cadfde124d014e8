"""Languages: Ukrainian, Russian and English; chosen, switched on every page and remembered."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, has_request_context, redirect, request, session
from flask_babel import get_locale

from idp.config import LANGUAGES
from idp.extensions import db

LANG_COOKIE = "idp_lang"
LANGUAGE_NAMES = {"uk": "Українська", "ru": "Русский", "en": "English"}

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """Pick the language: the user's choice, the profile's, the browser's, then the default."""
    from idp.sessions.services import current_profile

    if not has_request_context():
        return current_app.config["IDP_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    asked = session.get("ui_locale")  # ui_locales of a relying service's request
    if asked in LANGUAGES:
        return asked
    profile = current_profile()
    if profile is not None and profile.locale in LANGUAGES:
        return profile.locale
    return request.accept_languages.best_match(LANGUAGES) or current_app.config["IDP_DEFAULT_LOCALE"]


def current_locale() -> str:
    """Return the language of this request as a code (uk, ru or en)."""
    return str(get_locale())


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Return ``target`` when it is a path on this site, else ``fallback`` (no open redirects)."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return fallback
    return target


@bp.route("/lang/<code>", methods=["GET", "POST"])
def switch_language(code: str):
    """Remember the chosen language in a cookie; the switch in the header (a POST, with its CSRF
    token) also makes it the signed-in profile's language, for its SMS and e-mails. A GET, which
    any site can link to, changes nothing but the cookie."""
    from idp.sessions.services import current_profile

    response = redirect(safe_next(request.args.get("next")))
    if code not in LANGUAGES:
        return response
    response.set_cookie(
        LANG_COOKIE,
        code,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
    profile = current_profile() if request.method == "POST" else None
    if profile is not None and profile.locale != code:
        profile.locale = code
        db.session.commit()
    return response
