"""An invitation is used once however many requests arrive at once, and a withdrawal racing an
acceptance leaves one outcome: real parallel requests at a live server (POST /invite/<token>, the
withdraw action of the organisation page), and the services raced from threads."""

from __future__ import annotations

import html
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests

from idp.audit.models import AuditEvent
from idp.connectors.models import USER, ServiceLink
from idp.extensions import db
from idp.orgs.invitations import SMS, accept, by_token, invite, resend, withdraw
from idp.orgs.models import Invitation
from idp.orgs.services import Actor, OrgError
from idp.profiles.models import Profile
from tests.helpers.records import PASSWORD
from tests.orgs import test_services as core
from tests.orgs.test_services import MF1, MF4, PEOPLE, World
from tests.parallel import ERRORS, Browser, assert_no_server_error, at_once

world = core.world  # the fixture

AT_ONCE = 8
NEW_PHONE = "+380671009999"
LINK = re.compile(r"/invite/([A-Za-z0-9_-]+)")


def _invite(app, world: World, phone: str = NEW_PHONE, accounts=(MF1, MF4)) -> tuple[int, str]:
    """Invite ``phone`` as the administrator; return the invitation's id and its link's token."""
    from idp.delivery.services import outbox

    with app.test_request_context():
        invitation = invite(
            world.actor("admin"), world.org(), SMS, phone, [("multifon", a) for a in accounts], USER, "en"
        )
        sms = next(m for m in outbox(5, phone) if m.kind == "invitation_sms")
        return invitation.id, LINK.search(sms.text).group(1)


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def _signed_in(base: str, phone: str) -> Browser:
    browser = Browser(base)
    answer = browser.submit("/signin", {"identifier": phone, "password": PASSWORD})
    assert answer.headers.get("Location") == "/", answer.status_code
    return browser


def test_an_invitation_accepted_by_eight_requests_at_once_gives_one_access(
    live_server, app, world, users, outbox
):
    colleague = users.create(phone=NEW_PHONE)
    invitation_id, token = _invite(app, world)
    browser = _signed_in(live_server, NEW_PHONE)
    answers = browser.tabs(AT_ONCE, f"/invite/{token}", {})
    assert_no_server_error(answers)
    places = [a.headers.get("Location") for a in answers]
    assert places.count("/") == 1, places  # the winner goes home, the others back to the invitation
    assert places.count(f"/invite/{token}") == AT_ONCE - 1
    assert _count(app, ServiceLink, ServiceLink.profile_id == colleague.id) == 2  # MF1 and MF4, once each
    assert _count(app, AuditEvent, AuditEvent.event == "invitation.accepted") == 1
    assert _count(app, AuditEvent, AuditEvent.event == "access.granted") == 2
    assert len([m for m in outbox.messages(PEOPLE["admin"][1]) if m.kind == "invitation_accepted"]) == 1
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).accepted_by == colleague.id


def test_a_withdrawal_racing_acceptances_leaves_one_outcome(live_server, app, world, users):
    colleague = users.create(phone=NEW_PHONE)
    invitation_id, token = _invite(app, world)
    taker = _signed_in(live_server, NEW_PHONE)
    admin = _signed_in(live_server, PEOPLE["admin"][0])
    accept_path = f"/invite/{token}"
    withdraw_path = f"/org/{world.org_a}/invitations/{invitation_id}/withdraw"
    forms = {
        "accept": (taker, taker.token(accept_path), {}),
        "withdraw": (admin, admin.token(withdraw_path), {"current_password": PASSWORD}),
    }

    def kind(n: int) -> str:  # three withdrawals (more would meet the password throttle) among them
        return "withdraw" if n % 3 == 0 else "accept"

    def send(n: int) -> requests.Response:
        browser, csrf, fields = forms[kind(n)]
        return requests.post(
            live_server + (withdraw_path if kind(n) == "withdraw" else accept_path),
            data={"csrf_token": csrf, **fields},
            cookies=browser.http.cookies.get_dict(),
            headers=dict(browser.http.headers),
            allow_redirects=False,
            timeout=60,
        )

    answers = at_once(AT_ONCE, send)
    assert_no_server_error(answers)
    outcome = _assert_one_outcome(app, invitation_id, colleague.id)
    accepted = [a for n, a in enumerate(answers) if kind(n) == "accept" and a.headers.get("Location") == "/"]
    withdrawn = [a for n, a in enumerate(answers) if kind(n) == "withdraw" and a.status_code == 302]
    assert (len(accepted), len(withdrawn)) == ((1, 0) if outcome == "accepted" else (0, 1))
    for n, answer in enumerate(answers):
        if kind(n) == "withdraw" and answer.status_code != 302:
            # The loser is told it lost; or, when the simultaneous password checks contended for
            # the admin's sign-in counter, asked to try again: either way it changed nothing.
            page = html.unescape(answer.text)
            told = "This invitation was already used or withdrawn." in page
            assert told or "Too many failed attempts. Try again in" in page, (
                answer.status_code,
                ERRORS.findall(page),
            )


