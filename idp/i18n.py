"""Languages: Ukrainian, Russian and English; chosen, switched on every page and remembered."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Blueprint, current_app, has_request_context, redirect, request, session
from flask_babel import get_locale

from idp.config import LANGUAGES
from idp.extensions import db

if TYPE_CHECKING:
    from idp.profiles.models import Profile

LANG_COOKIE = "idp_lang"
UI_LOCALE = "ui_locale"  # the session key of a relying service's ui_locales (idp.oauth.authorize)
LANGUAGE_NAMES = {"uk": "Українська", "ru": "Русский", "en": "English"}

bp = Blueprint("i18n", __name__)


def request_language() -> str | None:
    """The language this request asks for itself, or None when it names none of uk, ru, en.

    In this order: the language switch's choice (its cookie), the ``ui_locales`` of a relying
    service's request (kept in the session, through the sign-in), the browser's Accept-Language.
    """
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    asked = session.get(UI_LOCALE)
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES)


def select_locale() -> str:
    """Pick the page's language: what the request asks for (``request_language``: the switch, a
    relying service's ui_locales, the browser), else the signed-in profile's stored language, else
    IDP_DEFAULT_LOCALE. A browser's language is never overridden by the profile's midway through a
    flow: the profile's only speaks to a browser that names none of ours."""
    from idp.sessions.services import current_profile

    if not has_request_context():
        return current_app.config["IDP_DEFAULT_LOCALE"]
    asked = request_language()
    if asked is not None:
        return asked
    profile = current_profile()
    if profile is not None and profile.locale in LANGUAGES:
        return profile.locale
    return current_app.config["IDP_DEFAULT_LOCALE"]


def adopt_language(profile: Profile) -> None:
    """This browser's person proved to be ``profile`` (a sign-in, a restored password): the
    language its request asks for becomes the profile's stored language, the one of SMS and
    letters sent when no page of theirs is open. A request that names none of ours changes
    nothing."""
    asked = request_language() if has_request_context() else None
    if asked is not None and profile.locale != asked:
        profile.locale = asked
        db.session.commit()


def language_for(profile: Profile) -> str:
    """The language of an SMS or a letter to ``profile``: the page's, when this request is that
    person's own (signed in as it), so what a flow sends speaks the language of its pages; else the
    profile's stored language."""
    from idp.sessions.services import current_profile

    if has_request_context() and getattr(current_profile(), "id", None) == profile.id:
        return current_locale()
    return profile.locale


def _keep_ui_locale(next_url: str | None, profile_id: int) -> dict[str, str]:
    """A sign-in keeps the language a relying service asked for: its consent page and the rest of
    its flow speak it too."""
    asked = session.get(UI_LOCALE)
    return {UI_LOCALE: asked} if asked in LANGUAGES else {}


@bp.record_once
def _carry_ui_locale(state) -> None:
    from idp.sessions.services import carry_through_sign_in

    carry_through_sign_in(state.app, _keep_ui_locale)


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
