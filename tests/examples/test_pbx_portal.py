"""The demo relying party: `idp demo` registers the virtual PBX portal; the portal asks for the
``services`` scope and shows the accounts with their organisation and role, speaks Ukrainian,
Russian and English from its own complete catalogue, and refuses every logout token that OpenID
Connect Back-Channel Logout 1.0 says it must refuse."""

from __future__ import annotations

import json
import re
import stat
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from joserfc import jwt
from joserfc.jwk import ECKey

from examples.pbx_portal.app import create_app as create_portal
from examples.pbx_portal.app import settings_from_environment
from examples.pbx_portal.i18n import translate
from idp.demo import (
    DEMO_CLIENT_ID,
    DemoUnavailable,
    demo_client_file,
    ensure_demo_client,
)
from idp.extensions import db
from idp.oauth.clients import find_client, rotate_secret
from idp.oauth.models import Client
from idp.oauth.tokens import BACKCHANNEL_EVENT, LOGOUT_TOKEN_TYPE, sign
from tests.helpers.pages import sign_in
from tests.oauth.helpers import AuthorizationRequest, RegisteredClient, authorize, exchange

PORTAL = "http://127.0.0.1:5001"


def _ensure(app):
    with app.app_context():
        demo = ensure_demo_client()
        return demo.created, demo.written, demo.path


def _file(path: Path) -> dict:
    return json.loads(path.read_text())


def _client_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Client))


# --- registration by `idp demo` ----------------------------------------------------------------


def test_demo_client_is_registered_once_with_its_file_written_0600(app, tmp_path):
    created, written, path = _ensure(app)
    assert created and written
    assert path == tmp_path / "pbx-portal-client.json"  # beside the database (IDP_DATA_DIR)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = _file(path)
    assert set(data) == {"client_id", "client_secret", "issuer"}
    assert data["client_id"] == DEMO_CLIENT_ID and data["issuer"] == "http://127.0.0.1:5000"
    with app.app_context():
        client = find_client(DEMO_CLIENT_ID)
        assert client.name == "Virtual PBX portal"
        assert not client.public and not client.first_party  # so the consent page shows
        assert client.redirect_uris == [PORTAL + "/callback"]
        assert client.post_logout_redirect_uris == [PORTAL + "/"]
        assert client.backchannel_logout_uri == PORTAL + "/backchannel-logout"
        assert client.grant_types == ["authorization_code", "refresh_token"]
        assert client.scope == "openid profile email phone offline_access services"
        assert client.check_client_secret(data["client_secret"])

    before = path.read_text()
    assert _ensure(app)[:2] == (False, False)  # nothing to do the second time
    assert path.read_text() == before and _client_count(app) == 1


def test_a_missing_or_stale_file_gets_a_new_secret(app):
    _, _, path = _ensure(app)
    first = _file(path)["client_secret"]
    path.unlink()
    assert _ensure(app) == (False, True, path)
    second = _file(path)["client_secret"]
    assert second != first and stat.S_IMODE(path.stat().st_mode) == 0o600
    with app.app_context():
        client = find_client(DEMO_CLIENT_ID)
        assert client.check_client_secret(second) and not client.check_client_secret(first)
        rotate_secret(client)  # e.g. `idp clients rotate-secret pbx-portal`: the file is stale
    assert _ensure(app)[:2] == (False, True)
    with app.app_context():
        assert find_client(DEMO_CLIENT_ID).check_client_secret(_file(path)["client_secret"])
    assert _client_count(app) == 1


@pytest.mark.idp_settings(IDP_DEMO_RP_URL="http://127.0.0.1:6101")
def test_the_registration_follows_the_portal_address(app):
    _ensure(app)
    settings_url = "http://127.0.0.1:6202"
    app.config["IDP_DEMO_RP_URL"] = settings_url
    assert _ensure(app)[:2] == (False, False)  # same secret, new addresses
    with app.app_context():
        client = find_client(DEMO_CLIENT_ID)
        assert client.redirect_uris == [settings_url + "/callback"]
        assert client.backchannel_logout_uri == settings_url + "/backchannel-logout"


