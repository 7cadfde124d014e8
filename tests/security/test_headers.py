"""Security headers on every page, error pages that never show a stack trace, and nothing a page
shows kept by a browser or proxy cache (ASVS V14.3)."""

from __future__ import annotations

import pytest

from tests.helpers.pages import sign_in, submit, totp_secret


@pytest.fixture
def signed_in(client, users):
    sign_in(client, users.create().phone)
    return client


@pytest.mark.parametrize(
    "page", ["/", "/security", "/security/totp", "/security/password", "/security/recovery-codes"]
)
def test_the_profile_s_pages_are_not_stored(signed_in, page):
    response = signed_in.get(page)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_the_recovery_codes_page_is_not_stored(signed_in):
    from tests.helpers.records import PASSWORD

    page = signed_in.post(
        "/security/recovery-codes",
        data={"csrf_token": _token(signed_in, "/security/recovery-codes"), "current_password": PASSWORD},
    )
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"


def test_the_totp_secret_page_is_not_stored(signed_in):
    assert totp_secret(signed_in)
    assert signed_in.get("/security/totp").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("page", ["/signin", "/register", "/recover"])
def test_sign_in_and_registration_pages_are_not_stored(client, page):
    assert client.get(page).headers["Cache-Control"] == "no-store"


def test_public_documents_keep_their_own_cache_headers(client):
    assert "max-age=300" in client.get("/.well-known/openid-configuration").headers["Cache-Control"]
    assert "max-age=300" in client.get("/jwks.json").headers["Cache-Control"]
    assert client.get("/static/app.css").headers.get("Cache-Control") != "no-store"


def test_a_redirect_is_not_stored_either(client):
    response = submit(client, "/register", {"phone": "+380671112233"})
    assert response.status == 302


def _token(client, page: str) -> str:
    from tests.helpers.pages import csrf_token

    return csrf_token(client, page)


PAGES = ["/signin", "/register", "/recover", "/offer", "/security", "/"]


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = [part.strip().split() for part in policy.split(";") if part.strip()]
    return {name: values for name, *values in directives}


def _assert_security_headers(response) -> None:
    csp = _csp(response)
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts == ["'self'"], scripts
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in (
        "same-origin",
        "strict-origin-when-cross-origin",
        "no-referrer",
    )


def test_pages_carry_the_security_headers(client, subtests):
    for page in PAGES:
        with subtests.test(page=page):
            _assert_security_headers(client.get(page))


def test_signed_in_pages_carry_the_security_headers(client, users):
    sign_in(client, users.create().phone)
    for page in ("/", "/security", "/security/password", "/security/totp"):
        response = client.get(page)
        assert response.status_code == 200
        _assert_security_headers(response)


def test_pages_have_no_inline_script(client, users):
    sign_in(client, users.create().phone)
    for page in ("/", "/security", "/security/totp", "/offer"):
        text = client.get(page).get_data(as_text=True)
        assert "<script>" not in text and "onclick=" not in text and "javascript:" not in text


ERRORS = [
    ("get", "/no/such/page", 404, "Page not found"),
    ("get", "/email/confirm/", 404, "Page not found"),
    ("put", "/signin", 405, "Not allowed"),
    ("get", "/signout", 405, "Not allowed"),
    ("post", "/signin", 400, "The form has expired"),
    ("get", "/sms/status/nothing", 404, "Page not found"),
]


def test_error_pages_are_friendly_and_never_show_a_traceback(client, subtests):
    for method, path, status, title in ERRORS:
        with subtests.test(method=method, path=path):
            response = getattr(client, method)(path)
            text = response.get_data(as_text=True)
            assert response.status_code == status
            assert title in text
            assert "Traceback" not in text and "werkzeug" not in text.lower()
            assert '<html lang="en">' in text  # in the layout, in the visitor's language
            _assert_security_headers(response)


def test_a_too_large_request_gets_an_error_page(client):
    response = client.post("/signin", data={"identifier": "x" * 70_000})
    assert response.status_code in (400, 413)
    assert "Traceback" not in response.get_data(as_text=True)


def test_pages_with_personal_data_are_not_cached_by_shared_caches(client, users):
    sign_in(client, users.create().phone)
    response = client.get("/security")
    assert "Cookie" in response.headers.get("Vary", "")
