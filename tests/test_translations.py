"""The Ukrainian and Russian catalogues: complete, in sync with the code, and really used by the pages.

A string added to the code fails this module until ``make translations`` has put it into the
catalogues, it has been translated in both, and ``make compile-translations`` has compiled them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext, ngettext
from markupsafe import escape

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "idp" / "translations"
POT = TRANSLATIONS / "messages.pot"
MULTIFON = ROOT / "connectors" / "multifon"
IPTEL = ROOT / "connectors" / "iptel"
# Each catalogue: its translations folder, its babel.cfg and the folder it extracts from. The
# built-in connectors (MultiFon, IP telephony) keep their own, as a connector package would
# (``make translations``).
CATALOGUES = {
    "idp": (TRANSLATIONS, ROOT / "babel.cfg", ROOT),
    "multifon": (MULTIFON / "translations", MULTIFON / "babel.cfg", MULTIFON),
    "iptel": (IPTEL / "translations", IPTEL / "babel.cfg", IPTEL),
}
LANGUAGES = ("uk", "ru")
# The standard three-form rule of both languages (one; few: 2-4, 22-24...; many: 0, 5-20, 25...).
PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)
# The same extraction keywords as ``make translations``.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
SMS_PREFIXES = tuple(
    f"%(product)s {kind}"
    for kind in ("registration code", "sign-in code", "password recovery code", "confirmation code")
) + ("%(product)s: this number already has", "%(product)s: your profile now uses the number")
SMS_CODE_PREFIXES = SMS_PREFIXES[:4]
UCS2_SINGLE_SMS = 70
UCS2_TWO_SMS = 2 * 67


def _key(message_id) -> str:
    return message_id[0] if isinstance(message_id, tuple | list) else message_id


def _load_po(lang: str, catalogue: str = "idp"):
    with open(CATALOGUES[catalogue][0] / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def _load_pot(catalogue: str = "idp"):
    with open(CATALOGUES[catalogue][0] / "messages.pot", "rb") as f:
        return read_po(f)


def _messages(catalog) -> list:
    return [m for m in catalog if m.id]


def _forms(message) -> list[str]:
    return list(message.string) if message.pluralizable else [message.string]


def _placeholders(text: str) -> list[str]:
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text))


def _in_code(catalogue: str = "idp") -> dict[str, tuple[str, ...]]:
    """Extract the messages from the code as ``make translations`` does (the catalogue's babel.cfg)."""
    _translations, config, source = CATALOGUES[catalogue]
    with open(config) as f:
        method_map, options_map = parse_mapping_cfg(f)

    def only_sources(path: str) -> bool:
        rel = os.path.relpath(path, source)
        top_level_ok = catalogue != "idp" or rel.split(os.sep)[0] in ("idp", "connectors", "ui")
        return top_level_ok and not os.path.basename(path).startswith((".", "_"))

    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(source), method_map, options_map, keywords=KEYWORDS, directory_filter=only_sources
    ):
        texts = (message,) if isinstance(message, str) else tuple(m for m in message if m)
        if texts and texts[0]:
            found[texts[0]] = texts
    return found


