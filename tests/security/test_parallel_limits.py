"""Every limit holds when twenty requests arrive at once (threads against a live server).

One row per limit an assessment broke with parallel requests: tries per SMS code, single use of a
code, free sign-in failures, IP-telephony logins, SMS budgets per number and per address, MultiFon
password reminders a day; and the other single-use things and budgets built the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from idp.auth import recovery_codes, totp
from idp.extensions import db
from idp.otp.models import SmsChallenge
from idp.profiles.models import Profile
from idp.sessions.models import WebSession
from tests.helpers.records import PASSWORD
from tests.parallel import Browser, assert_no_server_error, errors

AT_ONCE = 20
WRONG_SIGNIN = "The phone number, e-mail or password is wrong."
WRONG_SERVICE_LOGIN = "The account or its password is wrong."


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _failed_attempts(app, phone: str) -> int:
    with app.app_context():
        return db.session.scalar(
            db.select(SmsChallenge.failed_attempts)
            .where(SmsChallenge.phone == phone)
            .order_by(SmsChallenge.created_at.desc())
            .limit(1)
        )


def _signed_in_sessions(app, profile_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            db.select(db.func.count())
            .select_from(WebSession)
            .where(WebSession.profile_id == profile_id, WebSession.ended_at.is_(None))
        )


def _sms(outbox, to: str, kind: str = "sms_code") -> int:
    return len([m for m in outbox.messages(to) if m.kind == kind])


@pytest.mark.idp_settings(IDP_CODE_LIMIT_IP="100/minute")
def test_an_sms_code_gets_five_wrong_tries_however_many_arrive_at_once(app, live_server, users, outbox):
    profile = users.create()
    browser = Browser(live_server)
    assert browser.submit("/recover", {"phone": profile.phone}).headers["Location"] == "/recover/code"
    code = outbox.code(profile.phone)
    answers = browser.tabs(AT_ONCE, "/recover/code", {"code": _wrong(code)})
    assert_no_server_error(answers)
    assert _failed_attempts(app, profile.phone) == 5
    late = browser.submit("/recover/code", {"code": code})
    assert late.status_code == 200 and "Location" not in late.headers  # the code is spent


@pytest.mark.idp_settings(IDP_CODE_LIMIT_IP="100/minute")
def test_a_spent_code_is_renewed_once_however_many_arrive_at_once(
    app, live_server, users, outbox, time_machine
):
    """Twenty presses of "Send a new code" for a spent code start one new challenge and one SMS."""
    start = datetime.now(UTC)
    time_machine.move_to(start, tick=False)
    profile = users.create()
    browser = Browser(live_server)
    browser.submit("/recover", {"phone": profile.phone})
    code = outbox.code(profile.phone)
    for _ in range(5):
        browser.submit("/recover/code", {"code": _wrong(code)})
    time_machine.move_to(start + timedelta(seconds=61), tick=False)
    answers = browser.tabs(AT_ONCE, "/recover/resend", {}, page="/recover/code")
    assert_no_server_error(answers)
    assert _sms(outbox, profile.phone) == 2
    with app.app_context():
        rows = list(db.session.scalars(db.select(SmsChallenge).where(SmsChallenge.phone == profile.phone)))
    assert len(rows) == 2
    # Whichever tab's session was written last, the flow goes on with the new code.
    assert browser.submit("/recover/code", {"code": outbox.code(profile.phone)}).headers["Location"] == (
        "/recover/password"
    )


@pytest.mark.idp_settings(IDP_CODE_LIMIT_IP="100/minute")
def test_a_recovery_code_is_accepted_once_however_many_arrive_at_once(app, live_server, users, outbox):
    from idp.audit.models import AuditEvent

    profile = users.create()
    browser = Browser(live_server)
    browser.submit("/recover", {"phone": profile.phone})
    answers = browser.tabs(AT_ONCE, "/recover/code", {"code": outbox.code(profile.phone)})
    assert_no_server_error(answers)
    with app.app_context():  # tabs served after the winner only follow its session onwards
        accepted = db.session.scalar(
            db.select(db.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.event == "sms_code.accepted", AuditEvent.profile_id == profile.id)
        )
    assert accepted == 1


def test_a_sign_in_sms_code_makes_one_session_however_many_arrive_at_once(app, live_server, users, outbox):
    profile = users.create(sms_2fa_enabled=True)
    browser = Browser(live_server)
    assert (
        browser.submit("/signin", {"identifier": profile.phone, "password": PASSWORD}).headers["Location"]
        == "/signin/verify"
    )
    answers = browser.tabs(AT_ONCE, "/signin/verify", {"code": outbox.code(profile.phone)})
    assert_no_server_error(answers)
    assert [a.headers.get("Location") for a in answers].count("/") == 1
    assert _signed_in_sessions(app, profile.id) == 1


def test_a_totp_code_signs_in_once_however_many_arrive_at_once(app, live_server, users):
    profile = users.create()
    secret = totp.new_secret()
    with app.app_context():
        totp.enable(db.session.get(Profile, profile.id), secret, step=0)
        db.session.commit()
    browser = Browser(live_server)
    browser.submit("/signin", {"identifier": profile.phone, "password": PASSWORD})
    answers = browser.tabs(AT_ONCE, "/signin/verify", {"code": pyotp.TOTP(secret).now()})
    assert_no_server_error(answers)
    assert [a.headers.get("Location") for a in answers].count("/") == 1
    assert _signed_in_sessions(app, profile.id) == 1


def test_a_recovery_code_signs_in_once_however_many_arrive_at_once(app, live_server, users):
    profile = users.create(sms_2fa_enabled=True)
    with app.app_context():
        code = recovery_codes.generate(db.session.get(Profile, profile.id))[0]
        db.session.commit()
    browser = Browser(live_server)
    browser.submit("/signin", {"identifier": profile.phone, "password": PASSWORD})
    browser.submit("/signin/verify/method", {"method": "recovery"}, page="/signin/verify")
    answers = browser.tabs(AT_ONCE, "/signin/verify", {"code": code})
    assert_no_server_error(answers)
    assert [a.headers.get("Location") for a in answers].count("/") == 1


@pytest.fixture
def stopped_clock(time_machine):
    """The clock stands still, so the delay after the free failures never runs out meanwhile
    (twenty requests on a busy machine can take longer than the first delay's second)."""
    time_machine.move_to(datetime.now(UTC), tick=False)


def test_three_sign_in_failures_are_free_however_many_arrive_at_once(live_server, users, stopped_clock):
    profile = users.create()
    answers = Browser(live_server).tabs(
        AT_ONCE, "/signin", {"identifier": profile.phone, "password": "Wrong-passw0rd"}
    )
    assert_no_server_error(answers)
    checked = [e for a in answers for e in errors(a) if e == WRONG_SIGNIN]
    assert len(checked) == 3


def test_simultaneous_first_failures_of_an_unknown_identifier_count_once_each(live_server, stopped_clock):
    answers = Browser(live_server).tabs(
        AT_ONCE, "/signin", {"identifier": "nobody@example.com", "password": "Wrong-passw0rd"}
    )
    assert_no_server_error(answers)
    assert len([e for a in answers for e in errors(a) if e == WRONG_SIGNIN]) == 3


def test_three_ip_telephony_login_failures_are_free_however_many_arrive_at_once(
    app, live_server, stopped_clock
):
    from connectors.iptel.accounts import create_active

    with app.app_context():
        create_active("+380442270001", "office@example.com", "SipPortal7Pass", "en")
    answers = Browser(live_server).tabs(
        AT_ONCE, "/services/iptel/login", {"login": "+380442270001", "password": "Wrong7Password"}
    )
    assert_no_server_error(answers)
    assert len([e for a in answers for e in errors(a) if e == WRONG_SERVICE_LOGIN]) == 3


def test_a_number_s_sms_budget_holds_however_many_arrive_at_once(live_server, outbox):
    phone = "+380671112233"
    answers = Browser(live_server).tabs(AT_ONCE, "/register", {"phone": phone})
    assert_no_server_error(answers)
    assert _sms(outbox, phone) == 5  # IDP_SMS_BUDGET_NUMBER; the rest is asked for a proof


@pytest.mark.idp_settings(IDP_SMS_BUDGET_IP="10/hour")
def test_an_address_s_sms_budget_holds_however_many_arrive_at_once(live_server, outbox):
    answers = Browser(live_server).tabs(AT_ONCE, "/register", lambda n: {"phone": f"+3806711122{n:02d}"})
    assert_no_server_error(answers)
    sent = sum(_sms(outbox, f"+3806711122{n:02d}") for n in range(AT_ONCE))
    assert sent == 10


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour")
def test_a_proof_of_work_pays_for_one_sms_however_many_arrive_at_once(live_server, outbox):
    from tests.helpers.pages import solve_proof

    phone = "+380671112233"
    browser = Browser(live_server)
    browser.submit("/register", {"phone": phone})
    asked = browser.submit("/register", {"phone": phone})
    proof = solve_proof(asked.text)
    answers = browser.tabs(AT_ONCE, "/register", {"phone": phone, "altcha": proof})
    assert_no_server_error(answers)
    assert _sms(outbox, phone) == 2


@pytest.mark.idp_settings(IDP_SIGNIN_FREE_FAILURES=1000)  # the password checks stay out of the way
def test_three_sip_password_reminders_a_day_however_many_arrive_at_once(app, live_server, users, outbox):
    from connectors.multifon.store import provision
    from tests.multifon.conftest import LABEL, NUMBER, link_account

    profile = users.create()
    with app.app_context():
        provision(NUMBER, "SipPassw0rd")
        db.session.commit()
    link_account(app, profile, NUMBER, LABEL)
    browser = Browser(live_server)
    browser.submit("/signin", {"identifier": profile.phone, "password": PASSWORD})
    assert (
        browser.http.get(live_server + "/services/multifon/", allow_redirects=False).headers["Location"]
        == "/services/multifon/cabinet"
    )
    answers = browser.tabs(
        AT_ONCE,
        "/services/multifon/password/remind",
        {"current_password": PASSWORD, "service_account": NUMBER},
    )
    assert_no_server_error(answers)
    assert _sms(outbox, NUMBER, "multifon_sip_password") == 3


@pytest.mark.idp_settings(IDP_SIGNIN_FREE_FAILURES=1000)
def test_letters_to_a_new_address_keep_their_budget_however_many_arrive_at_once(live_server, users, outbox):
    profile = users.create()
    browser = Browser(live_server)
    browser.submit("/signin", {"identifier": profile.phone, "password": PASSWORD})
    answers = browser.tabs(
        AT_ONCE, "/security/email", {"email": "victim@example.org", "current_password": PASSWORD}
    )
    assert_no_server_error(answers)
    assert len(outbox.messages("victim@example.org")) == 5  # IDP_EMAIL_SEND_LIMIT
