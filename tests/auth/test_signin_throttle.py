"""Sign-in throttling per account (its phone and e-mail share one counter): free failures, a
growing delay, a lock that only a password recovery lifts, and answers that never tell whether a
phone or e-mail is registered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from idp.auth import throttle
from idp.auth.errors import Locked
from tests.helpers.pages import is_signed_in, sign_in, submit, without_csrf_tokens
from tests.helpers.records import PASSWORD, translated

WRONG = "The phone number, e-mail or password is wrong."
LOCKED = "Sign-in is blocked after too many failed attempts. Restore the password to unblock it."


def wait(seconds: int) -> str:
    return f"Too many failed attempts. Try again in {seconds} s."


@pytest.fixture
def clock(time_machine):
    """A stopped clock a test moves on with ``clock(seconds)``."""
    time_machine.move_to(datetime.now(UTC).replace(microsecond=0), tick=False)
    return lambda seconds: time_machine.shift(timedelta(seconds=seconds))


def attempt(client, identifier: str, password: str = "Wrong-passw0rd") -> list[str]:
    return sign_in(client, identifier, password).errors


def test_three_failures_are_free_then_the_delay_grows(client, users, clock):
    phone = users.create().phone
    assert [attempt(client, phone) for _ in range(3)] == [[WRONG]] * 3
    assert attempt(client, phone) == [wait(1)]
    clock(1)
    assert attempt(client, phone) == [WRONG]
    assert attempt(client, phone) == [wait(2)]
    clock(2)
    assert attempt(client, phone) == [WRONG]
    assert attempt(client, phone) == [wait(4)]
    clock(3)
    assert attempt(client, phone) == [wait(1)]


def test_the_right_password_is_refused_while_the_delay_lasts(client, users, clock):
    phone = users.create().phone
    for _ in range(3):
        attempt(client, phone)
    assert attempt(client, phone, PASSWORD) == [wait(1)]
    assert not is_signed_in(client)
    clock(1)
    assert sign_in(client, phone).location == "/"


@pytest.mark.idp_settings(IDP_SIGNIN_FREE_FAILURES=1, IDP_SIGNIN_MAX_DELAY_SECONDS=3)
def test_the_delay_never_exceeds_the_maximum(client, users, clock):
    phone = users.create().phone
    seen = []
    for _ in range(4):
        attempt(client, phone)
        seen.append(attempt(client, phone))
        clock(3)
    assert seen == [[wait(1)], [wait(2)], [wait(3)], [wait(3)]]


@pytest.mark.idp_settings(IDP_SIGNIN_LOCK_FAILURES=4, IDP_SIGNIN_FREE_FAILURES=100)
def test_the_account_locks_at_the_configured_failures(client, users):
    phone = users.create().phone
    assert [attempt(client, phone) for _ in range(4)] == [[WRONG]] * 4
    assert attempt(client, phone, PASSWORD) == [LOCKED]
    assert not is_signed_in(client)


@pytest.mark.idp_settings(IDP_SIGNIN_FREE_FAILURES=1000)  # no delays: only the lock counts
def test_the_lock_comes_at_the_hundredth_consecutive_failure(app):
    with app.test_request_context():
        for _ in range(99):
            throttle.take("+380671234567")
        assert not throttle.check("+380671234567").locked
        throttle.take("+380671234567")
        assert throttle.check("+380671234567").locked
        with pytest.raises(Locked):
            throttle.take("+380671234567")


def test_counters_are_given_back_in_the_order_they_are_made(app):
    """Two give-backs of one identifier and profile (a form sent twice) update the two rows in the
    same order, whichever counter existed before: otherwise PostgreSQL may find them deadlocked."""
    from sqlalchemy import event

    from idp.extensions import db

    with app.test_request_context():
        pairs = [(f"+38067123456{n}", f"profile:{n}") for n in range(6)]
        orders = []
        for typed, profile in pairs:
            throttle.take(typed)  # the typed identifier's counter exists; the profile's is new
            attempt = throttle.take(typed, profile)
            updated: list[str] = []

            def note(_conn, _cursor, statement, parameters, *_rest, updated=updated):
                if statement.lstrip().upper().startswith("UPDATE SIGNIN_THROTTLES"):
                    values = parameters.values() if isinstance(parameters, dict) else parameters
                    updated.append(next(v for v in values if isinstance(v, str) and len(v) == 64))

            event.listen(db.engine, "before_cursor_execute", note)
            try:
                throttle.give_back(attempt)
            finally:
                event.remove(db.engine, "before_cursor_execute", note)
            orders.append(updated == sorted(updated) and len(updated) == 2)
        assert orders == [True] * len(pairs)


@pytest.mark.idp_settings(IDP_SIGNIN_LOCK_FAILURES=3, IDP_SIGNIN_FREE_FAILURES=100)
def test_the_locked_message_is_localised(app, client, users):
    phone = users.create().phone
    for _ in range(3):
        attempt(client, phone)
    page = submit(
        client, "/signin", {"identifier": phone, "password": PASSWORD}, headers={"Accept-Language": "uk"}
    )
    assert page.errors == [translated(app, "uk", LOCKED)] != [LOCKED]


@pytest.mark.idp_settings(IDP_SIGNIN_FREE_FAILURES=2)
def test_a_success_resets_the_count(app, client, users, clock):
    phone = users.create().phone
    attempt(client, phone)
    attempt(client, phone)
    assert attempt(client, phone) == [wait(1)]
    clock(1)
    assert sign_in(client, phone).location == "/"
    other = app.test_client()
    assert attempt(other, phone) == [WRONG]
    assert attempt(other, phone) == [WRONG]  # two failures, not four: the count started again
    assert attempt(other, phone) == [wait(1)]


@pytest.mark.idp_settings(IDP_SIGNIN_LOCK_FAILURES=3, IDP_SIGNIN_FREE_FAILURES=100)
def test_restoring_the_password_unlocks_the_account(client, users, outbox):
    profile = users.create()
    for identifier in (profile.phone, profile.email):
        for _ in range(3):
            attempt(client, identifier)
        assert attempt(client, identifier, PASSWORD) == [LOCKED]
    submit(client, "/recover", {"phone": profile.phone})
    submit(client, "/recover/code", {"code": outbox.code(profile.phone)})
    page = submit(client, "/recover/password", {"password": "Fresh-Passw0rd", "confirm": "Fresh-Passw0rd"})
    assert page.location == "/signin"
    assert sign_in(client, profile.email, "Fresh-Passw0rd").location == "/"


def _normalised(text: str, identifier: str) -> str:
    return without_csrf_tokens(text).replace(identifier, "IDENTIFIER")


@pytest.mark.parametrize("kind", ["phone", "email"])
def test_an_unknown_identifier_gets_the_same_answers_and_throttling(app, users, clock, kind):
    profile = users.create()
    known = profile.phone if kind == "phone" else profile.email
    unknown = "+380671119999" if kind == "phone" else "nobody@example.com"

    def sequence(identifier):
        client = app.test_client()
        pages = []
        for step in ("fail", "fail", "fail", "fail", 1, "fail", "fail", 2, "fail"):
            if isinstance(step, int):
                clock(step)
                continue
            page = sign_in(client, identifier, "Wrong-passw0rd")
            pages.append((page.status, page.errors, _normalised(page.text, identifier)))
        return pages

    known_pages, unknown_pages = sequence(known), sequence(unknown)
    assert [errors for _, errors, _ in known_pages] == [
        [WRONG],
        [WRONG],
        [WRONG],
        [wait(1)],
        [WRONG],
        [wait(2)],
        [WRONG],
    ]
    assert unknown_pages == known_pages


@pytest.mark.idp_settings(IDP_SIGNIN_LOCK_FAILURES=2, IDP_SIGNIN_FREE_FAILURES=100)
def test_an_unknown_identifier_locks_like_a_known_one(client, users):
    known = users.create().phone
    for identifier in (known, "+380671119999"):
        assert [attempt(client, identifier) for _ in range(3)] == [[WRONG], [WRONG], [LOCKED]]


def test_formats_of_one_number_share_the_throttle(client, users):
    users.create(phone="+380671234567")
    attempt(client, "+380671234567")
    attempt(client, "067 123 45 67")
    attempt(client, "+38 (067) 123-45-67")
    assert attempt(client, "380671234567") == [wait(1)]


def test_the_email_is_not_case_sensitive_for_the_throttle(client, users):
    email = users.create().email
    attempt(client, email)
    attempt(client, email.upper())
    attempt(client, email.title())
    assert attempt(client, f"  {email}  ") == [wait(1)]


@pytest.mark.idp_settings(IDP_SIGNIN_LIMIT_IP="3/minute")
def test_too_many_sign_ins_from_one_address_get_429(app, client, users):
    phone = users.create().phone
    for n in range(3):
        assert attempt(client, f"+38067111000{n}") == [WRONG]
    page = submit(client, "/signin", {"identifier": phone, "password": PASSWORD})
    assert page.status == 429
    assert "Too many attempts" in page.text and "Traceback" not in page.text
    ukrainian = submit(
        client, "/signin", {"identifier": phone, "password": PASSWORD}, headers={"Accept-Language": "uk"}
    )
    assert ukrainian.status == 429
    assert translated(app, "uk", "Too many attempts") != "Too many attempts"
    assert translated(app, "uk", "Too many attempts") in ukrainian.text
    assert not is_signed_in(client)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    assert sign_in(other, phone).location == "/"


@pytest.mark.idp_settings(IDP_SIGNIN_LOCK_FAILURES=6, IDP_SIGNIN_FREE_FAILURES=10)
def test_phone_and_email_share_one_counter_so_the_lock_is_per_account(client, users):
    profile = users.create()
    for identifier in [profile.phone, profile.email] * 3:  # six failures, split over both
        assert attempt(client, identifier) == [WRONG]
    assert attempt(client, profile.phone) == [LOCKED]
    assert attempt(client, profile.email) == [LOCKED]
    assert attempt(client, profile.email, PASSWORD) == [LOCKED]  # even the right password


def test_failures_by_phone_do_not_delay_the_e_mail_of_the_same_profile(client, users, clock):
    """Delays count per identifier typed, so they never tell that a phone and an e-mail belong
    to one profile."""
    profile = users.create()
    for _ in range(3):
        attempt(client, profile.phone)
    assert attempt(client, profile.phone) == [wait(1)]
    assert attempt(client, profile.email) == [WRONG]
    assert attempt(client, "stranger@example.com") == [WRONG]


@pytest.mark.idp_settings(IDP_SIGNIN_LOCK_FAILURES=6, IDP_SIGNIN_FREE_FAILURES=100)
def test_the_lock_counts_every_identifier_of_the_profile(client, users):
    profile = users.create()
    for identifier in (profile.phone, profile.email, profile.phone):
        assert attempt(client, identifier) == [WRONG]
        assert attempt(client, identifier) == [WRONG]
    assert attempt(client, profile.email, PASSWORD) == [LOCKED]