def test_the_secret_in_the_file_works_at_the_token_endpoint(app, client, users):
    _, _, path = _ensure(app)
    data = _file(path)
    users.create(phone="+380501112233")
    sign_in(client, "+380501112233")
    registered = RegisteredClient(data["client_id"], data["client_secret"], PORTAL + "/callback")
    request = AuthorizationRequest(registered, scope="openid profile email phone")
    query = authorize(client, request)  # not first-party: consents on the way
    response = exchange(client, request, query["code"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["id_token"]

    wrong = AuthorizationRequest(RegisteredClient(data["client_id"], "not-the-secret", PORTAL + "/callback"))
    query = authorize(client, wrong)
    assert exchange(client, wrong, query["code"]).status_code == 401


def test_idp_demo_says_how_to_open_the_portal(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Virtual PBX portal" in result.output and DEMO_CLIENT_ID in result.output
    assert "python -m examples.pbx_portal" in result.output and PORTAL in result.output
    with app.app_context():
        path = demo_client_file()
    assert f"PBX_CLIENT_FILE={path}" in result.output  # not the default instance/ folder
    settings = settings_from_environment({"PBX_CLIENT_FILE": str(path)})
    assert settings["client_id"] == DEMO_CLIENT_ID and settings["base_url"] == PORTAL
    assert settings["issuer"] == "http://127.0.0.1:5000"


def test_outside_development_the_portal_is_not_registered(app):
    app.config["IDP_ENV"] = "production"
    with app.app_context(), pytest.raises(DemoUnavailable):
        ensure_demo_client()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo profile ready" in result.output and "development only: skipped" in result.output
    assert _client_count(app) == 0
    with app.app_context():
        assert not demo_client_file().exists()


# --- the portal's back-channel logout endpoint ---------------------------------------------------


@pytest.fixture
def portal(live_server, app):
    """The portal's app (tested through Flask's client), talking to the live provider."""
    return create_portal(live_server, PORTAL, "pbx-portal", "secret-not-used-here")


def _signed_in(
    portal_app, sid: str = "sid-1", sub: str = "subject-1", issuer: str = "", services=None, **data
) -> str:
    """Put a signed-in session into the portal's store (with this ``services`` claim, and ``data``
    such as ``lang``); return its cookie value."""
    state = portal_app.extensions["pbx_portal"]
    user = {
        "iss": issuer or state.issuer,
        "sub": sub,
        "sid": sid,
        "name": "Olena Koval",
        "id_token_claims": {"sub": sub, "sid": sid},
        "userinfo": {"sub": sub} if services is None else {"sub": sub, "services": services},
        "id_token": "x.y.z",
    }
    return state.store.save(None, {"user": user, **data}, 0, False)


class Ago(int):
    """A time this many seconds before the token is made (negative: after)."""


def _logout_token(app, live_server, header: dict | None = None, **changes) -> str:
    now = int(time.time())
    claims = {
        "iss": live_server,
        "aud": "pbx-portal",
        "iat": now,
        "exp": now + 120,
        "jti": f"jti-{time.monotonic_ns()}",
        "sub": "subject-1",
        "sid": "sid-1",
        "events": {BACKCHANNEL_EVENT: {}},
    }
    claims.update({k: now - v if isinstance(v, Ago) else v for k, v in changes.items()})
    claims = {k: v for k, v in claims.items() if v is not None}
    with app.app_context():
        if header is None:
            return sign(claims, LOGOUT_TOKEN_TYPE)
        key = ECKey.generate_key("P-256")  # a key the provider never published
        return jwt.encode(header, claims, key, algorithms=["ES256"])


def _post(portal_app, token: str):
    return portal_app.test_client().post("/backchannel-logout", data={"logout_token": token})


def test_a_valid_logout_token_ends_the_sessions_of_its_sid(live_server, app, portal):
    ended = _signed_in(portal, sid="sid-1")
    other = _signed_in(portal, sid="sid-2")
    store = portal.extensions["pbx_portal"].store
    token = _logout_token(app, live_server)
    response = _post(portal, token)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [u["sid"] for u in store.signed_in()] == ["sid-2"]
    http = portal.test_client()
    http.set_cookie("pbx_portal_session", ended)
    page = http.get("/").get_data(as_text=True)
    assert "data-signed-out" in page and 'data-notice="ended_elsewhere"' in page
    http.set_cookie("pbx_portal_session", other)
    assert "data-signed-in" in http.get("/").get_data(as_text=True)
    assert _post(portal, token).status_code == 400  # the same token again is a replay


def test_a_logout_token_with_sub_only_ends_every_session_of_the_person(live_server, app, portal):
    _signed_in(portal, sid="sid-1", sub="subject-1")
    _signed_in(portal, sid="sid-9", sub="subject-1")
    _signed_in(portal, sid="sid-3", sub="subject-2")
    assert _post(portal, _logout_token(app, live_server, sid=None)).status_code == 200
    assert [u["sub"] for u in portal.extensions["pbx_portal"].store.signed_in()] == ["subject-2"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "another-client"}, "'aud'"),
        ({"iss": "http://127.0.0.1:1"}, "'iss'"),
        ({"events": None}, "events"),
        ({"events": {"http://schemas.openid.net/event/other": {}}}, "events"),
        ({"nonce": "n-0S6_WzA2Mj"}, "nonce"),
        ({"sid": None, "sub": None}, "neither sid nor sub"),
        ({"iat": Ago(3600), "exp": Ago(-60)}, "too old"),
        ({"iat": Ago(-3600)}, "in the future"),
        ({"exp": Ago(300)}, "expired"),
        ({"jti": None}, "'jti'"),
    ],
    ids=[
        "aud",
        "iss",
        "no-events",
        "other-event",
        "nonce",
        "no-sid-nor-sub",
        "old-iat",
        "future-iat",
        "expired",
        "no-jti",
    ],
)
def test_invalid_logout_tokens_are_refused_with_400(live_server, app, portal, changes, reason):
    _signed_in(portal)
    response = _post(portal, _logout_token(app, live_server, **changes))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert reason in response.get_json()["error_description"]
    assert portal.extensions["pbx_portal"].store.signed_in("sid-1")  # nothing ended


