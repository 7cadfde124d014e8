"""Signing out of relying services: RP-initiated logout (/logout) and back-channel logout notices
delivered by the delivery worker to a real HTTP endpoint."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.delivery.models import FAILED, QUEUED, SENT, Message
from idp.extensions import db
from idp.oauth.models import Grant
from idp.security.crypto import decrypt
from idp.sessions.models import WebSession
from tests.delivery.worker_helpers import work_until
from tests.helpers.pages import csrf_token, is_signed_in, sign_in, submit
from tests.helpers.records import PASSWORD
from tests.oauth.helpers import (
    AuthorizationRequest,
    authorize,
    exchange,
    refresh,
    register_client,
    userinfo,
)

ISSUER = "http://127.0.0.1:5000"
PHONE = "+380501112233"
SIGNED_OUT = "https://rp.example/signed-out"
EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _keys(client) -> KeySet:
    return KeySet.import_key_set(client.get("/jwks.json").get_json())


def _tokens(client, registered, scope: str = "openid profile") -> dict:
    request = AuthorizationRequest(registered, scope=scope)
    response = exchange(client, request, authorize(client, request)["code"])
    assert response.status_code == 200
    return response.get_json()


def _sid(client, tokens: dict) -> str:
    return jwt.decode(tokens["id_token"], _keys(client), algorithms=["ES256", "RS256"]).claims["sid"]


def _logout(client, **params):
    return client.get("/logout?" + urlencode(params))


def _ended(app, sid: str) -> bool:
    with app.app_context():
        return db.session.scalar(db.select(WebSession.ended_at).where(WebSession.sid == sid)) is not None


# --- RP-initiated logout ----------------------------------------------------------------------------


def test_logout_with_an_id_token_hint_signs_out_and_returns_with_state(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    registered = register_client(app)
    tokens = _tokens(client, registered)
    response = _logout(
        client, id_token_hint=tokens["id_token"], post_logout_redirect_uri=SIGNED_OUT, state="bye-42"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == SIGNED_OUT + "?state=bye-42"
    assert not is_signed_in(client)
    assert _ended(app, _sid(client, tokens))
    # The online grant of that session ended with it.
    assert userinfo(client, tokens["access_token"]).status_code == 401
    assert refresh(client, registered, tokens["refresh_token"]).status_code == 400


def test_logout_with_client_id_and_hint_of_that_client_works(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    registered = register_client(app)
    tokens = _tokens(client, registered)
    response = _logout(
        client,
        id_token_hint=tokens["id_token"],
        client_id=registered.client_id,
        post_logout_redirect_uri=SIGNED_OUT,
    )
    assert response.headers["Location"] == SIGNED_OUT
    assert not is_signed_in(client)


def test_logout_never_redirects_to_an_unregistered_address(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    tokens = _tokens(client, register_client(app))
    for target in (
        "https://attacker.example/",
        SIGNED_OUT + "/",
        SIGNED_OUT + "?x=1",
        "https://rp.example/callback",
    ):
        response = _logout(
            client, id_token_hint=tokens["id_token"], post_logout_redirect_uri=target, state="s"
        )
        assert response.status_code in (200, 400), target
        assert "Location" not in response.headers
        assert 'href="https://attacker.example' not in response.get_data(as_text=True)
        sign_in(client, PHONE)


def test_logout_with_another_clients_address_does_not_redirect(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    tokens = _tokens(client, register_client(app))
    other = register_client(app, name="Other", post_logout_redirect_uris=["https://other.example/bye"])
    response = _logout(
        client, id_token_hint=tokens["id_token"], post_logout_redirect_uri="https://other.example/bye"
    )
    assert response.status_code == 200 and "Location" not in response.headers
    assert not is_signed_in(client)  # the hint was valid: signed out, just not sent anywhere
    sign_in(client, PHONE)
    tokens = _tokens(client, register_client(app, name="Third"))
    # client_id of another client than the token's audience is an error, never a redirect.
    response = _logout(
        client,
        id_token_hint=tokens["id_token"],
        client_id=other.client_id,
        post_logout_redirect_uri="https://other.example/bye",
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert is_signed_in(client)


def test_logout_without_a_hint_asks_first(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    registered = register_client(app)
    url = "/logout?" + urlencode(
        {"client_id": registered.client_id, "post_logout_redirect_uri": SIGNED_OUT, "state": "st"}
    )
    response = client.get(url)
    assert response.status_code == 200
    assert "Sign out of Business ID?" in response.get_data(as_text=True)
    assert is_signed_in(client)  # asking signs nobody out

    # Without the form's CSRF token nothing happens.
    assert client.post("/logout/confirm").status_code in (302, 400)
    assert is_signed_in(client)

    client.get(url)
    response = client.post("/logout/confirm", data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    assert response.headers["Location"] == SIGNED_OUT + "?state=st"
    assert not is_signed_in(client)


def test_confirmed_logout_without_a_registered_address_shows_a_page(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    registered = register_client(app)
    url = "/logout?" + urlencode(
        {"client_id": registered.client_id, "post_logout_redirect_uri": "https://attacker.example/"}
    )
    client.get(url)
    response = client.post("/logout/confirm", data={"csrf_token": csrf_token(client, url)})
    assert "attacker" not in response.headers.get("Location", "")
    assert not is_signed_in(client)


def test_a_hint_for_another_person_asks_first(app, client, users):
    users.create(phone=PHONE)
    other = users.create(phone="+380501112299")
    registered = register_client(app)
    elsewhere = app.test_client()
    sign_in(elsewhere, other.phone)
    foreign = _tokens(elsewhere, registered)
    sign_in(client, PHONE)
    response = _logout(client, id_token_hint=foreign["id_token"], post_logout_redirect_uri=SIGNED_OUT)
    assert response.status_code == 200 and "Location" not in response.headers
    assert is_signed_in(client) and is_signed_in(elsewhere)


def test_an_access_token_is_no_id_token_hint(app, client, users):
    """Only an ID token proves the client asks for this person; an access token a resource server
    saw does not."""
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    tokens = _tokens(client, register_client(app))
    response = _logout(client, id_token_hint=tokens["access_token"], post_logout_redirect_uri=SIGNED_OUT)
    assert "Location" not in response.headers
    assert is_signed_in(client)


def test_a_forged_id_token_hint_is_refused(app, client, users):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    tokens = _tokens(client, register_client(app))
    head, body, _ = tokens["id_token"].split(".")
    response = _logout(client, id_token_hint=f"{head}.{body}.AAAA", post_logout_redirect_uri=SIGNED_OUT)
    assert response.status_code == 400 and "Location" not in response.headers
    assert is_signed_in(client)


def test_an_expired_id_token_still_serves_as_a_hint(app, client, users, time_machine):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    tokens = _tokens(client, register_client(app))
    time_machine.move_to(datetime.now(UTC) + timedelta(minutes=20))
    client.get("/")  # the browser is still in use
    response = _logout(client, id_token_hint=tokens["id_token"], post_logout_redirect_uri=SIGNED_OUT)
    assert response.headers.get("Location") == SIGNED_OUT


# --- back-channel logout ----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # the port is rebound after the "down" phase
    daemon_threads = True


class Receiver:
    """A relying service's back-channel logout endpoint on 127.0.0.1 that records what it gets."""

    def __init__(self):
        self.posts: list[dict] = []
        self.answers: list[int] = []  # statuses to answer with first, then 200
        self.server: _Server | None = None
        self.thread: threading.Thread | None = None
        probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        self.port = probe.server_address[1]
        probe.server_close()

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/backchannel-logout"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                receiver.posts.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "form": {k: v[0] for k, v in parse_qs(body).items()},
                    }
                )
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def rp(app, receiver):
    """A client with a back-channel logout URI on the receiver."""
    return register_client(app, backchannel_logout_uri=receiver.uri)


