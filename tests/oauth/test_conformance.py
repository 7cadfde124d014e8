"""OpenID Connect and OAuth to the letter: what an independent conformance probe checks.

Each test is one point of the specifications that the provider once got wrong: a denial that still
gave a code, a form-encoded authorization request refused as an expired form, request objects
silently ignored, RS256 missing from discovery, RFC 6750's challenge without a token, HTML errors
on protocol endpoints, a junk ``max_age`` ignored, and unhandled errors on odd characters.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.oauth.models import AuthorizationCode, Consent
from tests.helpers.pages import csrf_token, sign_in
from tests.helpers.records import PASSWORD
from tests.oauth.helpers import (
    AuthorizationRequest,
    authorize,
    exchange,
    query_of,
    register_client,
    table_count,
)

PHONE = "+380501112233"


@pytest.fixture
def signed_in(client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE, PASSWORD)


def _redirect_query(response, request: AuthorizationRequest) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].startswith(request.client.redirect_uri)
    return query_of(response.headers["Location"])


def test_deny_on_a_prompt_consent_page_is_access_denied_even_after_an_earlier_consent(app, client, signed_in):
    registered = register_client(app, first_party=False)
    authorize(client, AuthorizationRequest(registered))  # consent stored
    request = AuthorizationRequest(registered, extra={"prompt": "consent"})
    page = client.get(request.url).get_data(as_text=True)
    action = unescape(re.search(r'<form method="post" action="(/authorize[^"]+)"', page).group(1))
    codes_before = table_count(app, AuthorizationCode)
    response = client.post(action, data={"csrf_token": csrf_token(client, request.url), "decision": "deny"})
    query = _redirect_query(response, request)
    assert query["error"] == "access_denied" and "code" not in query
    assert table_count(app, AuthorizationCode) == codes_before


def test_a_form_encoded_authorization_request_is_a_protocol_request(app, client, signed_in):
    request = AuthorizationRequest(register_client(app))
    fields = dict(query_of(request.url))
    response = client.post("/authorize", data=fields)  # no CSRF token: not a form of ours
    query = _redirect_query(response, request)
    assert query["code"] and query["state"] == request.state
    assert "access_token" in exchange(client, request, query["code"]).get_json()


def test_the_consent_form_still_needs_its_csrf_token(app, client, signed_in):
    request = AuthorizationRequest(register_client(app, first_party=False))
    response = client.post(request.url, data={"decision": "allow"})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert table_count(app, Consent) == 0 and table_count(app, AuthorizationCode) == 0


@pytest.mark.parametrize(
    ("parameter", "error"),
    [("request", "request_not_supported"), ("request_uri", "request_uri_not_supported")],
)
def test_request_objects_are_refused_as_not_supported(app, client, signed_in, parameter, error):
    request = AuthorizationRequest(register_client(app), extra={parameter: "eyJhbGciOiJub25lIn0.e30."})
    query = _redirect_query(client.get(request.url), request)
    assert query["error"] == error and "code" not in query


def test_discovery_lists_rs256_and_a_client_registered_for_it_gets_rs256_id_tokens(app, client, signed_in):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["id_token_signing_alg_values_supported"][0] == "ES256"
    assert "RS256" in metadata["id_token_signing_alg_values_supported"]
    for alg in ("RS256", None):
        request = AuthorizationRequest(register_client(app, id_token_alg=alg))
        tokens = exchange(client, request, authorize(client, request)["code"]).get_json()
        keys = KeySet.import_key_set(client.get("/jwks.json").get_json())
        decoded = jwt.decode(tokens["id_token"], keys, algorithms=["ES256", "RS256"])
        assert decoded.header["alg"] == (alg or "ES256")
        assert decoded.claims["aud"] == request.client.client_id


def test_clients_create_takes_the_id_token_algorithm(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "clients",
            "create",
            "--name",
            "Legacy RP",
            "--redirect-uri",
            "https://legacy.example/cb",
            "--id-token-alg",
            "RS256",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    assert '"id_token_signed_response_alg": "RS256"' in result.output
    refused = runner.invoke(
        args=[
            "clients",
            "create",
            "--name",
            "X",
            "--redirect-uri",
            "https://x.example/cb",
            "--id-token-alg",
            "HS256",
        ]
    )
    assert refused.exit_code != 0


def test_userinfo_without_a_token_answers_the_bare_bearer_challenge(client):
    response = client.get("/userinfo")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="http://127.0.0.1:5000"'
    assert b"missing_authorization" not in response.data
    basic = client.get("/userinfo", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401 and "error=" not in basic.headers["WWW-Authenticate"]


def test_userinfo_with_an_empty_bearer_token_is_an_invalid_request(client):
    response = client.get("/userinfo", headers={"Authorization": "Bearer "})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_userinfo_with_a_bad_token_answers_invalid_token(client):
    response = client.get("/userinfo", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/token"),
        ("PUT", "/userinfo"),
        ("DELETE", "/introspect"),
        ("GET", "/revoke"),
        ("POST", "/jwks.json"),
        ("POST", "/.well-known/openid-configuration"),
    ],
)
def test_protocol_endpoints_answer_errors_in_json(client, method, path):
    response = client.open(path, method=method, headers={"Accept-Language": "uk"})
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == "invalid_request"
    assert response.headers["Allow"]


def test_pages_still_answer_errors_as_pages(client):
    response = client.put("/signin")
    assert response.status_code == 405 and response.mimetype == "text/html"


@pytest.mark.parametrize("max_age", ["abc", "-1", "1.5", "", "１０", "9" * 40])
def test_a_max_age_that_is_no_number_of_seconds_is_an_invalid_request(app, client, signed_in, max_age):
    request = AuthorizationRequest(register_client(app), extra={"max_age": max_age})
    query = _redirect_query(client.get(request.url), request)
    assert query["error"] == "invalid_request" and "code" not in query


@pytest.mark.parametrize(
    "redirect_uri",
    [
        'https://rp.example/callback"',
        "https://rp.example/c\\b",
        "https://rp.example/callback\n",
        "https://rp.example/cé",
        "https://rp.example/" + "x" * 3000,
    ],
)
def test_an_odd_redirect_uri_is_refused_on_a_page(app, client, signed_in, redirect_uri):
    registered = register_client(app)
    request = AuthorizationRequest(registered)
    url = request.url.replace(
        "redirect_uri=https%3A%2F%2Frp.example%2Fcallback", "redirect_uri=" + _quote(redirect_uri)
    )
    response = client.get(url)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "characters that are not allowed" in response.get_data(as_text=True)


@pytest.mark.parametrize("response_type", ["cödé", 'code"', "code\\"])
def test_an_odd_response_type_is_refused_on_a_page(app, client, signed_in, response_type):
    request = AuthorizationRequest(register_client(app))
    url = request.url.replace("response_type=code", "response_type=" + _quote(response_type))
    response = client.get(url)
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/token", {"grant_type": "client_credentials", "client_id": "a\x00b"}),
        ("/introspect", {"token": "x", "client_id": "a\x00"}),
        ("/revoke", {"token": "x\x00", "client_id": "a\x00"}),
    ],
)
def test_a_nul_character_at_a_protocol_endpoint_is_an_invalid_request(client, path, data):
    response = client.post(path, data=data)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "url", ["/authorize?client_id=a%00b&response_type=code", "/logout?client_id=a%00b", "/signin?next=%00"]
)
def test_a_nul_character_on_a_page_is_a_bad_request(client, url):
    response = client.get(url)
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_a_nul_character_in_the_sign_in_identifier_is_a_bad_request(client):
    token = csrf_token(client, "/signin")
    response = client.post(
        "/signin", data={"csrf_token": token, "identifier": "+38050\x001112233", "password": PASSWORD}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect"])
@pytest.mark.parametrize("header", ["Bearer ", "Basic", "Basic  "])
def test_an_authorization_header_without_credentials_is_no_client(client, path, header):
    response = client.post(
        path, data={"grant_type": "client_credentials", "token": "x"}, headers={"Authorization": header}
    )
    assert response.status_code in (400, 401) and response.get_json()["error"] in (
        "invalid_client",
        "invalid_request",
    )


def test_a_nul_character_in_basic_credentials_finds_no_client(client):
    import base64

    header = "Basic " + base64.b64encode(b"client\x00id:secret").decode()
    response = client.post(
        "/token", data={"grant_type": "client_credentials"}, headers={"Authorization": header}
    )
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
