"""Nothing a page shows is kept by a browser or proxy cache (ASVS V14.3)."""

from __future__ import annotations

import pytest

from tests.helpers import sign_in, submit, totp_secret


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
    from tests.helpers import PASSWORD

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
    from tests.helpers import csrf_token

    return csrf_token(client, page)
