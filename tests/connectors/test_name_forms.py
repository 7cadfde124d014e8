"""A service's name in the grammatical case a message puts it in (``Connector.name_forms``).

Ukrainian and Russian inflect a name ("облікового запису IP-телефонії", "через IP-телефонию"); a
message that inflects it asks ``name(locale, case)``, and a connector that declares no forms gets
the noun "service" in that case with its name in quotes, which is always grammatical. English has
no cases, and no article before a name either ("a IP telephony").
"""

from __future__ import annotations

import re

import pytest

from idp.connectors import registry
from idp.connectors.contract import NAME_CASES
from idp.connectors.registry import ConnectorError, discover
from idp.extensions import db
from idp.profiles.models import Profile
from tests.connectors.test_registry import FakeEntryPoint, installed, make_connector  # noqa: F401
from tests.helpers.pages import sign_in, submit

MULTIFON_A = "+79260250730"
MULTIFON_B = "+79260250731"
IPTEL = "+380442270001"
SIP_PASSWORD = "SipPassw0rd"
IPTEL_PASSWORD = "SipPortal7Pass"
LANGS = ("uk", "ru", "en")


def test_the_built_in_connectors_declare_every_case_in_both_languages(app):
    with app.app_context():
        for connector in registry.installed().values():
            for lang in ("uk", "ru"):
                declared = connector.name_forms.get(lang, {})
                assert set(declared) == set(NAME_CASES) - {"nominative"}, (connector.id, lang)


@pytest.mark.parametrize(
    ("lang", "case", "expected"),
    [
        ("uk", "nominative", "IP-телефонія"),
        ("uk", "genitive", "IP-телефонії"),
        ("uk", "accusative", "IP-телефонію"),
        ("uk", "instrumental", "IP-телефонією"),
        ("uk", "locative", "IP-телефонії"),
        ("ru", "genitive", "IP-телефонии"),
        ("ru", "accusative", "IP-телефонию"),
        ("ru", "prepositional", "IP-телефонии"),
        ("ru", "instrumental", "IP-телефонией"),
        ("en", "genitive", "IP telephony"),
    ],
)
def test_ip_telephony_is_named_in_each_case(app, lang, case, expected):
    with app.app_context():
        assert registry.get("iptel").name(lang, case) == expected


def test_multifon_business_does_not_decline(app):
    with app.app_context():
        multifon = registry.get("multifon")
        assert {multifon.name("ru", case) for case in NAME_CASES} == {"МультиФон Бизнес"}
        assert {multifon.name("uk", case) for case in NAME_CASES} == {"МультиФон Бізнес"}


def test_a_connector_without_forms_reads_as_the_service_in_quotes():
    fax = make_connector("fax", names={"uk": "Факс на e-mail", "ru": "Факс на e-mail", "en": "Fax to e-mail"})
    assert fax.name("uk") == fax.name("uk", "nominative") == "Факс на e-mail"
    assert fax.name("uk", "genitive") == "послуги «Факс на e-mail»"
    assert fax.name("uk", "accusative") == "послугу «Факс на e-mail»"
    assert fax.name("ru", "prepositional") == "услуге «Факс на e-mail»"
    assert fax.name("ru", "instrumental") == "услугой «Факс на e-mail»"
    assert fax.name("en", "genitive") == "Fax to e-mail"
    fax.name_forms = {"uk": {"genitive": "факсу на e-mail"}, "ru": {"prepositional": "факсе на e-mail"}}
    assert fax.name("uk", "genitive") == "факсу на e-mail"
    assert fax.name("uk", "dative") == "послузі «Факс на e-mail»"  # only the declared ones
    assert fax.name("ru", "locative") == "факсе на e-mail"  # "prepositional" is the locative


def test_an_unknown_case_is_an_error_not_a_silent_nominative():
    with pytest.raises(ValueError, match="unknown grammatical case 'genetive'"):
        make_connector("fax").name("uk", "genetive")


@pytest.mark.parametrize(
    ("forms", "wrong"),
    [
        ({"uk": {"genetive": "факсу"}}, "genetive"),
        ({"uk": {"genitive": ""}}, "an empty name"),
        ({"de": {"genitive": "des Faxes"}}, "unknown language 'de'"),
    ],
)
def test_the_registry_refuses_misspelt_name_forms(installed, forms, wrong):  # noqa: F811
    fax = make_connector("fax")
    fax.name_forms = forms
    installed(FakeEntryPoint("fax", fax))
    with pytest.raises(ConnectorError, match=re.escape(wrong)):
        discover()


# --- The pages that put the name in a case --------------------------------------------------------

