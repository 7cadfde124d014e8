"""Several stateless instances behind HAProxy on PostgreSQL + Redis (issue 18, "Scale out").

A person signs in on one instance, finishes the code flow on a second and refreshes on a third; a
revocation, a client's deletion and a key rotation made through one hold on every other within a
second; rate limits and SMS budgets are counted once for all; two delivery workers send each
message once. Changes are made only after every instance has served the same thing, so that a
cache of clients or keys inside a process (warm by then) must be invalidated across instances for
these tests to pass.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections import Counter
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.helpers.pages import proof_challenge
from tests.parallel import at_once
from tests.peers.fixtures import SmtpServer, wait_until
from tests.scale.conftest import API_LIMIT, BIN, SMS_BUDGET, Cluster

REDIRECT_URI = "http://127.0.0.1:9/callback"  # never contacted: the code is read from the redirect
PASSWORD = "ScaleOut1" + secrets.token_hex(4)
HANDED = re.compile(r"message (\d+) \(email_test\) handed to smtp")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TIMEOUT = 30
AT_ONCE = 1.0  # seconds within which a change made through one instance holds on every other


# --- set-up through the app of this process ------------------------------------------------


def new_phone() -> str:
    return "+38067" + "".join(secrets.choice("0123456789") for _ in range(7))


@pytest.fixture(scope="module")
def person(cluster: Cluster) -> str:
    """The phone number of a profile (password PASSWORD)."""
    from idp.extensions import db
    from idp.profiles.services import create_profile

    phone = new_phone()
    with cluster.app.app_context():
        create_profile(
            phone, f"scale-{secrets.token_hex(4)}@example.com", "Scale", "Out", PASSWORD, "en", True
        )
        db.session.commit()
    return phone


def register_client(cluster: Cluster, **options) -> tuple[str, str]:
    """(client id, secret) of a new confidential first-party client."""
    from idp.oauth.clients import create_client

    options.setdefault("first_party", True)
    with cluster.app.app_context():
        registered = create_client(
            "Scale out " + secrets.token_hex(3), options.pop("uris", [REDIRECT_URI]), **options
        )
        return registered.client.client_id, registered.secret


@pytest.fixture(scope="module")
def relying_party(cluster: Cluster) -> tuple[str, str]:
    return register_client(cluster, scope="openid profile phone offline_access")


# --- over HTTP ------------------------------------------------------------------------------


def form_token(browser: requests.Session, url: str) -> str:
    page = browser.get(url, timeout=TIMEOUT)
    found = CSRF.search(page.text)
    assert found, f"no form on {url} ({page.status_code})"
    return found.group(1)


def sign_in(base: str, phone: str) -> requests.Session:
    browser = requests.Session()
    answer = browser.post(
        base + "/signin",
        data={"csrf_token": form_token(browser, base + "/signin"), "identifier": phone, "password": PASSWORD},
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/", answer.status_code
    return browser


def authorize(base: str, browser: requests.Session, client_id: str) -> tuple[str, str, str]:
    """Run /authorize with PKCE for the signed-in ``browser``; return (code, verifier, nonce)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    nonce = secrets.token_urlsafe(8)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile offline_access",
            "state": secrets.token_urlsafe(8),
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    answer = browser.get(f"{base}/authorize?{query}", timeout=TIMEOUT, allow_redirects=False)
    location = answer.headers.get("Location", "")
    assert answer.status_code == 302 and location.startswith(REDIRECT_URI), (answer.status_code, location)
    return parse_qs(urlsplit(location).query)["code"][0], verifier, nonce


def token(base: str, client: tuple[str, str], **data: str) -> requests.Response:
    return requests.post(base + "/token", auth=client, data=data, timeout=TIMEOUT)


