"""A spent SMS code (entered wrong five times) is no dead end: every code page says so and offers a
new code on the same page. The new code is a new challenge, sent after the resend wait and within
the SMS budgets; the spent one stays spent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from idp.extensions import db
from idp.otp import services as otp
from idp.otp.errors import FlowUnknown
from idp.otp.models import SmsChallenge
from tests.helpers.pages import is_signed_in, register, sign_in, solve_proof, submit
from tests.helpers.records import PASSWORD, find_profile, translated
from tests.otp.test_sms_codes import EXHAUSTED, is_spent, sms_codes, wrong

NEW_PHONE = "+380671234500"
TOO_SOON = "A new code can be sent in {} seconds."
SENT = ("info", "We sent a new code.")


@pytest.fixture
def frozen(time_machine):
    start = datetime.now(UTC).replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    return lambda seconds: time_machine.move_to(start + timedelta(seconds=seconds), tick=False)


@dataclass
class CodeFlow:
    """A code page: where it is, where its resend posts, and where a right code leads."""

    name: str
    purpose: str
    page: str
    resend: str
    passed: str

    def start(self, client, users, outbox) -> str:
        """Start the flow in ``client``; return the phone its code goes to."""
        if self.name == "registration":
            register(client, outbox, NEW_PHONE, until="code")
            return NEW_PHONE
        if self.name == "signin":
            profile = users.create(sms_2fa_enabled=True)
            assert sign_in(client, profile.phone).location == self.page
            return profile.phone
        profile = users.create()
        if self.name == "recovery":
            assert submit(client, "/recover", {"phone": profile.phone}).location == self.page
            return profile.phone
        sign_in(client, profile.phone)
        page = submit(client, "/security/phone", {"phone": NEW_PHONE, "current_password": PASSWORD})
        assert page.location == self.page, page.errors
        return NEW_PHONE


FLOWS = [
    CodeFlow("registration", "register", "/register/code", "/register/code/resend", "/register/details"),
    CodeFlow("recovery", "recover", "/recover/code", "/recover/resend", "/recover/password"),
    CodeFlow("phone", "change_phone", "/security/phone/code", "/security/phone/resend", "/security"),
    CodeFlow("signin", "signin", "/signin/verify", "/signin/verify/resend", "/"),
]


def _challenges(app, phone: str) -> list[SmsChallenge]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(SmsChallenge).where(SmsChallenge.phone == phone)))
        db.session.expunge_all()
    return sorted(rows, key=lambda row: row.created_at)


def _spend(client, flow: CodeFlow, code: str):
    for _ in range(4):
        submit(client, flow.page, {"code": wrong(code)})
    return submit(client, flow.page, {"code": wrong(code)})


@pytest.mark.idp_settings(IDP_SIGNIN_FREE_FAILURES=10)  # the code's own tries, without sign-in delays
@pytest.mark.parametrize("flow", FLOWS, ids=[f.name for f in FLOWS])
def test_a_spent_code_is_said_so_and_a_new_one_is_sent_on_the_same_page(
    app, client, users, outbox, frozen, flow
):
    phone = flow.start(client, users, outbox)
    first = outbox.code(phone)
    assert is_spent(_spend(client, flow, first))
    assert is_spent(submit(client, flow.page, {"code": first}))  # the right code, too late

    # The wait counts from the spent code's SMS, as for any resend; nothing is sent before it.
    frozen(30)
    page = submit(client, flow.resend, page=flow.page, follow=True)
    assert ("error", TOO_SOON.format(30)) in page.flashes and is_spent(page)
    assert len(sms_codes(outbox, phone)) == 1

    frozen(61)
    page = submit(client, flow.resend, page=flow.page, follow=True)
    assert SENT in page.flashes and 'name="code"' in page.text and "data-code-spent" not in page.text
    second = outbox.code(phone)
    assert len(sms_codes(outbox, phone)) == 2
    spent, renewed = _challenges(app, phone)
    assert spent.failed_attempts == 5 and spent.renewed_by == renewed.id and renewed.failed_attempts == 0

    # The new code has five tries of its own; the old code does not come back to life.
    if second != first:
        assert submit(client, flow.page, {"code": first}).errors == ["The code is wrong. 4 tries left."]
    assert submit(client, flow.page, {"code": second}).location == flow.passed
    # The spent challenge was never used: it only led to the new one, which is used up now.
    with app.app_context(), pytest.raises(FlowUnknown):
        otp.verify(spent.id, flow.purpose, first)
    spent_after, used = _challenges(app, phone)
    assert spent_after.failed_attempts == 5 and spent_after.verified_at is None and used.verified_at
    if flow.name == "phone":
        assert find_profile(app, NEW_PHONE) is not None
    if flow.name == "signin":
        assert is_signed_in(client)


@pytest.mark.idp_settings(IDP_SIGNIN_FREE_FAILURES=10, IDP_SMS_BUDGET_PROFILE="1/hour")
def test_a_new_sign_in_code_draws_on_the_profiles_sms_budget(app, client, users, outbox, frozen):
    flow = FLOWS[3]
    phone = flow.start(client, users, outbox)
    _spend(client, flow, outbox.code(phone))
    frozen(61)
    page = submit(client, flow.resend, page=flow.page, follow=True)
    assert (
        "error",
        "Too many SMS were sent to this number or from your network. Try again later.",
    ) in page.flashes
    assert is_spent(page) and len(sms_codes(outbox, phone)) == 1 and len(_challenges(app, phone)) == 1
    assert not is_signed_in(client)


@pytest.mark.idp_settings(IDP_SMS_BUDGET_NUMBER="1/hour")
def test_past_a_strangers_budget_a_new_code_needs_a_proof_of_work(app, client, users, outbox, frozen):
    flow = FLOWS[1]
    phone = flow.start(client, users, outbox)
    _spend(client, flow, outbox.code(phone))
    frozen(61)
    asked = submit(client, flow.resend, page=flow.page, follow=True)
    assert is_spent(asked) and "data-pow-challenge" in asked.text and len(sms_codes(outbox, phone)) == 1
    # Asking for the proof took no wait: once solved, the code goes out at once.
    page = submit(client, flow.resend, {"altcha": solve_proof(asked.text)}, page=flow.page, follow=True)
    assert SENT in page.flashes and len(sms_codes(outbox, phone)) == 2
    assert submit(client, flow.page, {"code": outbox.code(phone)}).location == flow.passed


def test_a_registered_numbers_spent_page_and_renewal_look_the_same(app, client, users, outbox, frozen):
    """A number that has a profile gets a notice, never a code: spending and renewing behave alike,
    and the renewal sends the notice again."""
    profile = users.create()
    assert submit(client, "/register", {"phone": profile.phone}).location == "/register/code"
    for _ in range(4):
        submit(client, "/register/code", {"code": "123456"})
    assert is_spent(submit(client, "/register/code", {"code": "123456"}))
    frozen(61)
    assert SENT in submit(client, "/register/code/resend", page="/register/code", follow=True).flashes
    notices = [m.kind for m in outbox.messages(profile.phone)]
    assert notices == ["sms_already_registered", "sms_already_registered"]


def test_a_request_still_holding_the_spent_code_goes_on_with_the_new_one(app, client, outbox, frozen):
    """A tab that read the session before the renewal (or a write that lost the race) holds the
    spent challenge's id: the flow follows the spent challenge to the one that renewed it."""
    register(client, outbox, NEW_PHONE, until="code")
    _spend(client, FLOWS[0], outbox.code(NEW_PHONE))
    frozen(61)
    with app.test_request_context():
        spent = _challenges(app, NEW_PHONE)[0].id
        renewed = otp.renew(spent, "register", "en")
        assert otp.current(spent).id == renewed.id and not otp.is_spent(spent)
        assert otp.verify(spent, "register", outbox.code(NEW_PHONE)).id == renewed.id


def test_a_live_code_is_not_renewed(app, client, outbox, frozen):
    """Only a spent code gets a new challenge: a live one is sent again, its tries kept."""
    register(client, outbox, NEW_PHONE, until="code")
    submit(client, "/register/code", {"code": wrong(outbox.code(NEW_PHONE))})
    frozen(61)
    assert SENT in submit(client, "/register/code/resend", page="/register/code", follow=True).flashes
    [challenge] = _challenges(app, NEW_PHONE)
    assert challenge.sends == 2 and challenge.failed_attempts == 1
    assert submit(client, "/register/code", {"code": "000000"}).errors[0].endswith("3 tries left.")


def test_the_spent_page_speaks_each_language(app, client, outbox, frozen):
    register(client, outbox, NEW_PHONE, until="code")
    _spend(client, FLOWS[0], outbox.code(NEW_PHONE))
    for lang in ("uk", "ru"):
        page = client.get("/register/code", headers={"Accept-Language": lang}).get_data(as_text=True)
        assert translated(app, lang, EXHAUSTED) in page and translated(app, lang, "Send a new code") in page