def test_logout_tokens_of_the_wrong_type_or_key_are_refused(live_server, app, portal):
    _signed_in(portal)
    with app.app_context():
        now = int(time.time())
        claims = {
            "iss": live_server,
            "aud": "pbx-portal",
            "iat": now,
            "exp": now + 120,
            "jti": "j1",
            "sid": "sid-1",
            "events": {BACKCHANNEL_EVENT: {}},
        }
        id_token_typed = sign(claims, "JWT")  # right key, but not typed as a logout token
    forged = _logout_token(app, live_server, header={"alg": "ES256", "typ": LOGOUT_TOKEN_TYPE})
    unsigned = forged.rsplit(".", 1)[0] + "."
    for token in (id_token_typed, forged, unsigned, "", "not-a-jwt"):
        assert _post(portal, token).status_code == 400, token
    assert portal.extensions["pbx_portal"].store.signed_in("sid-1")


def test_the_portal_says_to_run_idp_demo_when_it_has_no_credentials(tmp_path):
    with pytest.raises(SystemExit, match="run `idp demo` first"):
        settings_from_environment({"PBX_CLIENT_FILE": str(tmp_path / "missing.json")})


# --- the services claim, shown as people read it ------------------------------------------------

DEMO_TELECOM = {"id": "2", "name": "ТОВ «Демо Телеком»", "country": "UA", "registration_number": "44000004"}
ROMASHKA = {"id": "9", "name": "ООО «Ромашка»", "country": "RU", "registration_number": "7707083893"}
SERVICES = [
    {
        "connector": "multifon",
        "account": "+79260250730",
        "role": "user",
        "organisation": DEMO_TELECOM,
        "service": "multifon",
        "status": "active",
        "selected": True,
    },
    {"connector": "multifon", "account": "+79260250731", "role": "viewer", "organisation": DEMO_TELECOM},
    {
        "connector": "iptel",
        "account": "+380441234567",
        "role": "owner",
        "organisation": None,
        "status": "inactive",
    },
    {"connector": "future", "account": "acc-17", "role": "admin", "organisation": ROMASHKA},
]
ORGANISATION = re.compile(r'<div class="org" data-organisation="([^"]*)">(.*?)</ul>', re.S)
ACCOUNT = re.compile(
    r'<li class="acct[^"]*" data-service-account="([^"]+)"[^>]*data-role="([^"]*)"([^>]*)>(.*?)</li>', re.S
)
TAG = re.compile(r"<[^>]+>")