def code_flow(cluster: Cluster, phone: str, client: tuple[str, str]) -> dict:
    """Tokens of a code flow run through HAProxy."""
    browser = sign_in(cluster.proxy, phone)
    code, verifier, _nonce = authorize(cluster.proxy, browser, client[0])
    answer = token(
        cluster.proxy,
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def introspect(base: str, client: tuple[str, str], value: str) -> dict:
    answer = requests.post(base + "/introspect", auth=client, data={"token": value}, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()


def verified_claims(value: str, base: str) -> dict:
    """The claims of a JWT verified with the JWKS ``base`` publishes."""
    keys = KeySet.import_key_set(requests.get(base + "/jwks.json", timeout=TIMEOUT).json())
    return jwt.decode(value, keys).claims


def key_id(value: str) -> str:
    header = value.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def seconds_until(holds, limit: float = 10) -> float:
    """Poll ``holds()`` until it is true; return how long that took (fail past ``limit``)."""
    started = time.monotonic()
    while not holds():
        elapsed = time.monotonic() - started
        assert elapsed < limit, f"still not so after {limit} s"
        time.sleep(0.02)
    return time.monotonic() - started


# --- the journeys ---------------------------------------------------------------------------


def test_a_sign_in_on_one_instance_is_finished_on_another_and_refreshed_on_a_third(
    cluster, person, relying_party
):
    first, second, third = cluster.instances
    browser = sign_in(first, person)
    code, verifier, nonce = authorize(second, browser, relying_party[0])
    issued = token(
        second,
        relying_party,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )
    assert issued.status_code == 200, issued.text
    refreshed = token(
        third, relying_party, grant_type="refresh_token", refresh_token=issued.json()["refresh_token"]
    )
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()

    for base in [*cluster.instances, cluster.proxy]:
        claims = verified_claims(issued.json()["id_token"], base)
        assert (claims["iss"], claims["nonce"]) == (cluster.proxy, nonce)
        userinfo = requests.get(
            base + "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=TIMEOUT
        )
        assert userinfo.status_code == 200 and userinfo.json()["sub"] == claims["sub"]
        assert introspect(base, relying_party, tokens["refresh_token"])["active"] is True
        assert requests.get(base + "/.well-known/openid-configuration", timeout=TIMEOUT).json()["issuer"] == (
            cluster.proxy
        )


def test_a_revoked_refresh_token_is_refused_by_every_instance_within_a_second(cluster, person, relying_party):
    tokens = code_flow(cluster, person, relying_party)
    first, *others = cluster.instances
    for base in cluster.instances:  # every instance has served these tokens before the change
        assert introspect(base, relying_party, tokens["access_token"])["active"] is True

    revoked = requests.post(
        first + "/revoke", auth=relying_party, data={"token": tokens["refresh_token"]}, timeout=TIMEOUT
    )
    assert revoked.status_code == 200
    for base in others:
        took = seconds_until(
            lambda base=base: not introspect(base, relying_party, tokens["access_token"])["active"]
        )
        assert took < AT_ONCE, f"{base} still accepted the revoked grant's access token {took:.2f} s later"
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert requests.get(base + "/userinfo", headers=bearer, timeout=TIMEOUT).status_code == 401
        refused = token(
            base, relying_party, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_a_client_deleted_through_the_command_is_refused_by_every_instance_within_a_second(cluster):
    client = register_client(cluster, uris=[], grant_types=["client_credentials"], scope="orgs:read")
    for base in cluster.instances:
        assert token(base, client, grant_type="client_credentials", scope="orgs:read").status_code == 200

    cluster.idp("clients", "delete", client[0], "--yes")
    for base in cluster.instances:
        took = seconds_until(
            lambda base=base: (
                token(base, client, grant_type="client_credentials", scope="orgs:read").status_code == 401
            )
        )
        assert took < AT_ONCE, f"{base} still served the deleted client {took:.2f} s later"


def test_after_a_key_rotation_every_instance_signs_with_the_new_key_within_a_second(cluster):
    client = register_client(cluster, uris=[], grant_types=["client_credentials"], scope="orgs:read")

    def signed_by(base: str) -> str:
        answer = token(base, client, grant_type="client_credentials", scope="orgs:read")
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    before = {key_id(signed_by(base)) for base in cluster.instances}
    for base in cluster.instances:
        requests.get(base + "/jwks.json", timeout=TIMEOUT).raise_for_status()
    assert len(before) == 1

    printed = cluster.idp("keys", "rotate")
    new_kid = re.search(r"now signing with (\S+);", printed).group(1)
    assert new_kid not in before
    for base in cluster.instances:
        took = seconds_until(lambda base=base: key_id(signed_by(base)) == new_kid)
        assert took < AT_ONCE, f"{base} still signed with the old key {took:.2f} s after the rotation"
        fresh = signed_by(base)
        for verifier in cluster.instances:
            assert verified_claims(fresh, verifier)["client_id"] == client[0]


def test_the_api_limit_of_a_client_is_counted_once_over_all_instances(cluster):
    client = register_client(cluster, uris=[], grant_types=["client_credentials"], scope="orgs:read")
    issued = token(cluster.proxy, client, grant_type="client_credentials", scope="orgs:read")
    bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}

    def call(n: int) -> int:
        base = cluster.instances[n % len(cluster.instances)]
        return requests.get(base + "/api/v1/organisations", headers=bearer, timeout=TIMEOUT).status_code

    statuses = Counter(at_once(API_LIMIT + 1, call))
    assert statuses == {200: API_LIMIT, 429: 1}


def test_the_sms_budget_of_a_number_holds_over_all_instances(cluster):
    from idp.delivery.models import Message
    from idp.extensions import db

    phone = new_phone()
    count = SMS_BUDGET + 2
    browsers = [requests.Session() for _ in range(count)]
    # Each browser gets its form from one instance and sends it to the next (sessions are shared).
    tokens = [form_token(b, cluster.instances[n % 3] + "/register") for n, b in enumerate(browsers)]

    def start(n: int) -> requests.Response:
        base = cluster.instances[(n + 1) % 3]
        return browsers[n].post(
            base + "/register",
            data={"csrf_token": tokens[n], "phone": phone},
            allow_redirects=False,
            timeout=TIMEOUT,
        )

    answers = at_once(count, start)
    sent = [a for a in answers if a.status_code == 302 and a.headers["Location"] == "/register/code"]
    asked = [a for a in answers if a.status_code == 200 and proof_challenge(a.text)]
    assert (len(sent), len(asked)) == (SMS_BUDGET, count - SMS_BUDGET), [a.status_code for a in answers]
    with cluster.app.app_context():
        sms = db.session.scalars(
            db.select(Message).where(Message.recipient == phone, Message.channel == "sms")
        )
        assert len(list(sms)) == SMS_BUDGET


def test_two_delivery_workers_send_each_message_exactly_once(cluster, tmp_path):
    from idp import create_app
    from idp.config import load_config
    from idp.delivery.models import SENT, Message
    from idp.delivery.services import send
    from idp.extensions import db

    smtp = SmtpServer()
    smtp.start()
    mail = {
        "IDP_MAIL_TRANSPORT": "smtp",
        "IDP_MAIL_SERVER": "127.0.0.1",
        "IDP_MAIL_PORT": str(smtp.port),
        "IDP_MAIL_SENDER": "Business ID <id@example.com>",
    }
    app = create_app(load_config({**cluster.env, **mail}))
    workers = [
        cluster.start(f"worker{n}", [str(BIN / "idp"), "worker"], IDP_LOG_LEVEL="INFO", **mail)
        for n in (1, 2)
    ]
    try:
        for worker in workers:
            wait_until(lambda worker=worker: "delivery worker" in worker.output(), timeout=60, step=0.1)
        run = secrets.token_hex(4)
        recipients = [f"scale-{run}-{n}@example.com" for n in range(40)]
        with app.app_context():
            ids = [send("email_test", address, "en").id for address in recipients]

            def all_sent() -> bool:
                db.session.expire_all()
                rows = db.session.scalars(db.select(Message).where(Message.id.in_(ids))).all()
                return all(row.state == SENT for row in rows)

            wait_until(all_sent, timeout=60, step=0.1)
    finally:
        for worker in workers:
            worker.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    received = Counter(m["To"] for m in smtp.messages)
    smtp.close()
    assert {address: received[address] for address in recipients} == dict.fromkeys(recipients, 1)
    # Each worker logs what it hands over: every message by one of the two, once.
    handed = Counter(int(found) for worker in workers for found in HANDED.findall(worker.output()))
    assert handed == Counter(ids)
