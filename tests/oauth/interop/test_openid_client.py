"""openid-client (Node, OpenID Certified) as the relying party, against the provider on loopback.

``tests/peers/openid-client/rp.mjs`` does discovery, builds the authorization URL (PKCE S256,
state, nonce), and after the browser part, which this test plays with ``requests``, exchanges the
code, validates the ID token, calls userinfo, refreshes, revokes, and builds the logout URL. It needs
``npm ci`` in ``tests/peers/openid-client`` (``make test`` runs it).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.oauth.helpers import register_client
from tests.oauth.interop.browser import is_loopback, query_of

PEER = Path(__file__).resolve().parents[2] / "peers" / "openid-client"
REDIRECT_URI = "http://127.0.0.1/openid-client/callback"  # loopback; never followed
SIGNED_OUT_URI = "http://127.0.0.1/openid-client/signed-out"
PHONE = "+380501112233"
TIMEOUT = 60  # seconds a run of rp.mjs may take at most


class RelyingParty:
    """The rp.mjs process: JSON lines on stdout, the callback URL on stdin."""

    def __init__(self, issuer: str, client_id: str, secret: str, scope: str):
        if not (PEER / "node_modules" / "openid-client").exists():
            pytest.fail("openid-client is not installed: run `npm ci` in tests/peers/openid-client")
        env = {**os.environ, "CLIENT_SECRET": secret, "SCOPE": scope}
        self.process = subprocess.Popen(
            ["node", str(PEER / "rp.mjs"), issuer, client_id, REDIRECT_URI, SIGNED_OUT_URI],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        # A hung peer must not hang the suite: reading its stdout ends when the process is killed.
        self.watchdog = threading.Timer(TIMEOUT, self.process.kill)
        self.watchdog.start()

    def read(self, step: str) -> dict:
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(10)
            raise AssertionError(f"rp.mjs ended ({self.process.returncode}): {self.process.stderr.read()}")
        message = json.loads(line)
        assert message["step"] == step, message
        return message

    def send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def close(self) -> int:
        try:
            return self.process.wait(TIMEOUT)
        finally:
            self.watchdog.cancel()
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                stream.close()

    def kill(self) -> None:
        self.watchdog.cancel()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def node_rp():
    started: list[RelyingParty] = []

    def start(*args, **kwargs) -> RelyingParty:
        started.append(RelyingParty(*args, **kwargs))
        return started[-1]

    yield start
    for rp in started:
        rp.kill()


def test_openid_client_signs_in_with_the_code_flow_and_pkce(issuer, app, users, browser, node_rp):
    profile = users.create(phone=PHONE)
    client = register_client(
        app, redirect_uris=[REDIRECT_URI], first_party=False, post_logout_redirect_uris=[SIGNED_OUT_URI]
    )
    rp = node_rp(issuer, client.client_id, client.secret, scope="openid profile email phone")

    start = rp.read("authorize")
    url = start["url"]
    assert url.startswith(issuer + "/authorize?") and is_loopback(url)
    asked = query_of(url)
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["state"] == start["state"] and asked["nonce"] == start["nonce"]
    assert asked["client_id"] == client.client_id and asked["redirect_uri"] == REDIRECT_URI

    callback = browser.visit(url, until=REDIRECT_URI, identifier=PHONE)
    assert browser.answered == ["signin", "consent"]
    assert query_of(callback)["iss"] == issuer  # openid-client checks it too (RFC 9207)
    rp.send(callback)
    done = rp.read("done")
    assert rp.close() == 0

    # The ID token as openid-client validated it: signature (ES256, JWKS), iss, aud, exp, nonce.
    claims = done["id_token_claims"]
    assert claims["iss"] == issuer
    assert claims["aud"] == client.client_id
    assert claims["sub"] == profile.subject
    assert claims["nonce"] == start["nonce"]
    assert claims["amr"] == ["pwd"] and claims["sid"]
    assert done["token_type"].lower() == "bearer"

    info = done["userinfo"]
    assert info["sub"] == profile.subject
    assert info["email"] == profile.email and info["email_verified"] is True
    assert info["phone_number"] == PHONE and info["phone_number_verified"] is True
    assert info["given_name"] == "Olena" and info["family_name"] == "Koval"

    # Refresh rotated the refresh token; the new access token works at userinfo. A refresh response
    # need not carry an ID token (OpenID Connect Core §12.2); if it does, it is about the same sub.
    assert done["rotated"] is True
    assert done["refreshed_userinfo"]["sub"] == profile.subject
    assert done["refreshed_claims"] is None or done["refreshed_claims"]["sub"] == profile.subject

    # After RFC 7009 revocation of the refresh token, its grant's access token and the refresh
    # token itself are refused.
    revoked = done["after_revocation"]
    assert revoked["userinfo"]["refused"] is True and revoked["userinfo"]["status"] == 401, revoked
    assert revoked["refresh"]["refused"] is True and revoked["refresh"]["error"] == "invalid_grant", revoked

    # RP-initiated logout with the URL openid-client built (id_token_hint, post_logout_redirect_uri,
    # state): the browser is signed out at once and sent back with the state.
    logout = done["end_session_url"]
    assert logout.startswith(issuer + "/logout?")
    assert browser.signed_in(issuer)
    response = browser.get(logout)
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    assert location.split("?")[0] == SIGNED_OUT_URI
    assert query_of(location)["state"] == start["state"]
    assert not browser.signed_in(issuer)


def test_openid_client_refuses_a_callback_from_another_issuer(issuer, app, users, browser, node_rp):
    """The `iss` of the authorization response (RFC 9207) is what keeps a mix-up attack out."""
    users.create(phone=PHONE)
    client = register_client(app, redirect_uris=[REDIRECT_URI], post_logout_redirect_uris=[SIGNED_OUT_URI])
    rp = node_rp(issuer, client.client_id, client.secret, scope="openid")
    callback = browser.visit(rp.read("authorize")["url"], until=REDIRECT_URI, identifier=PHONE)
    rp.send(callback.replace(quote(issuer, safe=""), quote("http://127.0.0.1:9", safe="")))
    error = rp.read("error")
    assert rp.close() == 1
    assert error["code"] == "OAUTH_INVALID_RESPONSE", error
    assert '"iss"' in error["cause"]["message"], error  # unexpected "iss" (issuer) response parameter
