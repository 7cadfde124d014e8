"""What the person meets at /authorize: prompt, max_age, login_hint, ui_locales, consent,
acr_values step-up and choosing the profile."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

from joserfc import jwt
from joserfc.jwk import KeySet

from idp.extensions import db
from idp.oauth.models import AuthorizationCode, Consent
from tests.helpers.pages import csrf_token, sign_in, submit
from tests.helpers.records import PASSWORD, translated
from tests.oauth.helpers import (
    AuthorizationRequest,
    authorize,
    exchange,
    query_of,
    refresh,
    register_client,
    table_count,
)

ISSUER = "http://127.0.0.1:5000"
PHONE = "+380501112233"
MFA = "urn:business-id:acr:mfa"


def _id_token(client, tokens: dict) -> dict:
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    return dict(jwt.decode(tokens["id_token"], keys, algorithms=["ES256", "RS256"]).claims)


def _tokens(client, request: AuthorizationRequest, query: dict) -> dict:
    response = exchange(client, request, query["code"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _to_client(response, request: AuthorizationRequest) -> dict[str, str]:
    """Assert ``response`` goes back to the client; return the query it carries."""
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    location = response.headers["Location"]
    assert location.startswith(request.client.redirect_uri + "?"), location
    query = query_of(location)
    assert query["iss"] == ISSUER and query["state"] == request.state
    return query


def _to_sign_in(response) -> str:
    """Assert ``response`` sends the browser to the sign-in form; return that URL."""
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    location = response.headers["Location"]
    assert location.startswith("/signin?"), location
    return location


def _sign_in_at(client, url: str, identifier: str = PHONE) -> str:
    """Fill the sign-in form at ``url``; return where it leads."""
    page = submit(client, url, {"identifier": identifier, "password": PASSWORD})
    assert page.status == 302, page.errors
    return page.location


def _third_party(app, **options):
    options.setdefault("name", "Acme CRM")
    return register_client(app, first_party=False, **options)


def _session_sid(app) -> set[str]:
    from idp.sessions.models import WebSession

    with app.app_context():
        return set(
            db.session.scalars(
                db.select(WebSession.sid).where(
                    WebSession.ended_at.is_(None), WebSession.profile_id.is_not(None)
                )
            )
        )


# --- prompt=none ------------------------------------------------------------------------------------


def test_prompt_none_without_a_session_answers_login_required(app, client, users):
    users.create(phone=PHONE)
    request = AuthorizationRequest(register_client(app), extra={"prompt": "none"})
    query = _to_client(client.get(request.url), request)
    assert query["error"] == "login_required" and "code" not in query


def test_prompt_none_when_consent_is_needed_answers_consent_required(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    request = AuthorizationRequest(_third_party(app), extra={"prompt": "none"})
    query = _to_client(client.get(request.url), request)
    assert query["error"] == "consent_required" and "code" not in query
    assert table_count(app, Consent) == 0


def test_prompt_none_with_a_session_and_consent_gives_a_code_silently(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    registered = _third_party(app)
    authorize(client, AuthorizationRequest(registered))  # consents once
    request = AuthorizationRequest(registered, extra={"prompt": "none"})
    query = _to_client(client.get(request.url), request)
    assert query["code"]


def test_prompt_none_when_max_age_has_passed_answers_login_required(app, client, users, time_machine):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    time_machine.move_to(datetime.now(UTC) + timedelta(minutes=5))
    request = AuthorizationRequest(register_client(app), extra={"prompt": "none", "max_age": "60"})
    assert _to_client(client.get(request.url), request)["error"] == "login_required"


# --- prompt=login, max_age, login_hint, ui_locales --------------------------------------------------


def test_prompt_login_asks_for_the_password_again_and_keeps_the_session(app, client, users, time_machine):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    registered = register_client(app)
    first = AuthorizationRequest(registered)
    first_tokens = _tokens(client, first, authorize(client, first))
    first_id = _id_token(client, first_tokens)

    time_machine.move_to(datetime.now(UTC) + timedelta(minutes=2))
    request = AuthorizationRequest(registered, extra={"prompt": "login"})
    signin_url = _to_sign_in(client.get(request.url))
    form = client.get(signin_url)
    assert form.status_code == 200 and 'name="password"' in form.get_data(as_text=True)
    assert table_count(app, AuthorizationCode) == 1  # no code before the password

    back = _sign_in_at(client, signin_url)
    assert back.startswith("/authorize?") and "prompt" not in query_of(back)
    tokens = _tokens(client, request, _to_client(client.get(back), request))
    claims = _id_token(client, tokens)
    assert claims["sub"] == first_id["sub"]
    assert claims["sid"] == first_id["sid"]  # the same person: the same session goes on
    assert claims["auth_time"] >= first_id["auth_time"] + 120
    assert _session_sid(app) == {first_id["sid"]}
    # What the session granted before goes on as well.
    assert refresh(client, registered, first_tokens["refresh_token"]).status_code == 200


def test_prompt_login_as_another_person_starts_a_new_session(app, client, users):
    users.create(phone=PHONE)
    other = users.create(phone="+380501112299")
    sign_in(client, PHONE)
    registered = register_client(app)
    first = AuthorizationRequest(registered)
    first_tokens = _tokens(client, first, authorize(client, first))
    request = AuthorizationRequest(registered, extra={"prompt": "login"})
    back = _sign_in_at(client, _to_sign_in(client.get(request.url)), other.phone)
    claims = _id_token(client, _tokens(client, request, _to_client(client.get(back), request)))
    assert claims["sub"] == other.subject
    assert claims["sid"] != _id_token(client, first_tokens)["sid"]
    # The first person's session ended, and with it its online grant.
    assert refresh(client, registered, first_tokens["refresh_token"]).status_code == 400


def test_max_age_exceeded_asks_for_the_password_again(app, client, users, time_machine):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    registered = register_client(app)
    time_machine.move_to(datetime.now(UTC) + timedelta(minutes=5))
    fresh_enough = AuthorizationRequest(registered, extra={"max_age": "600"})
    assert authorize(client, fresh_enough)["code"]

    request = AuthorizationRequest(registered, extra={"max_age": "60"})
    signin_url = _to_sign_in(client.get(request.url))
    back = _sign_in_at(client, signin_url)
    assert back.startswith("/authorize?")
    claims = _id_token(client, _tokens(client, request, _to_client(client.get(back), request)))
    assert int(datetime.now(UTC).timestamp()) - claims["auth_time"] < 60


def test_login_hint_fills_in_the_sign_in_field(app, client, users):
    users.create(phone=PHONE)
    request = AuthorizationRequest(register_client(app), extra={"login_hint": PHONE})
    signin_url = _to_sign_in(client.get(request.url))
    page = client.get(signin_url).get_data(as_text=True)
    field = re.search(r'<input[^>]*name="identifier"[^>]*>', page).group(0)
    assert f'value="{PHONE}"' in field


def test_without_login_hint_the_field_is_empty(app, client):
    request = AuthorizationRequest(register_client(app))
    page = client.get(_to_sign_in(client.get(request.url))).get_data(as_text=True)
    field = re.search(r'<input[^>]*name="identifier"[^>]*>', page).group(0)
    assert 'value="+' not in field


def test_ui_locales_shows_the_sign_in_page_in_that_language(app, client):
    request = AuthorizationRequest(register_client(app), extra={"ui_locales": "ru-RU en"})
    page = client.get(_to_sign_in(client.get(request.url))).get_data(as_text=True)
    heading = translated(app, "ru", "Sign in to your business profile")
    assert heading != "Sign in to your business profile"
    assert heading in page
    assert 'lang="ru"' in page


def test_an_unknown_ui_locale_leaves_the_default(app, client):
    request = AuthorizationRequest(register_client(app), extra={"ui_locales": "de fr"})
    page = client.get(_to_sign_in(client.get(request.url))).get_data(as_text=True)
    assert "Sign in to your business profile" in page


# --- consent ----------------------------------------------------------------------------------------


def test_the_consent_page_lists_what_a_third_party_asks_for(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    request = AuthorizationRequest(_third_party(app), scope="openid email phone")
    response = client.get(request.url)
    assert response.status_code == 200
    page = unescape(response.get_data(as_text=True))
    assert "Acme CRM asks for access" in page
    assert "Your e-mail address" in page and "Your phone number" in page
    assert "Your name and language" not in page  # profile was not asked for
    assert 'name="decision"' in page and 'value="allow"' in page and 'value="deny"' in page
    assert table_count(app, AuthorizationCode) == 0


def test_deny_sends_access_denied_back(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    request = AuthorizationRequest(_third_party(app))
    token = csrf_token(client, request.url)
    query = _to_client(client.post(request.url, data={"csrf_token": token, "decision": "deny"}), request)
    assert query["error"] == "access_denied" and "code" not in query
    assert table_count(app, Consent) == 0 and table_count(app, AuthorizationCode) == 0


def test_the_consent_form_needs_its_csrf_token(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    request = AuthorizationRequest(_third_party(app))
    response = client.post(request.url, data={"decision": "allow"})
    assert response.status_code in (200, 400)
    assert table_count(app, Consent) == 0 and table_count(app, AuthorizationCode) == 0


def test_allow_gives_a_code_and_is_remembered(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    registered = _third_party(app)
    request = AuthorizationRequest(registered, scope="openid email")
    token = csrf_token(client, request.url)
    query = _to_client(client.post(request.url, data={"csrf_token": token, "decision": "allow"}), request)
    assert _tokens(client, request, query)["access_token"]
    with app.app_context():
        assert db.session.get(Consent, (1, registered.client_id)).scope == "openid email"

    # Next time the same (or a smaller) request goes straight back with a code.
    again = AuthorizationRequest(registered, scope="openid")
    assert _to_client(client.get(again.url), again)["code"]
    # More than was agreed to asks again, listing what is new.
    wider = AuthorizationRequest(registered, scope="openid email phone")
    response = client.get(wider.url)
    assert response.status_code == 200 and "Your phone number" in response.get_data(as_text=True)


def test_prompt_consent_asks_again(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    registered = _third_party(app)
    authorize(client, AuthorizationRequest(registered))
    request = AuthorizationRequest(registered, extra={"prompt": "consent"})
    response = client.get(request.url)
    assert response.status_code == 200 and 'name="decision"' in response.get_data(as_text=True)
    assert _to_client(
        client.post(request.url, data={"csrf_token": csrf_token(client, request.url), "decision": "allow"}),
        request,
    )["code"]


def test_first_party_clients_skip_consent(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    request = AuthorizationRequest(register_client(app, first_party=True), extra={"prompt": "none"})
    assert _to_client(client.get(request.url), request)["code"]
    assert table_count(app, Consent) == 0


def test_a_consent_is_per_profile(app, client, users):
    users.create(phone=PHONE)
    other = users.create(phone="+380501112299")
    registered = _third_party(app)
    sign_in(client, PHONE)
    authorize(client, AuthorizationRequest(registered))
    second = app.test_client()
    sign_in(second, other.phone)
    request = AuthorizationRequest(registered, extra={"prompt": "none"})
    assert _to_client(second.get(request.url), request)["error"] == "consent_required"


# --- acr_values: a second factor on request ----------------------------------------------------------


def test_acr_mfa_asks_for_an_sms_code_even_without_two_factor(app, client, users, outbox):
    profile = users.create(phone=PHONE)
    assert not profile.two_factor_enabled
    sign_in(client, PHONE)
    request = AuthorizationRequest(register_client(app), extra={"acr_values": MFA})
    signin_url = _to_sign_in(client.get(request.url))
    assert query_of(signin_url)["mfa"] == "1"
    assert _sign_in_at(client, signin_url) == "/signin/verify"
    assert table_count(app, AuthorizationCode) == 0
    page = submit(client, "/signin/verify", {"code": outbox.code(PHONE)})
    assert page.location.startswith("/authorize?")
    claims = _id_token(client, _tokens(client, request, _to_client(client.get(page.location), request)))
    assert claims["acr"] == MFA and claims["amr"] == ["pwd", "sms", "mfa"]


def test_acr_mfa_is_satisfied_by_an_earlier_second_factor(app, client, users, outbox):
    users.create(phone=PHONE, sms_2fa_enabled=True)
    sign_in(client, PHONE)
    submit(client, "/signin/verify", {"code": outbox.code(PHONE)})
    request = AuthorizationRequest(register_client(app), extra={"acr_values": MFA})
    claims = _id_token(client, _tokens(client, request, _to_client(client.get(request.url), request)))
    assert claims["acr"] == MFA


def test_acr_mfa_with_prompt_none_answers_login_required(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    request = AuthorizationRequest(register_client(app), extra={"acr_values": MFA, "prompt": "none"})
    assert _to_client(client.get(request.url), request)["error"] == "login_required"


# --- prompt=select_account ---------------------------------------------------------------------------


def test_select_account_shows_the_signed_in_profile(app, client, users):
    profile = users.create(phone=PHONE)
    sign_in(client, PHONE)
    request = AuthorizationRequest(register_client(app), extra={"prompt": "select_account"})
    response = client.get(request.url)
    assert response.status_code == 200
    page = unescape(response.get_data(as_text=True))
    assert "Choose a profile" in page and profile.full_name in page
    assert table_count(app, AuthorizationCode) == 0
    continue_url = re.search(r'href="(/authorize\?[^"]+)"', page).group(1)
    assert "select_account" not in continue_url
    claims = _id_token(client, _tokens(client, request, _to_client(client.get(continue_url), request)))
    assert claims["sub"] == profile.subject


def test_select_account_lets_another_profile_sign_in(app, client, users):
    users.create(phone=PHONE)
    other = users.create(phone="+380501112299")
    sign_in(client, PHONE)
    request = AuthorizationRequest(register_client(app), extra={"prompt": "select_account"})
    page = unescape(client.get(request.url).get_data(as_text=True))
    switch_url = re.search(r'action="(/authorize/switch\?[^"]+)"', page).group(1)
    response = client.post(switch_url, data={"csrf_token": csrf_token(client, request.url)})
    signin_url = _to_sign_in(response)
    assert client.get("/").status_code != 200  # the first profile signed out
    back = _sign_in_at(client, signin_url, other.phone)
    claims = _id_token(client, _tokens(client, request, _to_client(client.get(back), request)))
    assert claims["sub"] == other.subject


def test_select_account_without_a_session_is_answered_by_signing_in(app, client, users):
    profile = users.create(phone=PHONE)
    request = AuthorizationRequest(register_client(app), extra={"prompt": "select_account"})
    back = _sign_in_at(client, _to_sign_in(client.get(request.url)))
    # Signing in was the choice: no second chooser on the way back.
    assert "select_account" not in back
    claims = _id_token(client, _tokens(client, request, _to_client(client.get(back), request)))
    assert claims["sub"] == profile.subject


def test_max_age_zero_asks_once_and_then_gives_the_code(app, client, users):
    """max_age=0 means "sign in now" (like prompt=login): once, not in a loop."""
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    request = AuthorizationRequest(register_client(app), extra={"max_age": "0"})
    back = _sign_in_at(client, _to_sign_in(client.get(request.url)))
    claims = _id_token(client, _tokens(client, request, _to_client(client.get(back), request)))
    assert int(datetime.now(UTC).timestamp()) - claims["auth_time"] < 30


def test_an_id_token_hint_for_someone_else_needs_a_sign_in(app, client, users):
    users.create(phone=PHONE)
    other = users.create(phone="+380501112299")
    registered = register_client(app)
    elsewhere = app.test_client()
    sign_in(elsewhere, other.phone)
    first = AuthorizationRequest(registered)
    foreign = _tokens(elsewhere, first, authorize(elsewhere, first))["id_token"]
    sign_in(client, PHONE)
    silent = AuthorizationRequest(registered, extra={"prompt": "none", "id_token_hint": foreign})
    assert _to_client(client.get(silent.url), silent)["error"] == "login_required"
    request = AuthorizationRequest(registered, extra={"id_token_hint": foreign})
    _to_sign_in(client.get(request.url))
    # The person's own ID token as the hint lets the request through.
    own = AuthorizationRequest(registered)
    own_token = _tokens(client, own, authorize(client, own))["id_token"]
    hinted = AuthorizationRequest(registered, extra={"prompt": "none", "id_token_hint": own_token})
    assert _to_client(client.get(hinted.url), hinted)["code"]


def test_use_another_profile_never_leads_off_site(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    token = csrf_token(client, "/security")
    response = client.post("/authorize/switch?next=https://attacker.example/", data={"csrf_token": token})
    location = _to_sign_in(response)
    assert "attacker" not in location
    assert _sign_in_at(client, location) == "/"
