"""The shared parts go away under a running server: nothing answers 500, and all is well after.

Redis (rate limits, SMS budgets) is a server of the test's own, stopped and started again; the
database is PostgreSQL behind a loopback proxy the test takes away and brings back.
"""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.helpers.records import PASSWORD
from tests.peers.fixtures import TcpProxy, wait_until

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def post_form(http: requests.Session, base: str, path: str, data: dict, **kwargs):
    """Open ``path`` and send its form with the CSRF token it carries."""
    page = http.get(base + path)
    token = CSRF.search(page.text).group(1)
    return http.post(base + path, data={"csrf_token": token, **data}, allow_redirects=False, **kwargs)


def sign_in(base: str, phone: str) -> requests.Response:
    return post_form(requests.Session(), base, "/signin", {"identifier": phone, "password": PASSWORD})


@pytest.fixture
def redis_settings(settings, redis_server):
    settings["IDP_REDIS_URL"] = redis_server.url
    settings["RATELIMIT_STORAGE_OPTIONS"] = {"key_prefix": f"outage-{redis_server.port}"}
    return redis_server


@pytest.mark.idp_settings(IDP_SIGNIN_LIMIT_IP="4/minute")
def test_a_redis_outage_does_not_stop_sign_ins_and_budgets_fail_closed(
    redis_settings, live_server, users, outbox
):
    redis = redis_settings
    profile = users.create()
    assert sign_in(live_server, profile.phone).headers["Location"] == "/"
    redis.stop()

    # Signing in goes on, limited in each instance's memory meanwhile.
    assert sign_in(live_server, profile.phone).headers["Location"] == "/"
    answers = [sign_in(live_server, profile.phone).status_code for _ in range(4)]
    assert 500 not in answers and answers[-1] == 429
    # No SMS leaves while its budgets cannot be counted: a clear answer, nothing sent.
    refused = post_form(
        requests.Session(),
        live_server,
        "/register",
        {"phone": "+380671112299"},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 200
    assert "We cannot send SMS right now. Try again in a few minutes." in refused.text
    assert outbox.messages("+380671112299") == []

    redis.start()
    registered = wait_until(
        lambda: (
            post_form(requests.Session(), live_server, "/register", {"phone": "+380671112299"}).status_code
            == 302
        )
    )
    assert registered and len(outbox.messages("+380671112299")) == 1

    def shared_limits_back() -> bool:
        sign_in(live_server, "+380501234567")  # an unknown number: a limited POST all the same
        return redis.keys() > 0

    wait_until(shared_limits_back, timeout=20, step=0.5)


@pytest.fixture
def database_proxy(settings, backend):
    """PostgreSQL behind a proxy the test can take away; the app's URL goes through it."""
    if backend != "postgresql":
        pytest.skip("a database server to take away: PostgreSQL")
    from urllib.parse import urlsplit

    url = settings["IDP_DATABASE_URL"]
    parts = urlsplit(url)
    proxy = TcpProxy(parts.port or 5432)
    proxy.start()
    settings["IDP_DATABASE_URL"] = url.replace(
        parts.netloc, parts.netloc.replace(f":{parts.port or 5432}", f":{proxy.port}")
    )
    yield proxy
    proxy.close()


def test_a_database_outage_answers_503_then_the_next_request_works(database_proxy, live_server, users, app):
    from tests.oauth.helpers import register_client

    profile = users.create()
    client = register_client(app, grant_types=["client_credentials"], scope="pbx.read")
    browser = requests.Session()
    assert (
        post_form(
            browser, live_server, "/signin", {"identifier": profile.phone, "password": PASSWORD}
        ).status_code
        == 302
    )
    database_proxy.stop()

    page = browser.get(live_server + "/security", headers={"Accept-Language": "uk"})
    assert page.status_code == 503 and page.headers["Retry-After"]
    assert "text/html" in page.headers["Content-Type"] and "Traceback" not in page.text
    assert "The service is briefly unavailable" not in page.text  # in Ukrainian
    # The sign-in page needs nothing stored; signing in does, and says it cannot now.
    anonymous = post_form(
        requests.Session(), live_server, "/signin", {"identifier": profile.phone, "password": PASSWORD}
    )
    assert anonymous.status_code == 503 and "Traceback" not in anonymous.text
    token = requests.post(
        live_server + "/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.secret),
        timeout=30,
    )
    assert token.status_code == 503 and token.headers["Retry-After"]
    assert token.json()["error"] == "temporarily_unavailable"

    database_proxy.start()
    deadline = time.monotonic() + 10
    while browser.get(live_server + "/security").status_code != 200:
        assert time.monotonic() < deadline, "the database came back but the pages did not"
    assert (
        requests.post(
            live_server + "/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.secret),
            timeout=30,
        ).status_code
        == 200
    )
