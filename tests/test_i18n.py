"""Languages: Ukrainian, Russian and English, picked from the browser, switched on every page,
remembered on the profile; the switch never redirects off the site."""

from __future__ import annotations

import pytest

from tests.helpers.pages import csrf_token, sign_in, submit
from tests.helpers.records import PASSWORD, find_profile, translated

# These tests are about the product's own default language, Ukrainian.
pytestmark = pytest.mark.idp_settings(IDP_DEFAULT_LOCALE="uk")


def lang(response) -> str:
    text = response.get_data(as_text=True)
    return text.split('<html lang="', 1)[1].split('"', 1)[0]


BROWSER_LANGUAGES = [
    ("uk", "uk"),
    ("ru", "ru"),
    ("en", "en"),
    ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
    ("de-DE,de;q=0.9,en;q=0.5", "en"),
    ("de, fr", "uk"),
]  # none of ours: default


def test_the_browser_language_is_used(client, subtests):
    for header, expected in BROWSER_LANGUAGES:
        with subtests.test(accept_language=header):
            assert lang(client.get("/signin", headers={"Accept-Language": header})) == expected


def test_without_a_preference_the_default_language_is_used(client):
    assert lang(client.get("/signin")) == "uk"


@pytest.mark.parametrize("locale", ["uk", "ru"])
def test_pages_are_translated(app, client, locale):
    text = client.get("/signin", headers={"Accept-Language": locale}).get_data(as_text=True)
    expected = translated(app, locale, "Restore password")
    assert expected != "Restore password" and expected in text