def _words(html: str) -> str:
    """The text of ``html`` as a person reads it."""
    from html import unescape

    return " ".join(unescape(TAG.sub(" ", html)).split())


@pytest.fixture
def offline():
    """The portal's app for pages that never call the provider."""
    return create_portal("http://127.0.0.1:9", PORTAL, "pbx-portal", "secret-not-used-here")


def _page(portal_app, cookie: str | None = None, lang: str = "en", path: str = "/"):
    http = portal_app.test_client()
    if cookie:
        http.set_cookie("pbx_portal_session", cookie)
    response = http.get(path, headers={"Accept-Language": lang})
    assert response.status_code == 200
    return response


def _organisations(html: str) -> list[tuple[str, str, dict]]:
    """Each organisation panel: its id, its heading's text, and account -> (role, selected, text)."""
    found = []
    for org_id, body in ORGANISATION.findall(html):
        head = _words(body.split('<ul class="accounts">')[0])
        rows = {
            acc: (role, "data-selected" in rest, _words(text))
            for acc, role, rest, text in ACCOUNT.findall(body)
        }
        found.append((org_id, head, rows))
    return found


def test_the_account_page_groups_the_accounts_by_organisation_with_the_role_in_words(offline):
    html = _page(offline, _signed_in(offline, services=SERVICES)).get_data(as_text=True)
    (romashka, head_9, rows_9), (demo, head_2, rows_2), (none, head_none, rows_none) = _organisations(html)
    assert (romashka, demo, none) == ("9", "2", "")  # by name, the accounts of no organisation last
    assert head_2 == "ТОВ «Демо Телеком» Ukraine · ЄДРПОУ 44000004"
    assert head_9 == "ООО «Ромашка» Russia · ИНН 7707083893"
    assert head_none == "Not part of an organisation"
    assert rows_2["+79260250730"] == (
        "user",
        True,
        "MultiFon Business +7 926 025-07-30 Service active Your role: User Chosen for this sign-in "
        "Can change the settings, but not the SIP password or access",
    )
    assert rows_2["+79260250731"] == (
        "viewer",
        False,
        "MultiFon Business +7 926 025-07-31 Your role: Viewer Can only view the account",
    )
    assert rows_none["+380441234567"][2] == (
        "IP telephony +380 44 123 4567 Not activated yet Your role: Owner "
        "Everything, including the SIP password and colleagues' access"
    )
    assert rows_9["acc-17"] == ("admin", False, "future acc-17 Your role: admin")  # unknown: as sent
    assert "For this sign-in you chose +7 926 025-07-30 (MultiFon Business)." in _words(html)
    raw = re.search(
        r'data-userinfo-claim="services"><th scope="row">services</th><td><code>(.*?)</code>', html
    )
    assert json.loads(_words(raw.group(1))) == SERVICES  # the claim itself is still shown as sent


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "uk",
            [
                "Ваші облікові записи послуг",
                "Україна · ЄДРПОУ 44000004",
                "Ваша роль: Користувач",
                "Спостерігач",
            ],
        ),
        (
            "ru",
            [
                "Ваши учетные записи услуг",
                "Украина · ЄДРПОУ 44000004",
                "Ваша роль: Пользователь",
                "Наблюдатель",
            ],
        ),
    ],
)
def test_the_account_page_is_in_the_browsers_language(offline, lang, expected):
    response = _page(offline, _signed_in(offline, services=SERVICES), lang=lang)
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html and response.headers["Content-Language"] == lang
    words = _words(html)
    for text in expected:
        assert text in words, text
    assert translate(lang, "Welcome, %(name)s", name="Olena Koval") in words
    _no_english_left(words, lang)