@pytest.fixture(scope="module", params=list(CATALOGUES))
def catalogue(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def pot(catalogue):
    return _load_pot(catalogue)


@pytest.fixture(scope="module", params=LANGUAGES)
def po(request, catalogue):
    return _load_po(request.param, catalogue)


# --- The catalogues themselves -------------------------------------------------------------------


def test_header_has_the_language_and_its_three_plural_forms(po):
    assert str(po.locale) in LANGUAGES
    assert po.num_plurals == 3
    assert po.plural_forms == PLURAL_FORMS


def test_every_message_is_translated_and_not_fuzzy(po):
    untranslated = [m.id for m in _messages(po) if not all(f.strip() for f in _forms(m))]
    fuzzy = [m.id for m in _messages(po) if m.fuzzy]
    assert not untranslated, f"{po.locale}: untranslated: {untranslated}"
    assert not fuzzy, f"{po.locale}: fuzzy: {fuzzy}"
    assert not po.fuzzy, f"{po.locale}: the catalogue header is marked fuzzy"


def test_no_obsolete_entries_are_kept(po):
    assert not po.obsolete, f"{po.locale}: remove the #~ entries: {list(po.obsolete)}"


def test_plural_entries_have_all_three_forms(po):
    for message in _messages(po):
        if message.pluralizable:
            assert len(message.string) == 3 and all(message.string), (po.locale, message.id)


def test_placeholders_of_each_translation_equal_those_of_its_source(po):
    wrong = []
    for message in _messages(po):
        sources = message.id if message.pluralizable else (message.id,)
        expected = set().union(*(_placeholders(s) for s in sources))
        for form in _forms(message):
            if set(_placeholders(form)) != expected:
                wrong.append((_key(message.id), form))
    assert not wrong, f"{po.locale}: placeholders differ: {wrong}"


def test_babel_finds_no_format_errors(po):
    errors = [(m.id, [str(e) for e in errs]) for m, errs in po.check()]
    assert not errors, f"{po.locale}: {errors}"


def test_translations_keep_the_product_name():
    for lang in LANGUAGES:
        for message in _messages(_load_po(lang)):
            if "Business ID" in _key(message.id):
                assert all("Business ID" in f for f in _forms(message)), (lang, message.id)


# --- In sync with the code ----------------------------------------------------------------------


def test_the_template_has_every_message_of_the_code(pot, catalogue):
    in_code = _in_code(catalogue)
    in_pot = {_key(m.id) for m in _messages(pot)}
    missing = sorted(set(in_code) - in_pot)
    stale = sorted(in_pot - set(in_code))
    assert not missing, f"run `make translations`; not in messages.pot: {missing}"
    assert not stale, f"run `make translations`; no longer in the code: {stale}"


def test_the_catalogue_has_exactly_the_messages_of_the_template(pot, po):
    in_pot = {_key(m.id): m for m in _messages(pot)}
    in_po = {_key(m.id): m for m in _messages(po)}
    missing = sorted(set(in_pot) - set(in_po))
    extra = sorted(set(in_po) - set(in_pot))
    assert not missing, f"run `make translations` and translate; not in {po.locale}: {missing}"
    assert not extra, f"run `make translations`; {po.locale} has messages gone from the code: {extra}"
    for key, message in in_pot.items():
        assert in_po[key].id == message.id, (po.locale, key)


def test_the_compiled_catalogue_matches_the_po(po, catalogue):
    with open(CATALOGUES[catalogue][0] / str(po.locale) / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {_key(m.id): tuple(_forms(m)) for m in read_mo(f) if m.id}
    stale = [_key(m.id) for m in _messages(po) if compiled.get(_key(m.id)) != tuple(_forms(m))]
    assert not stale, f"run `make compile-translations`; {po.locale}.mo is out of date: {stale}"


# --- SMS ----------------------------------------------------------------------------------------


def test_sms_texts_are_short():
    values = {"product": "Business ID", "code": "123456", "minutes": 10, "phone": "+380 •• ••• 45 67"}
    for lang in LANGUAGES:
        for message in _messages(_load_po(lang)):
            if not _key(message.id).startswith(SMS_PREFIXES):
                continue
            text = message.string % values
            limit = UCS2_SINGLE_SMS if _key(message.id).startswith(SMS_CODE_PREFIXES) else UCS2_TWO_SMS
            assert len(text) <= limit, (lang, len(text), text)
            assert "123456" in text or "%(code)s" not in message.id


def test_the_already_registered_sms_names_the_restore_link_of_the_sign_in_page():
    for lang in LANGUAGES:
        catalog = _load_po(lang)
        link = catalog.get("Restore password").string
        sms = next(
            m.string
            for m in _messages(catalog)
            if _key(m.id).startswith("%(product)s: this number already has")
        )
        assert f"«{link}»" in sms, (lang, link, sms)


def test_the_multifon_sip_password_sms_fits_two_sms():
    values = {"service": "МультиФон Бизнес", "number": "+7 (926) 025-07-30", "password": "Sixteen-chars-pw"}
    for lang in LANGUAGES:
        catalog = _load_po(lang, "multifon")
        text = catalog.get("%(service)s, %(number)s. SIP password: %(password)s").string % values
        text += "\n" + catalog.get("Never tell it to anyone.").string
        assert len(text) <= UCS2_TWO_SMS and values["password"] in text, (lang, len(text), text)


# --- Pages, messages and plurals at run time ----------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "heading", "texts"),
    [
        ("uk", "Вхід до бізнес-профілю", ["Увійти", "Забули пароль?", "Зареєструвати профіль", "Пароль"]),
        (
            "ru",
            "Вход в бизнес-профиль",
            ["Войти", "Восстановить пароль", "Зарегистрировать профиль", "Пароль"],
        ),
    ],
)
def test_the_sign_in_page_is_shown_translated(client, lang, heading, texts):
    page = client.get("/signin", headers={"Accept-Language": lang})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in html
    assert heading in html
    for text in texts:
        assert text in html, (lang, text)
    for english in (
        "Sign in to your business profile",
        "Restore password",
        "Register a profile",
        "Phone number or e-mail",
    ):
        assert english not in html, (lang, english)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_sign_in_page_uses_the_catalogue(client, lang):
    catalog = _load_po(lang)
    html = client.get("/signin", headers={"Accept-Language": lang}).get_data(as_text=True)
    for source in (
        "Sign in to your business profile",
        "Sign in",
        "Restore password",
        "Register a profile",
        "Phone number or e-mail",
        "Password",
        "Terms of the offer",
        "Business profile",
    ):
        assert str(escape(catalog.get(source).string)) in html, (lang, source)


def test_the_sign_in_page_is_english_for_english(client):
    html = client.get("/signin", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Sign in to your business profile" in html
    assert "Restore password" in html
    assert "Вхід до бізнес-профілю" not in html and "Вход в бизнес-профиль" not in html


def test_the_registration_and_offer_pages_are_translated(client):
    html = client.get("/register", headers={"Accept-Language": "uk"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Реєстрація бізнес-профілю" in html and "Register a business profile" not in html
    html = client.get("/offer", headers={"Accept-Language": "ru"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Условия использования Business ID" in html and "Terms of use of" not in html


def test_the_chosen_language_is_remembered(client):
    client.get("/lang/ru?next=/signin", headers={"Accept-Language": "uk"})
    html = client.get("/signin", headers={"Accept-Language": "uk"}).get_data(as_text=True)
    assert "Вход в бизнес-профиль" in html


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "uk",
            {
                1: "Залишилася 1 спроба",
                2: "Залишилося 2 спроби",
                5: "Залишилося 5 спроб",
                11: "Залишилося 11 спроб",
                21: "Залишилася 21 спроба",
                24: "Залишилося 24 спроби",
            },
        ),
        (
            "ru",
            {
                1: "Осталась 1 попытка",
                2: "Осталось 2 попытки",
                5: "Осталось 5 попыток",
                11: "Осталось 11 попыток",
                21: "Осталась 21 попытка",
                24: "Осталось 24 попытки",
            },
        ),
    ],
)
def test_plurals_follow_the_rules_of_the_language(app, lang, expected):
    with app.test_request_context("/"), force_locale(lang):
        for num, text in expected.items():
            assert text in ngettext(
                "The code is wrong. %(num)d try left.", "The code is wrong. %(num)d tries left.", num
            )
        waits = {
            n: ngettext(
                "A new code can be sent in %(num)d second.", "A new code can be sent in %(num)d seconds.", n
            )
            for n in (1, 3, 30, 41)
        }
    assert all(str(n) in text and "second" not in text for n, text in waits.items())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_sms_code_is_translated_and_formatted(app, lang):
    with app.test_request_context("/"), force_locale(lang):
        text = gettext(
            "%(product)s sign-in code: %(code)s. Valid %(minutes)s min. Do not tell it to anyone.",
            product="Business ID",
            code="123456",
            minutes=5,
        )
    assert text.startswith("Код ") and "Business ID" in text and "123456" in text
    assert len(text) <= UCS2_SINGLE_SMS


# --- Grammar: a service's name in its case, one spelling, typography ---------------------------

EVERY_CATALOGUE = [folder for folder, _config, _source in CATALOGUES.values()] + [
    ROOT / "examples" / "pbx_portal" / "translations"
]
# The messages whose code puts the service name in an oblique case (``Connector.name(locale,
# case)``): their uk and ru translations inflect it. Every other message gets the nominative and
# puts it where no case is needed: first, or in apposition after a noun ("послуги «%(service)s»")
# or in brackets.
SERVICE_CASES = {
    "This is not an account of %(service)s.": "genitive",
    "Link your %(service)s account": "genitive",
    "Enter the login and password of your %(service)s account. Then sign in with your business "
    "profile, or register one, and the account is linked to it.": "genitive",
    "Your business profile has several %(service)s accounts. Choose the one to work in; one account "
    "at a time is open in this browser.": "genitive",
    "%(service)s is now signed in with your business profile: one login and password for every "
    "business service of %(operator)s.": "genitive",
    "The data of %(service)s is unavailable right now.": "genitive",
    "%(service)s knowledge base": "genitive",
    "The number the people you call see when you call through %(service)s.": "accusative",
    "The limit of simultaneous outgoing calls through %(service)s, from %(min)d to %(max)d.": "accusative",
    "calls through %(service)s stop, incoming and outgoing;": "accusative",
}
NOMINATIVE_SLOT = re.compile(r"(?:^|«|\()%\(service\)s")
UNIT_AFTER_NUMBER = re.compile(r"%\(\w+\)[sd] (?:хв|мин|с|год|ч|дн)(?=[\s.,;:)]|$)")


def _translated(lang: str):
    for folder in EVERY_CATALOGUE:
        with open(folder / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
            for message in _messages(read_po(f, locale=lang)):
                for form in _forms(message):
                    yield folder.parent.name, _key(message.id), form


def test_russian_writes_uchetnaya_with_e_as_the_seed_does():
    found = [(where, key) for where, key, text in _translated("ru") if "учётн" in text.lower()]
    assert not found, found
    for path in (ROOT / "connectors").glob("*/connector.py"):
        assert "учётн" not in path.read_text(encoding="utf-8").lower(), path


def test_ukrainian_uses_the_typographic_apostrophe_and_no_straight_quotes():
    wrong = [
        (key, text) for _where, key, text in _translated("uk") if re.search(r"\w'\w", text) or '"' in text
    ]
    assert not wrong, wrong
    assert not [(key, text) for _where, key, text in _translated("ru") if '"' in text]


def test_a_number_and_its_unit_are_joined_by_a_non_breaking_space():
    for lang in LANGUAGES:
        broken = [(key, text) for _where, key, text in _translated(lang) if UNIT_AFTER_NUMBER.search(text)]
        assert not broken, (lang, broken)


def test_no_english_article_stands_before_a_name_that_decides_it():
    # "a %(service)s account" reads "a IP telephony account": the article depends on the name.
    for folder in EVERY_CATALOGUE:
        with open(folder / "messages.pot", "rb") as f:
            ids = [_key(m.id) for m in _messages(read_po(f))]
        wrong = [i for i in ids if re.search(r"\b[Aa]n? %\((?:service|client|organisation|product)\)s", i)]
        assert not wrong, (folder, wrong)


def test_a_service_name_in_the_nominative_is_never_inflected_by_the_translation():
    wrong = []
    for lang in LANGUAGES:
        for where, key, text in _translated(lang):
            if "%(service)s" not in key or key in SERVICE_CASES:
                continue
            spots = text.count("%(service)s")
            if len(NOMINATIVE_SLOT.findall(text)) != spots:
                wrong.append((lang, where, text))
    assert not wrong, f"put the name first, in «…» after a noun, or add the message to SERVICE_CASES: {wrong}"


def test_the_messages_that_inflect_a_service_name_ask_for_its_case_in_the_code():
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for top in ("idp", "ui", "connectors")
        for path in (ROOT / top).rglob("*")
        if path.suffix in (".py", ".html", ".txt") and path.is_file()
    )
    for msgid, case in SERVICE_CASES.items():
        at = sources.find(msgid)
        assert at >= 0, f"not in the code any more: {msgid!r}"
        assert re.search(rf"['\"]{case}['\"]", sources[at : at + len(msgid) + 200]), (msgid, case)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_inflected_messages_read_right_with_declared_and_missing_forms(app, lang):
    from idp.connectors.registry import get

    with app.app_context():
        iptel = get("iptel")
    for _where, key, text in _translated(lang):
        case = SERVICE_CASES.get(key)
        if case is None:
            continue
        values = {"service": iptel.name(lang, case), "operator": "Kyivstar", "min": 1, "max": 20}
        rendered = text % values
        assert iptel.name(lang) not in rendered and iptel.name(lang, case) in rendered, (lang, rendered)
        # A connector that declares no forms: the noun "service" in that case, the name quoted.
        fallback = text % {**values, "service": {"uk": "послуги", "ru": "услуги"}[lang] + " «Факс»"}
        assert " «Факс»" in fallback, fallback
