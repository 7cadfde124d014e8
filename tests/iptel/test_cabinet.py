"""The cabinet (seed 000): call forwarding with its bad inputs, SIP data without the password,
the changes of e-mail and password with their notices, stale tabs and a disconnected service."""

from __future__ import annotations

from html import unescape

import pytest

from connectors.iptel.forwarding import BUSY, NO_ANSWER, UNCONDITIONAL, forwardings
from tests.iptel.conftest import EMAIL, LABEL, NUMBER, PASSWORD

NEW_EMAIL = "accounts@example.com"
NEW_PASSWORD = "Fresh5ipPass"


def forwarding_of(app, condition):
    from connectors.iptel.accounts import find

    with app.app_context():
        return forwardings(find(NUMBER))[condition]


def test_the_cabinet_shows_status_forwarding_sip_data_and_e_mail(cabinet):
    page = cabinet.get()
    assert page.status == 200
    for card in ("status", "forwarding", "sip", "email"):
        assert f'data-card="{card}"' in page.text
    assert LABEL in page.text and "380442270001" in page.text and EMAIL in page.text
    assert "Service active" in page.text and PASSWORD not in page.text


def test_forwarding_is_set_switched_off_and_keeps_its_number(app, cabinet):
    page = cabinet.post(
        "/forwarding/busy", {"busy-number": "067 123 4567", "busy-enabled": "y"}, page="/forwarding"
    )
    assert ("success", "Forwarding is on: When the line is busy → +380 67 123 4567.") in page.flashes
    assert forwarding_of(app, BUSY).number == "+380671234567" and forwarding_of(app, BUSY).enabled
    page = cabinet.post("/forwarding/busy", {"busy-number": "+380671234567"}, page="/forwarding")
    assert ("success", "Forwarding is off: When the line is busy.") in page.flashes
    assert not forwarding_of(app, BUSY).enabled and forwarding_of(app, BUSY).number
    assert "+380 67 123 4567" in cabinet.get("/forwarding").text  # kept for next time
    page = cabinet.post(
        "/forwarding/no_answer",
        {"no_answer-number": "+380501112233", "no_answer-enabled": "y", "no_answer-delay": "30"},
        page="/forwarding",
    )
    assert forwarding_of(app, NO_ANSWER).delay_seconds == 30
    assert "When there is no answer" in cabinet.get().text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"unconditional-number": "12345", "unconditional-enabled": "y"}, "Enter a valid phone number"),
        (
            {"unconditional-number": "+380 44 227 0001", "unconditional-enabled": "y"},
            "cannot be forwarded to this account's own number",
        ),
        ({"unconditional-number": "", "unconditional-enabled": "y"}, "Enter the number to forward"),
    ],
)
def test_bad_forwarding_numbers_are_refused_and_change_nothing(app, cabinet, fields, message):
    page = cabinet.post("/forwarding/unconditional", fields, page="/forwarding")
    assert page.status == 400 and any(message in unescape(e) for e in page.errors), page.errors
    assert forwarding_of(app, UNCONDITIONAL).enabled is False
    assert forwarding_of(app, UNCONDITIONAL).number is None


def test_a_delay_outside_the_choices_is_refused(app, cabinet):
    page = cabinet.post(
        "/forwarding/no_answer",
        {"no_answer-number": "+380501112233", "no_answer-enabled": "y", "no_answer-delay": "7"},
        page="/forwarding",
    )
    assert page.status == 400 and page.errors
    assert forwarding_of(app, NO_ANSWER).enabled is False


def test_forwarding_not_authorised_for_the_account_is_refused(app, cabinet):
    from connectors.iptel.accounts import find
    from idp.extensions import db

    with app.app_context():
        find(NUMBER).forwarding_allowed = False
        db.session.commit()
    text = unescape(cabinet.get("/forwarding").text)
    assert 'id="ip-forwarding-note" data-forwarding-not-allowed>' in text
    # Each disabled form names the note that says why.
    assert text.count('<fieldset class="svc-fieldset" disabled aria-describedby="ip-forwarding-note">') == 4
    assert "data-forwarding-not-allowed" in cabinet.get().text  # the cabinet's card says it too
    page = cabinet.post(
        "/forwarding/busy", {"busy-number": "+380671234567", "busy-enabled": "y"}, page="/forwarding"
    )
    assert page.status == 400 and any("not authorised" in error for error in page.errors)


