"""The tokens themselves: refresh rotation, online and offline grants, client credentials,
introspection (RFC 7662), revocation (RFC 7009), userinfo claims and the ID token's amr/acr."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.extensions import db
from idp.oauth.claims import register_service_accounts
from idp.oauth.models import Grant, RefreshToken, RevokedAccessToken
from tests.helpers.pages import sign_in, submit
from tests.helpers.records import PASSWORD
from tests.oauth.helpers import (
    AuthorizationRequest,
    RegisteredClient,
    authorize,
    bearer,
    exchange,
    introspect,
    refresh,
    register_client,
    revoke,
    signed_in_tokens,
    table_count,
    userinfo,
)

ISSUER = "http://127.0.0.1:5000"
OFFLINE = "openid profile offline_access"


def _claims(client, token: str) -> dict:
    keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
    return dict(jwt.decode(token, keys, algorithms=["ES256", "RS256"]).claims)


def _sign_out(client) -> None:
    page = submit(client, "/signout", page="/security")
    assert page.location == "/signin"
    assert client.get("/").status_code != 200


def _later(time_machine, **delta) -> None:
    time_machine.move_to(datetime.now(UTC) + timedelta(**delta))


# --- refresh: rotation -----------------------------------------------------------------------------


def test_a_refresh_token_rotates_and_the_new_one_works(app, client, users):
    profile, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    first = refresh(client, request.client, tokens["refresh_token"])
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    rotated = first.get_json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["access_token"] != tokens["access_token"]
    assert rotated["token_type"] == "Bearer" and rotated["expires_in"] == 600
    assert set(rotated["scope"].split()) == set(OFFLINE.split())

    old_claims, new_claims = _claims(client, tokens["access_token"]), _claims(client, rotated["access_token"])
    assert new_claims["sub"] == old_claims["sub"] == profile.subject
    assert new_claims["gid"] == old_claims["gid"]  # the same grant (refresh-token family)
    assert new_claims["auth_time"] == old_claims["auth_time"]
    assert userinfo(client, rotated["access_token"]).get_json()["sub"] == profile.subject

    # The rotated token can rotate again; each one exactly once.
    second = refresh(client, request.client, rotated["refresh_token"])
    assert second.status_code == 200
    third = refresh(client, request.client, second.get_json()["refresh_token"])
    assert third.status_code == 200
    with app.app_context():
        rows = list(db.session.scalars(db.select(RefreshToken)))
        assert len(rows) == 4 and sum(row.used_at is None for row in rows) == 1
        assert tokens["refresh_token"] not in {row.token_hash for row in rows}  # stored hashed


def test_a_refresh_may_narrow_the_scope_but_never_widen_it(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    narrowed = refresh(client, request.client, tokens["refresh_token"], scope="openid offline_access")
    assert narrowed.status_code == 200
    assert _claims(client, narrowed.get_json()["access_token"])["scope"] == "openid offline_access"
    assert "name" not in userinfo(client, narrowed.get_json()["access_token"]).get_json()

    widened = refresh(
        client, request.client, narrowed.get_json()["refresh_token"], scope="openid offline_access email"
    )
    assert widened.status_code == 400 and widened.get_json()["error"] == "invalid_scope"


def test_the_scope_is_what_the_client_is_registered_for(app, client, users):
    users.create(phone="+380501112233")
    sign_in(client, "+380501112233")
    registered = register_client(app, scope="openid profile")
    request = AuthorizationRequest(registered, scope="openid profile email phone services")
    tokens = exchange(client, request, authorize(client, request)["code"]).get_json()
    assert tokens["scope"] == "openid profile"
    claims = userinfo(client, tokens["access_token"]).get_json()
    assert "email" not in claims and "phone_number" not in claims and "services" not in claims


# --- online and offline grants -----------------------------------------------------------------------


def test_an_online_refresh_token_ends_with_the_browser_session(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app, scope="openid profile")
    _sign_out(client)
    response = refresh(client, request.client, tokens["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert userinfo(client, tokens["access_token"]).status_code == 401
    with app.app_context():
        assert db.session.scalar(db.select(Grant.revoked_reason)) == "logout"


def test_an_offline_refresh_token_outlives_the_browser_session(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    _sign_out(client)
    assert userinfo(client, tokens["access_token"]).status_code == 200
    response = refresh(client, request.client, tokens["refresh_token"])
    assert response.status_code == 200
    assert userinfo(client, response.get_json()["access_token"]).status_code == 200


def test_both_kinds_side_by_side_on_sign_out(app, client, users):
    """One browser session, two clients: only the online grant ends with it."""
    users.create(phone="+380501112233")
    sign_in(client, "+380501112233")
    online_client, offline_client = register_client(app, name="Online"), register_client(app, name="Off")
    online = AuthorizationRequest(online_client, scope="openid")
    offline = AuthorizationRequest(offline_client, scope="openid offline_access")
    online_tokens = exchange(client, online, authorize(client, online)["code"]).get_json()
    offline_tokens = exchange(client, offline, authorize(client, offline)["code"]).get_json()
    _sign_out(client)
    assert refresh(client, online_client, online_tokens["refresh_token"]).status_code == 400
    assert refresh(client, offline_client, offline_tokens["refresh_token"]).status_code == 200


def test_an_online_refresh_token_keeps_its_session_alive_while_used(app, client, users, time_machine):
    _, request, tokens = signed_in_tokens(client, users, app, scope="openid profile")
    current = tokens["refresh_token"]
    for _ in range(6):  # an hour of refreshes every ten minutes, the browser idle all along
        _later(time_machine, minutes=10)
        response = refresh(client, request.client, current)
        assert response.status_code == 200, response.get_data(as_text=True)
        current = response.get_json()["refresh_token"]
    assert client.get("/").status_code == 200  # the browser session is alive as well


def test_a_refused_refresh_keeps_nothing_not_even_the_session_alive(app, client, users, time_machine):
    """A refresh the token endpoint refuses (here a scope beyond the grant's) must not keep the
    browser session and its grant from idling out: whatever it touched is rolled back."""
    _, request, tokens = signed_in_tokens(client, users, app, scope="openid profile")
    service = app.test_client()  # the relying service, without the browser's cookie
    _later(time_machine, minutes=20)
    wider = "openid profile phone email"
    refused = refresh(service, request.client, tokens["refresh_token"], scope=wider)
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_scope"
    _later(time_machine, minutes=15)  # 35 minutes since anything counted: past the 30 min idle limit
    response = refresh(service, request.client, tokens["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize(
    "spelling",
    [
        lambda s: s + "==",  # padding
        lambda s: s[:10] + "!!!!" + s[10:],  # characters outside the alphabet
        lambda s: s[:10] + "\t" + s[10:],
        lambda s: s.replace("-", "+").replace("_", "/"),  # the other base64 alphabet
        # The last character with its unused low bits set: the same bytes, another spelling.
        lambda s: s[:-1] + ALPHABET[ALPHABET.index(s[-1]) | (1 << (len(s) * 6 % 8)) - 1],
    ],
)
def test_an_access_token_is_read_in_its_one_spelling_only(app, client, users, spelling):
    _, request, tokens = signed_in_tokens(client, users, app, scope="openid profile")
    for _ in range(10):  # a token with no - or _ in its payload and signature has nothing to respell
        if any(spelling(part) != part for part in tokens["access_token"].split(".")[1:]):
            break
        tokens = refresh(client, request.client, tokens["refresh_token"]).get_json()
    header, payload, signature = tokens["access_token"].split(".")
    if spelling(signature) == signature:  # no - or _ in this signature to rewrite: vary the payload
        header, payload, signature = header, spelling(payload), signature
    else:
        signature = spelling(signature)
    assert userinfo(client, f"{header}.{payload}.{signature}").status_code == 401
    assert userinfo(client, tokens["access_token"]).status_code == 200


def test_an_online_refresh_token_ends_when_its_session_idles_out(app, client, users, time_machine):
    _, request, tokens = signed_in_tokens(client, users, app, scope="openid profile")
    _later(time_machine, minutes=31)
    assert client.get("/").status_code != 200  # the browser must sign in again
    response = refresh(client, request.client, tokens["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_an_online_refresh_token_ends_with_the_session_lifetime(app, client, users, time_machine):
    _, request, tokens = signed_in_tokens(client, users, app, scope="openid profile")
    current, refreshed = tokens["refresh_token"], 0
    for _ in range(12 * 4):  # used every fifteen minutes: the last try is twelve hours on
        _later(time_machine, minutes=15)
        response = refresh(client, request.client, current)
        if response.status_code != 200:
            break
        current, refreshed = response.get_json()["refresh_token"], refreshed + 1
    assert refreshed == 12 * 4 - 1
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_an_offline_refresh_token_expires_after_its_days(app, client, users, time_machine):
    _, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    _later(time_machine, days=29)
    kept = refresh(client, request.client, tokens["refresh_token"])
    assert kept.status_code == 200
    _later(time_machine, days=30, minutes=1)
    assert introspect(client, request.client, kept.get_json()["refresh_token"]) == {"active": False}
    response = refresh(client, request.client, kept.get_json()["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_an_access_token_expires_after_its_minutes(app, client, users, time_machine):
    _, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    claims = _claims(client, tokens["access_token"])
    assert claims["exp"] - claims["iat"] == 600
    _later(time_machine, minutes=9)
    assert userinfo(client, tokens["access_token"]).status_code == 200
    _later(time_machine, minutes=2)
    assert userinfo(client, tokens["access_token"]).status_code == 401
    assert introspect(client, request.client, tokens["access_token"]) == {"active": False}


# --- client credentials -----------------------------------------------------------------------------


def _machine_client(app, **options):
    options.setdefault("scope", "openid pbx.read pbx.write")
    return register_client(app, grant_types=["client_credentials"], redirect_uris=None, **options)


def test_client_credentials_give_a_jwt_for_the_client_itself(app, client):
    machine = _machine_client(app)
    response = client.post(
        "/token", data={"grant_type": "client_credentials", "scope": "pbx.read"}, headers=machine.basic_auth
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    tokens = response.get_json()
    assert "refresh_token" not in tokens and "id_token" not in tokens
    claims = _claims(client, tokens["access_token"])
    assert claims["sub"] == machine.client_id == claims["client_id"]
    assert claims["scope"] == "pbx.read" and claims["iss"] == ISSUER
    assert "gid" not in claims
    assert table_count(app, Grant) == 0 and table_count(app, RefreshToken) == 0
    # It names no person, so userinfo has nothing to say about it.
    assert userinfo(client, tokens["access_token"]).status_code in (401, 403)
    answer = introspect(client, machine, tokens["access_token"])
    assert answer["active"] is True and answer["sub"] == machine.client_id


def test_client_credentials_can_be_posted_too(app, client):
    machine = _machine_client(app)
    response = client.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": machine.client_id,
            "client_secret": machine.secret,
        },
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "scope",
    ["openid", "profile", "email", "phone", "offline_access", "services", "pbx.read openid", "pbx.admin"],
)
def test_client_credentials_refuse_identity_and_unregistered_scopes(app, client, scope):
    machine = _machine_client(app, scope="openid profile email phone offline_access services pbx.read")
    response = client.post(
        "/token", data={"grant_type": "client_credentials", "scope": scope}, headers=machine.basic_auth
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invalid_scope"


def test_client_credentials_need_a_secret(app, client):
    machine = _machine_client(app)
    response = client.post(
        "/token", data={"grant_type": "client_credentials", "client_id": machine.client_id}
    )
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    wrong = RegisteredClient(machine.client_id, machine.secret + "x")
    response = client.post("/token", data={"grant_type": "client_credentials"}, headers=wrong.basic_auth)
    assert response.status_code == 401 and "access_token" not in response.get_json()


def test_a_public_client_cannot_use_client_credentials(app, client):
    public = register_client(app, public=True)
    with app.app_context():
        # Even a public client whose record claims the grant (registration refuses that).
        from idp.oauth.models import Client

        row = db.session.scalar(db.select(Client).where(Client.client_id == public.client_id))
        row.grant_types_json = '["authorization_code", "client_credentials"]'
        db.session.commit()
    response = client.post(
        "/token", data={"grant_type": "client_credentials", "client_id": public.client_id, "scope": ""}
    )
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert "access_token" not in response.get_json()


def test_a_client_without_the_grant_cannot_use_client_credentials(app, client):
    registered = register_client(app)
    response = client.post("/token", data={"grant_type": "client_credentials"}, headers=registered.basic_auth)
    assert response.status_code == 400 and response.get_json()["error"] == "unauthorized_client"


# --- introspection (RFC 7662) ------------------------------------------------------------------------


def test_introspection_describes_the_clients_own_tokens(app, client, users):
    profile, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    access = introspect(client, request.client, tokens["access_token"])
    assert access["active"] is True
    assert access["sub"] == profile.subject and access["client_id"] == request.client.client_id
    assert access["iss"] == ISSUER and access["token_type"] == "Bearer"
    assert set(access["scope"].split()) == set(OFFLINE.split())
    assert access["exp"] > access["iat"] and access["jti"] and access["sid"]
    assert access["amr"] == ["pwd"]

    refresh_info = introspect(
        client, request.client, tokens["refresh_token"], token_type_hint="refresh_token"
    )
    assert refresh_info["active"] is True and refresh_info["token_type"] == "refresh_token"
    assert refresh_info["sub"] == profile.subject
    assert abs(refresh_info["exp"] - refresh_info["iat"] - 30 * 24 * 3600) <= 1
    # The hint is only a hint.
    assert (
        introspect(client, request.client, tokens["refresh_token"], token_type_hint="access_token")["active"]
        is True
    )


def test_introspection_says_inactive_after_revocation_and_rotation(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    rotated = refresh(client, request.client, tokens["refresh_token"]).get_json()
    assert introspect(client, request.client, tokens["refresh_token"]) == {"active": False}
    assert revoke(client, request.client, rotated["access_token"]).status_code == 200
    assert introspect(client, request.client, rotated["access_token"]) == {"active": False}
    assert introspect(client, request.client, rotated["refresh_token"])["active"] is True


def test_introspection_of_an_unknown_or_forged_token_is_inactive(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app)
    head, body, _ = tokens["access_token"].split(".")
    assert introspect(client, request.client, f"{head}.{body}.AAAA") == {"active": False}
    assert introspect(client, request.client, "nothing-like-a-token") == {"active": False}


def test_other_clients_learn_nothing_by_introspection(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    other = register_client(app, name="Other")
    assert introspect(client, other, tokens["access_token"]) == {"active": False}
    assert introspect(client, other, tokens["refresh_token"]) == {"active": False}


def test_public_clients_cannot_introspect(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app)
    public = register_client(app, public=True)
    response = client.post(
        "/introspect", data={"token": tokens["access_token"], "client_id": public.client_id}
    )
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert "active" not in response.get_json()
    anonymous = client.post("/introspect", data={"token": tokens["access_token"]})
    assert anonymous.status_code == 401


# --- revocation (RFC 7009) --------------------------------------------------------------------------


def test_revoking_an_access_token_stops_only_that_token(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    rotated = refresh(client, request.client, tokens["refresh_token"]).get_json()
    response = revoke(client, request.client, tokens["access_token"], token_type_hint="access_token")
    assert response.status_code == 200
    assert userinfo(client, tokens["access_token"]).status_code == 401
    assert table_count(app, RevokedAccessToken) == 1
    # The grant goes on: the other access token and the refresh token still work.
    assert userinfo(client, rotated["access_token"]).status_code == 200
    assert refresh(client, request.client, rotated["refresh_token"]).status_code == 200
    # Revoking twice is harmless.
    assert revoke(client, request.client, tokens["access_token"]).status_code == 200
    assert table_count(app, RevokedAccessToken) == 1


def test_revoking_a_refresh_token_ends_its_grant(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    assert (
        revoke(client, request.client, tokens["refresh_token"], token_type_hint="refresh_token").status_code
        == 200
    )
    response = refresh(client, request.client, tokens["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert userinfo(client, tokens["access_token"]).status_code == 401


def test_a_client_cannot_revoke_another_clients_tokens(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    other = register_client(app, name="Other")
    revoke(client, other, tokens["access_token"])
    revoke(client, other, tokens["refresh_token"])
    assert userinfo(client, tokens["access_token"]).status_code == 200
    assert refresh(client, request.client, tokens["refresh_token"]).status_code == 200
    assert table_count(app, RevokedAccessToken) == 0


def test_revoking_an_unknown_token_answers_200(app, client):
    registered = register_client(app)
    assert revoke(client, registered, "no-such-token").status_code == 200


def test_a_public_client_revokes_its_own_tokens_by_client_id(app, client, users):
    app_client = register_client(app, public=True, first_party=True)
    _, request, tokens = signed_in_tokens(client, users, app, client=app_client, scope=OFFLINE)
    response = client.post(
        "/revoke", data={"token": tokens["refresh_token"], "client_id": app_client.client_id}
    )
    assert response.status_code == 200
    assert refresh(client, app_client, tokens["refresh_token"]).status_code == 400
    assert userinfo(client, tokens["access_token"]).status_code == 401


def test_revocation_needs_client_authentication(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app)
    response = client.post(
        "/revoke", data={"token": tokens["access_token"], "client_id": request.client.client_id}
    )
    assert response.status_code == 401
    assert userinfo(client, tokens["access_token"]).status_code == 200


# --- userinfo claims ---------------------------------------------------------------------------------


def _userinfo_for(app, client, users, scope: str, **profile_changes) -> tuple:
    profile = users.create(phone="+380501112233", **profile_changes)
    sign_in(client, profile.phone)
    request = AuthorizationRequest(register_client(app), scope=scope)
    tokens = exchange(client, request, authorize(client, request)["code"]).get_json()
    response = userinfo(client, tokens["access_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return profile, response.get_json()


def test_openid_alone_gives_only_the_subject(app, client, users):
    profile, claims = _userinfo_for(app, client, users, "openid")
    assert claims == {"sub": profile.subject}


def test_the_profile_scope_gives_the_name_and_language(app, client, users):
    profile, claims = _userinfo_for(app, client, users, "openid profile", locale="ru")
    assert claims["name"] == profile.full_name and "Koval" in claims["name"]
    assert claims["given_name"] == "Olena" and claims["family_name"] == "Koval"
    assert claims["locale"] == "ru" and isinstance(claims["updated_at"], int)
    assert "email" not in claims and "phone_number" not in claims


def test_the_email_scope_tells_an_unconfirmed_address(app, client, users):
    profile, claims = _userinfo_for(app, client, users, "openid email", email_verified_at=None)
    assert claims == {"sub": profile.subject, "email": profile.email, "email_verified": False}


def test_the_phone_scope_gives_the_verified_number(app, client, users):
    profile, claims = _userinfo_for(app, client, users, "openid phone")
    assert claims == {"sub": profile.subject, "phone_number": "+380501112233", "phone_number_verified": True}


def test_the_services_scope_lists_the_connected_accounts(app, client, users):
    seen = []

    def pbx_accounts(profile):
        seen.append(profile.id)
        return [{"connector": "pbx", "account": "acc-17", "role": "admin"}]

    register_service_accounts(app, pbx_accounts)
    register_service_accounts(app, lambda profile: [{"connector": "crm", "account": "c-1", "role": "viewer"}])
    profile, claims = _userinfo_for(app, client, users, "openid services")
    assert claims["services"] == [
        {"connector": "pbx", "account": "acc-17", "role": "admin"},
        {"connector": "crm", "account": "c-1", "role": "viewer"},
    ]
    assert seen == [profile.id]


def test_without_the_services_scope_no_connector_is_asked(app, client, users):
    register_service_accounts(app, lambda profile: pytest.fail("asked without the scope"))
    _, claims = _userinfo_for(app, client, users, "openid profile")
    assert "services" not in claims


def test_userinfo_refuses_missing_and_foreign_tokens(app, client, users):
    _, _, tokens = signed_in_tokens(client, users, app)
    assert client.get("/userinfo").status_code == 401
    assert client.get("/userinfo", headers=bearer("garbage")).status_code == 401
    head, body, _ = tokens["access_token"].split(".")
    assert client.get("/userinfo", headers=bearer(f"{head}.{body}.AAAA")).status_code == 401
    # An ID token is no access token (another "typ").
    assert userinfo(client, tokens["id_token"]).status_code == 401


def test_the_subject_is_stable_opaque_and_per_profile(app, client, users):
    profile, request, tokens = signed_in_tokens(client, users, app)
    again = AuthorizationRequest(request.client)
    second = exchange(client, again, authorize(client, again)["code"]).get_json()
    first_sub = _claims(client, tokens["id_token"])["sub"]
    assert first_sub == _claims(client, second["id_token"])["sub"] == profile.subject
    assert "380501112233" not in first_sub and "501112233" not in first_sub
    assert profile.email not in first_sub
    other = app.test_client()
    _, _, other_tokens = signed_in_tokens(other, users, app, client=request.client, phone="+380501112299")
    assert _claims(client, other_tokens["id_token"])["sub"] != first_sub


# --- the ID token after a second factor --------------------------------------------------------------


def test_the_id_token_tells_a_sign_in_with_an_sms_code(app, client, users, outbox):
    profile = users.create(phone="+380501112233", sms_2fa_enabled=True)
    assert sign_in(client, profile.phone, PASSWORD).location == "/signin/verify"
    assert submit(client, "/signin/verify", {"code": outbox.code(profile.phone)}).location == "/"
    request = AuthorizationRequest(register_client(app))
    tokens = exchange(client, request, authorize(client, request)["code"]).get_json()
    id_token = _claims(client, tokens["id_token"])
    assert id_token["amr"] == ["pwd", "sms", "mfa"]
    assert id_token["acr"] == "urn:business-id:acr:mfa"
    assert id_token["sub"] == profile.subject and profile.phone not in tokens["id_token"]
    access = _claims(client, tokens["access_token"])
    assert access["acr"] == "urn:business-id:acr:mfa" and access["amr"] == ["pwd", "sms", "mfa"]
    # A refresh keeps telling how the person signed in.
    with app.app_context():
        assert db.session.scalar(db.select(Grant.amr)) == "pwd sms"


def test_the_id_token_tells_a_password_only_sign_in(app, client, users):
    _, _, tokens = signed_in_tokens(client, users, app)
    id_token = _claims(client, tokens["id_token"])
    assert id_token["amr"] == ["pwd"] and id_token["acr"] == "urn:business-id:acr:password"