def test_the_chosen_language_wins_over_the_browser(client):
    response = client.get("/lang/ru?next=/signin")
    assert response.status_code == 302 and response.location == "/signin"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("idp_lang="))
    assert cookie.startswith("idp_lang=ru;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert lang(client.get("/signin", headers={"Accept-Language": "en"})) == "ru"


def test_an_unknown_language_is_ignored(client):
    response = client.get("/lang/de?next=/signin")
    assert response.location == "/signin"
    assert not any(c.startswith("idp_lang=") for c in response.headers.getlist("Set-Cookie"))
    assert lang(client.get("/signin", headers={"Accept-Language": "en"})) == "en"


def switch(client, code: str) -> None:
    """Press the language switch in the header (a POST with the page's CSRF token)."""
    assert submit(client, f"/lang/{code}?next=/", page="/security").location == "/"


def test_the_chosen_language_is_stored_on_the_signed_in_profile(app, client, users):
    profile = users.create(locale="en")
    sign_in(client, profile.phone)
    switch(client, "ru")
    assert find_profile(app, profile.phone).locale == "ru"
    # Another browser of the same profile, without the cookie, that asks for none of our
    # languages follows the profile's; one that asks for one of ours speaks it (below).
    other = app.test_client()
    sign_in(other, profile.phone)
    assert lang(other.get("/", headers={"Accept-Language": "de"})) == "ru"
    assert lang(other.get("/", headers={"Accept-Language": "en"})) == "en"


def test_messages_follow_the_profile_language(app, client, users, outbox):
    profile = users.create(locale="en")
    sign_in(client, profile.phone)
    switch(client, "uk")
    submit(
        client,
        "/security/password",
        {"current_password": PASSWORD, "password": "Br4ndNewSecret", "confirm": "Br4ndNewSecret"},
    )
    notice = outbox.last(profile.email, "password_changed")
    assert notice.locale == "uk"
    assert notice.subject == translated(app, "uk", "The password of your profile was changed")


def test_a_link_to_the_switch_changes_only_the_cookie(app, client, users):
    """A GET, which any site can make a browser send, never changes the stored profile."""
    profile = users.create(locale="en")
    sign_in(client, profile.phone)
    assert client.get("/lang/ru?next=/").location == "/"
    assert find_profile(app, profile.phone).locale == "en"
    assert lang(client.get("/", headers={"Accept-Language": "en"})) == "ru"


def test_the_switch_without_its_csrf_token_changes_nothing(app, client, users):
    profile = users.create(locale="en")
    sign_in(client, profile.phone)
    assert client.post("/lang/ru?next=/").status_code == 400
    assert find_profile(app, profile.phone).locale == "en"


OFF_SITE = [
    "//evil.example",
    "https://evil.example",
    "http://evil.example/signin",
    "/\\evil.example",
    "\\\\evil.example",
    "///evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "%2F%2Fevil.example",
    " //evil.example",
]


def test_the_language_switch_never_redirects_off_site(client, subtests):
    for target in OFF_SITE:
        with subtests.test(next=target):
            response = client.get("/lang/en", query_string={"next": target})
            assert response.status_code == 302
            assert response.location == "/"


def test_sign_in_never_redirects_off_site(app, users, subtests):
    profile = users.create()
    for target in OFF_SITE[:4]:
        with subtests.test(next=target):
            client = app.test_client()
            token = csrf_token(client, "/signin")
            response = client.post(
                "/signin",
                query_string={"next": target},
                data={"csrf_token": token, "identifier": profile.phone, "password": PASSWORD},
            )
            assert response.status_code == 302 and response.location == "/"


def test_sign_in_follows_a_next_on_this_site(client, users):
    profile = users.create()
    token = csrf_token(client, "/signin")
    response = client.post(
        "/signin?next=/security",
        data={"csrf_token": token, "identifier": profile.phone, "password": PASSWORD},
    )
    assert response.location == "/security"


# --- which language wins: the switch > ui_locales > the browser > the profile's > the default ----

RU = {"Accept-Language": "ru-RU,ru;q=0.9"}


def _sign_in_as(client, profile, headers, password: str = PASSWORD) -> None:
    page = submit(client, "/signin", {"identifier": profile.phone, "password": password}, headers=headers)
    assert page.location in ("/", "/signin/verify"), page.errors


def _change_password(client, headers) -> None:
    fields = {"current_password": PASSWORD, "password": "Br4ndNewSecret", "confirm": "Br4ndNewSecret"}
    assert submit(client, "/security/password", fields, headers=headers).location == "/security"


def test_a_russian_browser_signing_in_to_a_ukrainian_profile_gets_russian_pages_sms_and_letters(
    app, client, users, outbox
):
    profile = users.create(locale="uk", sms_2fa_enabled=True)
    _sign_in_as(client, profile, RU)
    code_sms = outbox.last(profile.phone, "sms_code")
    assert code_sms.locale == "ru"
    assert lang(client.get("/signin/verify", headers=RU)) == "ru"
    assert submit(client, "/signin/verify", {"code": outbox.code(profile.phone)}, headers=RU).location == "/"
    assert lang(client.get("/", headers=RU)) == "ru" and lang(client.get("/security", headers=RU)) == "ru"
    _change_password(client, RU)
    notice = outbox.last(profile.email, "password_changed")
    assert notice.locale == "ru" and notice.subject == translated(
        app, "ru", "The password of your profile was changed"
    )
    # What is sent later, with no page of theirs open, speaks the language they signed in with.
    assert find_profile(app, profile.phone).locale == "ru"


def test_the_switch_wins_over_the_browser_and_the_profile(app, client, users, outbox):
    profile = users.create(locale="ru")
    _sign_in_as(client, profile, RU)
    assert submit(client, "/lang/en?next=/", page="/security", headers=RU).location == "/"
    assert lang(client.get("/security", headers=RU)) == "en"
    assert find_profile(app, profile.phone).locale == "en"
    _change_password(client, RU)
    assert outbox.last(profile.email, "password_changed").locale == "en"
    # The switch's cookie also wins before signing in, and the sign-in keeps its language.
    fresh = app.test_client()
    fresh.get("/lang/uk?next=/signin")
    _sign_in_as(fresh, profile, RU, "Br4ndNewSecret")
    assert lang(fresh.get("/", headers=RU)) == "uk" and find_profile(app, profile.phone).locale == "uk"


def test_a_relying_services_ui_locales_wins_over_the_browser_through_the_sign_in(app, client, users):
    from tests.oauth.helpers import AuthorizationRequest, register_client

    profile = users.create(locale="uk")
    request = AuthorizationRequest(
        register_client(app, first_party=False, name="Acme CRM"), extra={"ui_locales": "en"}
    )
    signin = client.get(request.url, headers=RU).headers["Location"]
    assert lang(client.get(signin, headers=RU)) == "en"
    page = submit(client, signin, {"identifier": profile.phone, "password": PASSWORD}, headers=RU)
    consent = client.get(page.location, headers=RU)  # back at /authorize: the consent page
    assert 'name="decision"' in consent.get_data(as_text=True) and lang(consent) == "en"
    assert find_profile(app, profile.phone).locale == "en"


def test_a_browser_asking_for_none_of_ours_gets_the_profiles_language_and_keeps_it(app, client, users):
    profile = users.create(locale="ru")
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    assert lang(client.get("/signin", headers=german)) == "uk"  # the default, before signing in
    _sign_in_as(client, profile, german)
    assert lang(client.get("/", headers=german)) == "ru"
    assert find_profile(app, profile.phone).locale == "ru"


def test_a_password_restored_in_a_russian_browser_is_told_in_russian(app, client, users, outbox):
    profile = users.create(locale="uk")
    assert submit(client, "/recover", {"phone": profile.phone}, headers=RU).location == "/recover/code"
    assert outbox.last(profile.phone, "sms_code").locale == "ru"
    submit(client, "/recover/code", {"code": outbox.code(profile.phone)}, headers=RU)
    fields = {"password": "Br4ndNewSecret", "confirm": "Br4ndNewSecret"}
    assert submit(client, "/recover/password", fields, headers=RU).location == "/signin"
    assert outbox.last(profile.email, "password_restored").locale == "ru"