def test_sip_data_shows_everything_but_the_password(cabinet, settings):
    page = cabinet.get("/sip-data")
    assert 'data-sip="login">380442270001<' in page.text
    assert 'data-sip="server">sip.iptel.example<' in page.text
    assert 'data-sip="port">5060<' in page.text and 'data-sip="transport">UDP<' in page.text
    assert "data-sip-password-note" in page.text and PASSWORD not in page.text
    help_page = cabinet.get("/setup")
    assert 'data-setup="softphone"' in help_page.text and 'data-setup="hardware"' in help_page.text


@pytest.mark.idp_settings(
    IDP_IPTEL_SIP_SERVER="sbc.operator.example",
    IDP_IPTEL_SIP_PORT="5061",
    IDP_IPTEL_SIP_TRANSPORT="tls",
    IDP_IPTEL_OUTBOUND_PROXY="proxy.example",
    IDP_IPTEL_SIP_REALM="operator.example",
)
def test_sip_data_comes_from_the_configuration(cabinet):
    page = cabinet.get("/sip-data")
    for value in ("sbc.operator.example", ">5061<", ">TLS<", "proxy.example", "operator.example"):
        assert value in page.text


def test_changing_the_e_mail_needs_the_new_address_confirmed_and_tells_both(app, cabinet, outbox, account):
    page = cabinet.post("/email", {"email": NEW_EMAIL, "current_password": "Wr0ngPass"})
    assert page.errors == ["The current password is wrong."]
    assert outbox.messages(NEW_EMAIL) == []
    page = cabinet.post("/email", {"email": EMAIL, "current_password": PASSWORD})
    assert page.errors == ["This is already the e-mail address of the account."]
    page = cabinet.post("/email", {"email": NEW_EMAIL, "current_password": PASSWORD})
    assert any(NEW_EMAIL in text for _kind, text in page.flashes)
    assert account().email == EMAIL  # not before the link is followed
    assert "data-pending-email" in cabinet.get("/email").text
    link = outbox.link(NEW_EMAIL, "iptel_email_confirm")
    assert cabinet.client.get(link).status_code == 200 and account().email == EMAIL  # GET changes nothing
    page = cabinet.post(link.removeprefix("/services/iptel"), {}, follow=True)
    assert account().email == NEW_EMAIL
    old = outbox.last(EMAIL, "iptel_email_changed_old")
    new = outbox.last(NEW_EMAIL, "iptel_email_changed_new")
    assert NEW_EMAIL in old.text and EMAIL in new.text
    assert cabinet.client.get(link).status_code == 400  # used


def test_changing_the_password_needs_the_current_one_and_sends_a_notice_without_it(app, cabinet, outbox):
    from connectors.iptel.accounts import verify

    fields = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    page = cabinet.post("/password", {**fields, "current_password": "Wr0ngPass"})
    assert page.errors == ["The current password is wrong."]
    page = cabinet.post("/password", {"password": "weak", "confirm": "weak", "current_password": PASSWORD})
    assert page.errors and outbox.messages(EMAIL) == []
    page = cabinet.post("/password", {**fields, "current_password": PASSWORD})
    assert any("The password has been changed" in text for _kind, text in page.flashes)
    notice = outbox.last(EMAIL, "iptel_password_changed")
    assert NEW_PASSWORD not in notice.text and NEW_PASSWORD not in notice.html
    with app.app_context():
        assert verify(NUMBER, NEW_PASSWORD) and not verify(NUMBER, PASSWORD)


def test_a_form_from_another_accounts_tab_changes_nothing(app, cabinet):
    page = cabinet.post(
        "/forwarding/busy",
        {"busy-number": "+380671234567", "busy-enabled": "y"},
        account="+380442270002",
        page="/forwarding",
    )
    assert any("nothing was changed" in text for _kind, text in page.flashes)
    assert not forwarding_of(app, BUSY).enabled


