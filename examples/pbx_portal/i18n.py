"""The portal's languages: Ukrainian, Russian and English, like Business ID's.

The language is the one chosen with the switch in the header (kept in the portal's session),
else the browser's (Accept-Language), else Ukrainian. The sign-in request asks Business ID for
the same language (``ui_locales``), so the person stays in one language all the way.
"""

from __future__ import annotations

from pathlib import Path

from babel.support import Translations
from flask import Flask, has_request_context, request, session
from flask_babel import Babel, get_locale

LANGUAGES = ("uk", "ru", "en")
DEFAULT_LANGUAGE = "uk"
SESSION_KEY = "lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# Each language's short label in the switch and its name (in that language), for the switch's title.
SWITCH = (("uk", "УКР", "Українська"), ("ru", "РУС", "Русский"), ("en", "ENG", "English"))


def select_locale() -> str:
    """The chosen language, else the browser's, else Ukrainian."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def current_language() -> str:
    """This request's language as a code (uk, ru or en)."""
    return str(get_locale())


def choose(code: str | None) -> bool:
    """Remember ``code`` as the session's language; False (nothing changed) if it is not one."""
    if code not in LANGUAGES:
        return False
    session[SESSION_KEY] = code
    return True


def translate(lang: str, msgid: str, **values) -> str:
    """``msgid`` in ``lang`` from the portal's compiled catalogue, outside any request (for tests)."""
    text = Translations.load(str(TRANSLATIONS), [lang]).gettext(msgid)
    return text % values if values else text


def init_app(app: Flask) -> None:
    """Give ``app`` Flask-Babel with the portal's own catalogue and the switch's data."""
    Babel(
        app,
        locale_selector=select_locale,
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(TRANSLATIONS),
    )
    app.jinja_env.globals.update(languages=SWITCH, current_language=current_language)