def _notices(app) -> list[dict]:
    with app.app_context():
        db.session.expire_all()
        return [
            {
                "state": m.state,
                "attempts": m.attempts,
                "recipient": m.recipient,
                "kind": m.kind,
                "notice": json.loads(decrypt(m.body_encrypted)),
                "error": m.last_error,
            }
            for m in db.session.scalars(
                db.select(Message).where(Message.channel == "http").order_by(Message.id)
            )
        ]


def _all_sent(states: dict) -> bool:
    """Every message is sent (use when only back-channel notices were queued)."""
    return bool(states) and all(state == SENT for state in states.values())


def _notices_sent(app):
    """A predicate for work_until: every back-channel notice is sent."""
    return lambda states: bool(_notices(app)) and all(n["state"] == SENT for n in _notices(app))


def _verify_logout_token(client, token: str, registered, profile, sid: str) -> dict:
    decoded = jwt.decode(token, _keys(client), algorithms=["ES256", "RS256"])
    assert decoded.header["typ"] == "logout+jwt"
    claims = dict(decoded.claims)
    assert claims["iss"] == ISSUER
    assert claims["aud"] == registered.client_id
    assert claims["sub"] == profile.subject
    assert claims["sid"] == sid
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims
    assert claims["jti"] and claims["iat"] <= claims["exp"] <= claims["iat"] + 300
    return claims