def _no_english_left(words: str, lang: str) -> None:
    """No message of the catalogue is on the page in English (except those the same in both)."""
    left = [
        m.id
        for m in _messages(_po(lang))
        if m.string != m.id and "%(" not in m.id and re.search(rf"(?<!\w){re.escape(m.id)}(?!\w)", words)
    ]
    assert not left, f"{lang}: still in English: {left}"


def test_an_empty_or_missing_services_claim_says_so(offline):
    html = _page(offline, _signed_in(offline, services=[])).get_data(as_text=True)
    assert "data-services-empty" in html and 'class="acct' not in html
    assert "ask its owner to give you access, then sign in again" in html
    assert '<tr data-userinfo-claim="services"><th scope="row">services</th><td><code>[]</code>' in html
    html = _page(offline, _signed_in(offline)).get_data(as_text=True)  # the scope was not granted
    assert "data-services-missing" in html and "did not share your service accounts" in html


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_language_switch_is_kept_in_the_portals_session(offline):
    http = offline.test_client()
    home = http.get("/", headers={"Accept-Language": "uk"}).get_data(as_text=True)
    assert '<html lang="uk">' in home and 'data-lang="uk" aria-pressed="true"' in home
    token = _csrf(home)
    assert http.post("/lang", data={"lang": "ru", "csrf_token": "forged"}).status_code == 302
    assert '<html lang="uk">' in http.get("/", headers={"Accept-Language": "uk"}).get_data(as_text=True)
    assert http.post("/lang", data={"lang": "de", "csrf_token": token}).status_code == 302
    assert '<html lang="uk">' in http.get("/", headers={"Accept-Language": "uk"}).get_data(as_text=True)
    answer = http.post("/lang", data={"lang": "ru", "csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    page = http.get("/", headers={"Accept-Language": "uk"})  # the choice wins over the browser's
    assert '<html lang="ru">' in page.get_data(as_text=True) and page.headers["Content-Language"] == "ru"
    assert "Войти через Business ID" in page.get_data(as_text=True)
    assert "Accept-Language" in page.headers["Vary"]


def test_a_back_channel_logout_keeps_the_chosen_language(offline):
    cookie = _signed_in(offline, sid="sid-1", lang="ru")
    store = offline.extensions["pbx_portal"].store
    assert store.end(offline.extensions["pbx_portal"].issuer, "sid-1", None) == 1
    html = _page(offline, cookie, lang="en").get_data(as_text=True)
    assert '<html lang="ru">' in html and 'data-notice="ended_elsewhere"' in html
    assert "Ваша сессия в Business ID завершена, поэтому вы вышли и из портала." in html


@pytest.mark.parametrize("lang", ["uk", "ru", "en"])
def test_the_signed_out_home_and_the_error_page_are_translated(offline, lang):
    words = _words(_page(offline, lang=lang).get_data(as_text=True))
    for msgid in ("Sign in with Business ID", "Choose an account", "Your office phone system, in the cloud"):
        assert translate(lang, msgid) in words
    if lang != "en":
        _no_english_left(words, lang)
    assert translate("uk", "Sign in with Business ID") == "Увійти через Business ID"
    assert translate("ru", "Sign in with Business ID") == "Войти через Business ID"


def test_a_callback_without_the_providers_issuer_is_refused_in_the_page_language(portal):
    response = portal.test_client().get("/callback?code=c&state=s", headers={"Accept-Language": "uk"})
    assert response.status_code == 400
    words = _words(response.get_data(as_text=True))
    assert "Не вдалося увійти" in words and "Відповідь надійшла не від очікуваного сервісу входу." in words


@pytest.mark.parametrize("path", ["/login", "/callback?code=c&state=s&iss=x"])
def test_an_unreachable_provider_is_a_page_that_says_so(offline, path):
    response = offline.test_client().get(path, headers={"Accept-Language": "ru"})
    assert response.status_code == 503
    words = _words(response.get_data(as_text=True))
    assert "Business ID недоступен" in words and "Traceback" not in words


# --- what the portal asks Business ID for --------------------------------------------------------


def _authorize_query(response) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    assert location.path == "/authorize"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_sign_in_asks_for_the_services_scope_in_the_pages_language(portal):
    http = portal.test_client()
    query = _authorize_query(http.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"}))
    assert query["scope"].split() == ["openid", "profile", "email", "phone", "services"]
    assert query["ui_locales"] == "ru" and "prompt" not in query
    assert query["code_challenge_method"] == "S256" and query["nonce"]
    token = _csrf(http.get("/").get_data(as_text=True))
    http.post("/lang", data={"lang": "en", "csrf_token": token})
    query = _authorize_query(http.get("/login?prompt=select_account", headers={"Accept-Language": "ru"}))
    assert query["ui_locales"] == "en" and query["prompt"] == "select_account"
    assert "prompt" not in _authorize_query(http.get("/login?prompt=consent"))  # no other prompt


def test_a_signed_in_person_may_sign_in_again_to_choose_another_account(portal):
    http = portal.test_client()
    http.set_cookie("pbx_portal_session", _signed_in(portal))
    again = http.get("/login")
    assert again.status_code == 302 and again.headers["Location"] == "/"
    assert _authorize_query(http.get("/login?prompt=select_account"))["prompt"] == "select_account"


# --- the portal's own catalogue -----------------------------------------------------------------

PORTAL_DIR = Path(__file__).resolve().parents[2] / "examples" / "pbx_portal"
PORTAL_TRANSLATIONS = PORTAL_DIR / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}  # as `make translations`
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def _po(lang: str):
    with open(PORTAL_TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def _messages(catalog) -> list:
    return [m for m in catalog if m.id]


def _in_code() -> set[str]:
    with open(PORTAL_DIR / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(PORTAL_DIR), method_map, options_map, keywords=KEYWORDS
        )
    }


def test_the_portals_template_has_exactly_the_messages_of_its_code():
    with open(PORTAL_TRANSLATIONS / "messages.pot", "rb") as f:
        in_pot = {m.id for m in _messages(read_po(f))}
    in_code = _in_code()
    assert not in_code - in_pot, f"run `make translations`; not in messages.pot: {in_code - in_pot}"
    assert not in_pot - in_code, f"run `make translations`; gone from the code: {in_pot - in_code}"
    assert len(in_code) > 60  # the pages, the messages and the account panel


@pytest.mark.parametrize("lang", ["uk", "ru"])
def test_the_portals_catalogue_is_complete_and_compiled(lang):
    with open(PORTAL_TRANSLATIONS / "messages.pot", "rb") as f:
        in_pot = {m.id for m in _messages(read_po(f))}
    po = _po(lang)
    messages = _messages(po)
    assert {m.id for m in messages} == in_pot, "run `make translations`"
    assert not [m.id for m in messages if not m.string.strip()], f"{lang}: untranslated"
    assert not [m.id for m in messages if m.fuzzy] and not po.fuzzy, f"{lang}: fuzzy"
    assert not po.obsolete, f"{lang}: remove the #~ entries"
    wrong = [
        m.id for m in messages if sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert not wrong, f"{lang}: placeholders differ: {wrong}"
    assert not list(po.check())
    assert all("Business ID" in m.string for m in messages if "Business ID" in m.id)
    with open(PORTAL_TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    stale = [m.id for m in messages if compiled.get(m.id) != m.string]
    assert not stale, f"run `make compile-translations`; {lang}.mo is out of date: {stale}"