def _assert_one_outcome(app, invitation_id: int, profile_id: int) -> str:
    """Accepted with the access, or withdrawn without it; never both, never half."""
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        links = _count(app, ServiceLink, ServiceLink.profile_id == profile_id)
        accepted = _count(
            app,
            AuditEvent,
            AuditEvent.event == "invitation.accepted",
            AuditEvent.details.contains(f'"invitation": {invitation_id},'),
        )
        withdrawn = _count(
            app,
            AuditEvent,
            AuditEvent.event == "invitation.withdrawn",
            AuditEvent.details.contains(f'"invitation": {invitation_id}'),
        )
        if invitation.accepted_at is not None:
            assert invitation.withdrawn_at is None and links == 2 and (accepted, withdrawn) == (1, 0)
            return "accepted"
        assert invitation.withdrawn_at is not None and links == 0 and (accepted, withdrawn) == (0, 1)
        return "withdrawn"


ROUNDS = 6


def test_withdraw_and_accept_raced_in_the_services_leave_one_outcome(app, world, users):
    """The same race without the pages' password check, so both sides run neck and neck: each
    thread has its own app context (its own database session), released by one barrier."""
    outcomes = []
    for round_ in range(ROUNDS):
        phone = f"+38067100{9900 + round_:04d}"
        colleague = users.create(phone=phone).id
        invitation_id, token = _invite(app, world, phone)
        errors: list[str] = []
        barrier = threading.Barrier(2)

        def take(token=token, colleague=colleague, errors=errors, barrier=barrier):
            with app.test_request_context():
                profile = db.session.get(Profile, colleague)
                barrier.wait()
                try:
                    accept(token, profile)
                except OrgError as error:
                    errors.append(str(error))

        def pull(invitation_id=invitation_id, errors=errors, barrier=barrier):
            with app.test_request_context():
                found = db.session.get(Invitation, invitation_id)
                actor = Actor.person(db.session.get(Profile, world.ids["admin"]))
                barrier.wait()
                try:
                    withdraw(actor, found)
                except OrgError as error:
                    errors.append(str(error))

        threads = [threading.Thread(target=take), threading.Thread(target=pull)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(errors) == 1, errors  # exactly one of the two lost
        outcomes.append(_assert_one_outcome(app, invitation_id, colleague))
        with app.app_context():
            assert by_token(token) is not None
    assert set(outcomes) <= {"accepted", "withdrawn"}


@pytest.mark.parametrize("takers", [AT_ONCE])
def test_an_invitation_taken_in_eight_threads_at_once_gives_one_access(app, world, users, takers):
    colleague = users.create(phone=NEW_PHONE).id
    invitation_id, token = _invite(app, world)

    def take(_n: int) -> str | None:
        with app.test_request_context():
            try:
                accept(token, db.session.get(Profile, colleague))
            except OrgError as error:
                return str(error)
            return None

    results = at_once(takers, take)
    assert results.count(None) == 1, results
    assert set(results) - {None} == {"This invitation was already used."}
    assert _count(app, ServiceLink, ServiceLink.profile_id == colleague) == 2
    assert _count(app, AuditEvent, AuditEvent.event == "access.granted") == 2


def test_an_invitation_resent_from_eight_threads_at_once_is_sent_once(app, world, outbox, time_machine):
    """The minute between two sendings holds under concurrency: one new link, one SMS."""
    time_machine.move_to(datetime.now(UTC), tick=False)
    invitation_id, first = _invite(app, world)
    time_machine.shift(timedelta(minutes=2))

    def again(_n: int) -> str | None:
        with app.test_request_context():
            found = db.session.get(Invitation, invitation_id)
            try:
                resend(Actor.person(db.session.get(Profile, world.ids["admin"])), found)
            except OrgError as error:
                return str(error)
            return None

    results = at_once(AT_ONCE, again)
    assert results.count(None) == 1, results
    assert all(r.startswith("The invitation was sent a moment ago.") for r in results if r is not None)
    sent = [m for m in outbox.messages(NEW_PHONE) if m.kind == "invitation_sms"]
    assert len(sent) == 2  # the first sending and one resend
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        assert invitation.sends == 2
        assert by_token(LINK.search(sent[0].text).group(1)).id == invitation_id  # the newest link works
        assert by_token(first) is None