def test_signing_out_tells_the_client_over_the_back_channel(app, client, users, rp, receiver):
    profile = users.create(phone=PHONE)
    sign_in(client, PHONE)
    tokens = _tokens(client, rp)
    sid = _sid(client, tokens)
    receiver.start()
    assert _notices(app) == []  # signing in and getting tokens tells nobody anything

    submit(client, "/signout", page="/security")
    notices = _notices(app)
    assert [(n["state"], n["recipient"], n["kind"]) for n in notices] == [
        (QUEUED, receiver.uri, "backchannel_logout")
    ]
    assert receiver.posts == []  # queued, not sent from the request

    work_until(app, _all_sent)
    assert len(receiver.posts) == 1
    post = receiver.posts[0]
    assert post["path"] == "/backchannel-logout"
    assert post["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert set(post["form"]) == {"logout_token"}
    _verify_logout_token(client, post["form"]["logout_token"], rp, profile, sid)


def test_a_notice_waits_for_a_client_that_is_down(app, client, users, rp, receiver, time_machine):
    profile = users.create(phone=PHONE)
    sign_in(client, PHONE)
    sid = _sid(client, _tokens(client, rp))
    submit(client, "/signout", page="/security")

    work_until(app, lambda states: _notices(app)[0]["attempts"] >= 1)
    [notice] = _notices(app)
    assert notice["state"] == QUEUED and "unreachable" in notice["error"]
    assert receiver.posts == []

    receiver.start()
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=5))  # past the retry delay
    work_until(app, _all_sent)
    [notice] = _notices(app)
    assert notice["attempts"] == 2 and notice["error"] is None
    assert len(receiver.posts) == 1
    _verify_logout_token(client, receiver.posts[0]["form"]["logout_token"], rp, profile, sid)


def test_a_client_error_5xx_is_retried_and_a_4xx_is_not(app, client, users, rp, receiver, time_machine):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    _tokens(client, rp)
    receiver.answers = [503]
    receiver.start()
    submit(client, "/signout", page="/security")
    work_until(app, lambda states: _notices(app)[0]["attempts"] >= 1)
    assert _notices(app)[0]["state"] == QUEUED
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=5))
    work_until(app, _all_sent)
    assert len(receiver.posts) == 2

    other = app.test_client()
    sign_in(other, PHONE)
    _tokens(other, rp)
    receiver.answers = [400]
    submit(other, "/signout", page="/security")
    work_until(app, lambda states: FAILED in states.values())
    assert _notices(app)[-1]["attempts"] == 1 and "400" in _notices(app)[-1]["error"]