EXPECTED = {
    "uk": {
        "login": {
            "multifon": "Введіть логін і пароль облікового запису МультиФон Бізнес.",
            "iptel": "Введіть логін і пароль облікового запису IP-телефонії.",
        },
        "link": {
            "multifon": "Тепер для МультиФон Бізнес використовується вхід через бізнес-профіль",
            "iptel": "Тепер для IP-телефонії використовується вхід через бізнес-профіль",
        },
        "home": {
            "multifon": "Прив’язати обліковий запис МультиФон Бізнес",
            "iptel": "Прив’язати обліковий запис IP-телефонії",
        },
        "choose": "У вашого бізнес-профілю кілька облікових записів МультиФон Бізнес.",
        "two_step": ("Двофакторна автентифікація", "увімкнена"),
    },
    "ru": {
        "login": {
            "multifon": "Введите логин и пароль учетной записи МультиФон Бизнес.",
            "iptel": "Введите логин и пароль учетной записи IP-телефонии.",
        },
        "link": {
            "multifon": "Теперь для МультиФон Бизнес используется вход через бизнес-профиль",
            "iptel": "Теперь для IP-телефонии используется вход через бизнес-профиль",
        },
        "home": {
            "multifon": "Привязать учетную запись МультиФон Бизнес",
            "iptel": "Привязать учетную запись IP-телефонии",
        },
        "choose": "У вашего бизнес-профиля несколько учетных записей МультиФон Бизнес.",
        "two_step": ("Двухфакторная авторизация", "включена"),
    },
    "en": {
        "login": {
            "multifon": "Enter the login and password of your MultiFon Business account.",
            "iptel": "Enter the login and password of your IP telephony account.",
        },
        "link": {
            "multifon": "MultiFon Business is now signed in with your business profile",
            "iptel": "IP telephony is now signed in with your business profile",
        },
        "home": {
            "multifon": "Link your MultiFon Business account",
            "iptel": "Link your IP telephony account",
        },
        "choose": "Your business profile has several MultiFon Business accounts.",
        "two_step": ("Two-step sign-in", "turned on"),
    },
}
# What the newcomer found, and its kin: a name left in the nominative where the phrase needs another
# case, agreement with a neuter form, the Russian "ё" the seed does not write, an English "a IP".
WRONG = (
    "До IP-телефонія",
    "До МультиФон",
    "запису IP-телефонія",
    "записів IP-телефонія",
    "В IP-телефония",
    "В МультиФон",
    "записи IP-телефония",
    "записей IP-телефония",
    "автентифікація увімкнено",
    "авторизация включено",
    "учётн",
    "Учётн",
    "a IP telephony",
    "a IP",
    "Link a ",
)


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _no_wrong_phrase(text: str, where: str) -> None:
    found = [wrong for wrong in WRONG if wrong in text]
    assert not found, (where, found)


@pytest.fixture
def accounts(app):
    from connectors.iptel.accounts import create_active
    from connectors.multifon.store import provision

    with app.app_context():
        provision(MULTIFON_A, SIP_PASSWORD, balance="10.00")
        provision(MULTIFON_B, SIP_PASSWORD, balance="20.00")
        create_active(IPTEL, "office@example.com", IPTEL_PASSWORD, "en")
        db.session.commit()


@pytest.mark.parametrize("lang", LANGS)
def test_the_service_login_and_link_pages_inflect_the_name(app, accounts, lang):
    expected = EXPECTED[lang]
    for service, (login, password) in {
        "multifon": (MULTIFON_A, SIP_PASSWORD),
        "iptel": (IPTEL, IPTEL_PASSWORD),
    }.items():
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        login_page = _text(client.get(f"/services/{service}/login"))
        assert expected["login"][service] in login_page, (lang, service, login_page)
        _no_wrong_phrase(login_page, f"{service} login, {lang}")
        answer = submit(client, f"/services/{service}/login", {"login": login, "password": password})
        assert answer.location == f"/services/{service}/link", answer.errors
        link_page = _text(client.get(f"/services/{service}/link"))
        assert expected["link"][service] in link_page, (lang, service, link_page)
        _no_wrong_phrase(link_page, f"{service} link, {lang}")


def _link_everything(app, profile) -> None:
    from connectors.iptel.accounts import label as iptel_label
    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link

    with app.app_context():
        held = db.session.get(Profile, profile.id)
        link(held, "multifon", VerifiedAccount(MULTIFON_A, "+7 926 025-07-30"))
        link(held, "multifon", VerifiedAccount(MULTIFON_B, "+7 926 025-07-31"))
        link(held, "iptel", VerifiedAccount(IPTEL, iptel_label(IPTEL)))
        db.session.commit()


def _turn_on_sms_codes(app, profile) -> None:
    with app.app_context():
        db.session.get(Profile, profile.id).sms_2fa_enabled = True
        db.session.commit()


@pytest.mark.parametrize("lang", LANGS)
def test_the_home_with_linked_accounts_and_the_chooser_inflect_the_name(app, client, users, accounts, lang):
    expected = EXPECTED[lang]
    profile = users.create(locale=lang)
    _link_everything(app, profile)
    assert sign_in(client, profile.phone).location == "/"
    _turn_on_sms_codes(app, profile)  # signed in already: the home shows the second step as on
    home = _text(client.get("/"))
    for service in ("multifon", "iptel"):
        assert expected["home"][service] in home, (lang, service, home)
    label, state = expected["two_step"]
    assert f"{label} {state}" in home, (lang, home)
    _no_wrong_phrase(home, f"home, {lang}")
    chooser = _text(client.get("/services/multifon/", follow_redirects=True))
    assert expected["choose"] in chooser, (lang, chooser)
    _no_wrong_phrase(chooser, f"chooser, {lang}")
