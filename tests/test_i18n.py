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
    # Another browser of the same profile, without the cookie, follows the profile's language.
    other = app.test_client()
    sign_in(other, profile.phone)
    assert lang(other.get("/", headers={"Accept-Language": "en"})) == "ru"


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
