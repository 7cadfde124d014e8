"""Server-side sessions: a random token in an HttpOnly SameSite=Lax cookie, a new token at sign-in,
30 minutes idle and 12 hours absolute, and revocable from another device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idp.extensions import db
from idp.security.crypto import token_digest
from idp.sessions.models import WebSession
from tests.helpers.pages import csrf_token, is_signed_in, session_token, sign_in, submit
from tests.helpers.records import PASSWORD


@pytest.fixture
def clock(time_machine):
    """A stopped clock; ``clock(minutes=…)`` moves it on."""
    time_machine.move_to(datetime.now(UTC).replace(microsecond=0), tick=False)
    return lambda **delta: time_machine.shift(timedelta(**delta))


def _row(app, token: str) -> WebSession | None:
    with app.app_context():
        return db.session.scalar(db.select(WebSession).where(WebSession.token_hash == token_digest(token)))


def _session_cookie(response, name: str = "idp_session") -> str:
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")]
    return cookie


def test_the_session_cookie_is_http_only_and_same_site_lax(client, users):
    profile = users.create()
    first = client.get("/signin")  # the CSRF secret alone: a signed cookie of its own, no row
    token = csrf_token(client, "/signin")
    signed_in = client.post(
        "/signin", data={"csrf_token": token, "identifier": profile.phone, "password": PASSWORD}
    )
    assert signed_in.location == "/"
    for cookie in (_session_cookie(first, "idp_csrf"), _session_cookie(signed_in)):
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie


def test_opening_form_pages_stores_no_session(app):
    def rows() -> int:
        with app.app_context():
            return db.session.scalar(db.select(db.func.count()).select_from(WebSession))

    for _ in range(100):
        for page in ("/signin", "/register", "/recover"):
            assert app.test_client().get(page).status_code == 200
    assert rows() == 0
    # The CSRF secret in its cookie still makes the forms work, and the first real write stores
    # the session (and drops that cookie).
    client = app.test_client()
    token = csrf_token(client, "/register")
    response = client.post("/register", data={"csrf_token": token, "phone": "+380671112233"})
    assert response.headers["Location"] == "/register/code" and rows() == 1
    assert any(c.startswith("idp_csrf=;") for c in response.headers.getlist("Set-Cookie"))


def test_a_forged_csrf_cookie_gives_no_valid_form(app):
    client = app.test_client()
    client.set_cookie("idp_csrf", "forged")
    token = csrf_token(client, "/signin")
    other = app.test_client()
    other.set_cookie("idp_csrf", client.get_cookie("idp_csrf").value + "x")
    response = other.post(
        "/signin", data={"csrf_token": token, "identifier": "+380671112233", "password": PASSWORD}
    )
    assert response.status_code == 400 and b"The form has expired" in response.data


def test_the_cookie_holds_only_a_random_token_and_the_row_only_its_hash(app, client, users):
    profile = users.create()
    sign_in(client, profile.phone)
    token = session_token(client)
    assert len(token) >= 40 and str(profile.id) != token
    row = _row(app, token)
    assert row.profile_id == profile.id and token not in row.token_hash
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count()).select_from(WebSession).where(WebSession.token_hash == token)
            )
            == 0
        )


def test_signing_in_issues_a_new_token(app, client, users):
    profile = users.create()
    submit(client, "/register", {"phone": "+380671119988"})  # a flow stores an anonymous session
    before = session_token(client)
    assert before
    sign_in(client, profile.phone)
    after = session_token(client)
    assert after and after != before
    assert _row(app, before).ended_at is not None
    # A planted (fixated) token stays anonymous even after its owner signs in elsewhere.
    attacker = app.test_client()
    attacker.set_cookie("idp_session", before)
    assert not is_signed_in(attacker)


def test_a_forged_token_is_anonymous(app, users):
    sign_in(app.test_client(), users.create().phone)
    forger = app.test_client()
    forger.set_cookie("idp_session", "A" * 43)
    assert not is_signed_in(forger)
    forger.set_cookie("idp_session", "A" * 200)
    assert forger.get("/").status_code == 302


def test_ending_a_session_from_the_security_page_signs_that_browser_out(app, client, users):
    profile = users.create()
    other = app.test_client()
    sign_in(other, profile.phone)
    sign_in(client, profile.phone)
    others_row = _row(app, session_token(other))
    text = client.get("/security").get_data(as_text=True)
    assert f'data-session="{others_row.id}"' in text
    page = submit(client, f"/security/sessions/{others_row.id}/end", page="/security", follow=True)
    assert ("success", "The session has ended.") in page.flashes
    assert not is_signed_in(other)
    assert is_signed_in(client)


def test_a_browser_whose_session_was_ended_elsewhere_is_told_once(app, client, users):
    from tests.helpers.pages import Page

    profile = users.create()
    other = app.test_client()
    sign_in(other, profile.phone)
    sign_in(client, profile.phone)
    submit(client, "/security/sessions/end-others", page="/security")
    told = "You were signed out: your session was ended on another device"
    first = other.get("/services/multifon/", follow_redirects=True)
    flashes = Page(first.status_code, None, first.get_data(as_text=True)).flashes
    assert [kind for kind, text in flashes if text.startswith(told)] == ["info"]
    assert told not in other.get("/signin").get_data(as_text=True)
    assert not is_signed_in(other)


def test_a_profile_cannot_end_the_session_of_another(app, client, users):
    victim = app.test_client()
    sign_in(victim, users.create().phone)
    sign_in(client, users.create().phone)
    victims_row = _row(app, session_token(victim))
    page = submit(client, f"/security/sessions/{victims_row.id}/end", page="/security/sms")
    assert page.location == "/security"
    assert is_signed_in(victim)


def test_ending_all_other_sessions(app, client, users):
    profile = users.create()
    others = [app.test_client() for _ in range(2)]
    for other in others:
        sign_in(other, profile.phone)
    sign_in(client, profile.phone)
    submit(client, "/security/sessions/end-others", page="/security")
    assert [is_signed_in(other) for other in others] == [False, False]
    assert is_signed_in(client)


def test_signing_out_ends_the_row(app, client, users):
    sign_in(client, users.create().phone)
    token = session_token(client)
    page = submit(client, "/signout", page="/security/sms")
    assert page.location == "/signin"
    assert _row(app, token).ended_at is not None
    replay = app.test_client()
    replay.set_cookie("idp_session", token)
    assert not is_signed_in(replay)
    assert not is_signed_in(client)


def test_sign_out_needs_the_form_token(client, users):
    sign_in(client, users.create().phone)
    assert client.post("/signout").status_code == 400
    assert is_signed_in(client)


def test_an_idle_session_ends_after_thirty_minutes(client, users, clock):
    sign_in(client, users.create().phone)
    clock(minutes=29)
    assert is_signed_in(client)
    clock(minutes=29)
    assert is_signed_in(client)  # each visit counts as activity
    clock(minutes=30, seconds=5)
    assert not is_signed_in(client)
    assert client.get("/").location.startswith("/signin")


def test_a_session_ends_twelve_hours_after_sign_in_however_active(client, users, clock):
    sign_in(client, users.create().phone)
    for _ in range(24):  # 11 h 36 min of activity every 29 minutes
        clock(minutes=29)
        assert is_signed_in(client)
    clock(minutes=25)  # 12 h 1 min after the sign-in
    assert not is_signed_in(client)


@pytest.mark.idp_settings(IDP_SESSION_IDLE_MINUTES=5, IDP_SESSION_MAX_HOURS=1)
def test_the_limits_are_configurable(app, users, clock):
    profile = users.create()
    idle, busy = app.test_client(), app.test_client()
    sign_in(idle, profile.phone)
    sign_in(busy, profile.phone)
    for _ in range(14):
        clock(minutes=4)
        assert is_signed_in(busy)
    assert not is_signed_in(idle)
    clock(minutes=5)
    assert not is_signed_in(busy)


def test_expired_sessions_are_not_listed(app, client, users, clock):
    profile = users.create()
    stale = app.test_client()
    sign_in(stale, profile.phone)
    stale_row = _row(app, session_token(stale))
    clock(minutes=31)
    sign_in(client, profile.phone)
    assert f'data-session="{stale_row.id}"' not in client.get("/security").get_data(as_text=True)