def test_only_clients_with_a_back_channel_uri_and_a_grant_in_the_session_are_told(
    app, client, users, rp, receiver
):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    _tokens(client, register_client(app, name="No back-channel"))
    register_client(app, name="Never used", backchannel_logout_uri=receiver.uri + "/unused")
    _tokens(client, rp)
    _tokens(client, rp)  # a second grant of the same client in the same session: one notice
    submit(client, "/signout", page="/security")
    assert [n["recipient"] for n in _notices(app)] == [receiver.uri]


def test_offline_grants_survive_sign_out_but_the_client_is_still_told(app, client, users, rp, receiver):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    tokens = _tokens(client, rp, scope="openid offline_access")
    submit(client, "/signout", page="/security")
    assert len(_notices(app)) == 1
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 200


def test_ending_a_session_on_the_security_page_tells_the_client(app, client, users, rp, receiver):
    profile = users.create(phone=PHONE)
    laptop = app.test_client()
    sign_in(laptop, PHONE)
    tokens = _tokens(laptop, rp)
    sid = _sid(laptop, tokens)
    sign_in(client, PHONE)
    with app.app_context():
        session_id = db.session.scalar(db.select(WebSession.id).where(WebSession.sid == sid))
    page = submit(client, f"/security/sessions/{session_id}/end", page="/security")
    assert page.location == "/security"
    assert not is_signed_in(laptop) and is_signed_in(client)
    assert userinfo(client, tokens["access_token"]).status_code == 401
    receiver.start()
    work_until(app, _all_sent)
    assert len(receiver.posts) == 1
    _verify_logout_token(client, receiver.posts[0]["form"]["logout_token"], rp, profile, sid)


def test_signing_out_everywhere_revokes_offline_grants_too(app, client, users, rp, receiver):
    users.create(phone=PHONE)
    sign_in(client, PHONE)
    tokens = _tokens(client, rp, scope="openid offline_access")
    submit(client, "/security/sessions/end-all", page="/security")
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 400
    assert len(_notices(app)) >= 1 and {n["recipient"] for n in _notices(app)} == {receiver.uri}


def test_password_recovery_tells_the_clients(app, client, users, outbox, rp, receiver):
    profile = users.create(phone=PHONE)
    laptop = app.test_client()
    sign_in(laptop, PHONE)
    tokens = _tokens(laptop, rp)
    sid = _sid(laptop, tokens)

    submit(client, "/recover", {"phone": PHONE})
    submit(client, "/recover/code", {"code": outbox.code(PHONE)})
    page = submit(client, "/recover/password", {"password": PASSWORD + "x", "confirm": PASSWORD + "x"})
    assert page.location == "/signin"
    assert not is_signed_in(laptop)
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 400
    receiver.start()
    work_until(app, _notices_sent(app))
    assert len(receiver.posts) == 1
    _verify_logout_token(client, receiver.posts[0]["form"]["logout_token"], rp, profile, sid)


def test_rp_initiated_logout_tells_the_other_clients(app, client, users, receiver):
    profile = users.create(phone=PHONE)
    sign_in(client, PHONE)
    asking = register_client(app, name="Asking")
    other = register_client(app, name="Other", backchannel_logout_uri=receiver.uri)
    asking_tokens = _tokens(client, asking)
    sid = _sid(client, _tokens(client, other))
    _logout(client, id_token_hint=asking_tokens["id_token"])
    receiver.start()
    work_until(app, _all_sent)
    _verify_logout_token(client, receiver.posts[0]["form"]["logout_token"], other, profile, sid)
    with app.app_context():
        assert set(db.session.scalars(db.select(Grant.revoked_reason))) == {"logout"}