def test_a_disconnected_service_shows_and_refuses_changes(app, cabinet):
    from connectors.iptel.accounts import disconnect

    with app.app_context():
        disconnect(NUMBER)
    page = cabinet.get()
    assert "data-iptel-disconnected" in page.text and "Service disconnected" in page.text
    # Forms opened before are refused, valid or not, and the cabinet tells why.
    for path, data in (
        ("/forwarding/busy", {"busy-number": "+380671234567", "busy-enabled": "y"}),
        ("/forwarding/no_answer", {"no_answer-number": "1", "no_answer-delay": "7"}),
        ("/password", {"current_password": PASSWORD, "password": "Fresh5ipPass", "confirm": "Fresh5ipPass"}),
        ("/email", {"email": "accounts@example.com", "current_password": PASSWORD}),
        ("/email", {"email": "not-an-address"}),
    ):
        page = cabinet.post(path, data, page="/forwarding")
        assert page.flashes == [("error", DISCONNECTED_REFUSAL)], (path, data)
        assert 'data-iptel-cabinet="' in page.text
    assert not forwarding_of(app, BUSY).enabled and forwarding_of(app, BUSY).number is None
    assert not forwarding_of(app, NO_ANSWER).enabled


DISCONNECTED_NOTE = (
    "The service is disconnected for this account, so its settings cannot be changed. "
    "Only the operator can connect it again: contact your manager."
)
DISCONNECTED_REFUSAL = "Nothing was changed: the service is disconnected for this account."


def test_a_disconnected_accounts_pages_say_why_nothing_can_be_changed(app, cabinet):
    """Beside what a disconnected account's pages show disabled or no longer offer: why, and who
    connects it again, as a role's refusal is told; every disabled control names that note."""
    from connectors.iptel.accounts import disconnect

    with app.app_context():
        disconnect(NUMBER)
    note = f'id="ip-off-note" data-service-off data-iptel-disconnected>{DISCONNECTED_NOTE}<'
    for path in ("/cabinet", "/forwarding", "/password", "/email", "/sip-data", "/setup"):
        text = unescape(cabinet.get(path).text)
        assert text.count(note) == 1, path
        assert f'<p class="menu__note" data-service-off>{DISCONNECTED_NOTE}<' in text, path
        assert text.count(" disabled") == text.count(' disabled aria-describedby="ip-off-note"'), path
    forwarding = unescape(cabinet.get("/forwarding").text)
    assert forwarding.count('<fieldset class="svc-fieldset" disabled aria-describedby="ip-off-note">') == 4
    # The note stands next to the controls: after the page's heading, before the first card.
    assert forwarding.index("<h1>") < forwarding.index(note) < forwarding.index("data-forwarding=")
    for path in ("/password", "/email"):
        text = unescape(cabinet.get(path).text)
        assert 'name="current_password"' not in text
        assert text.index('class="card svc-detail"') < text.index(note), path


def test_the_profile_home_shows_the_account_card(cabinet):
    cabinet.post(
        "/forwarding/unreachable",
        {"unreachable-number": "+380671234567", "unreachable-enabled": "y"},
        page="/forwarding",
    )
    home = cabinet.client.get("/").get_data(as_text=True)
    assert LABEL in home and "Service active" in home
    assert "When the phone is unreachable → +380 67 123 4567" in home


def test_the_services_claim_tells_the_status(app, cabinet):
    from idp.connectors.links import links_of
    from idp.connectors.registry import get

    with app.app_context():
        (link,) = links_of(cabinet.profile.id, "iptel")
        assert get("iptel").claims(link) == {"service": "iptel", "status": "active"}


def test_an_invalid_new_address_or_an_overlong_number_is_refused(app, cabinet, outbox, account):
    page = cabinet.post("/email", {"email": "not-an-address", "current_password": PASSWORD})
    assert page.errors == ["Enter a valid e-mail address, e.g. name@company.com."]
    assert account().email == EMAIL and outbox.messages() == []
    page = cabinet.post(
        "/forwarding/busy", {"busy-number": "+380" + "6" * 40, "busy-enabled": "y"}, page="/forwarding"
    )
    assert page.status == 400 and page.errors
    assert forwarding_of(app, BUSY).number is None
