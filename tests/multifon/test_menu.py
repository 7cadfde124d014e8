"""The settings menu: remind the SIP password by SMS, change it, disconnect the service."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from idp.audit.models import AuditEvent
from idp.extensions import db
from tests.helpers.pages import sign_in, submit
from tests.helpers.records import PASSWORD
from tests.multifon.conftest import BASE, LABEL, NUMBER, SECOND, SIP_PASSWORD, link_account

NEW_SIP_PASSWORD = "Fresh5ipPass"


def _audit_text(app) -> str:
    with app.app_context():
        return "\n".join(f"{e.event} {e.details}" for e in db.session.scalars(db.select(AuditEvent)))


def _reminders(outbox) -> list:
    return [m for m in outbox.messages(NUMBER) if m.kind == "multifon_sip_password"]


# --- Remind password ----------------------------------------------------------------------------


def test_remind_needs_the_profile_password(cabinet, outbox):
    page = cabinet.post("/password/remind", {"current_password": "Wrong-passw0rd"}, follow=False)
    assert page.status == 200
    assert page.errors == ["The password of your business profile is wrong."]
    assert _reminders(outbox) == []


def test_remind_sends_the_sip_password_to_the_service_number(app, cabinet, outbox, caplog):
    page = cabinet.post("/password/remind", {"current_password": PASSWORD})
    assert ("success", f"We sent the SIP password by SMS to {LABEL}.") in page.flashes
    [sms] = _reminders(outbox)
    assert sms.channel == "sms" and sms.recipient == NUMBER
    assert SIP_PASSWORD in sms.text and LABEL in sms.text and "MultiFon Business" in sms.text
    audit = _audit_text(app)
    assert "multifon.password_reminded" in audit and SIP_PASSWORD not in audit
    assert SIP_PASSWORD not in caplog.text


def test_the_reminder_is_in_the_persons_language(app, client, users, accounts, outbox):

    profile = users.create(locale="ru")
    link_account(app, profile, NUMBER, LABEL)
    sign_in(client, profile.phone)
    client.get(f"{BASE}/")
    submit(client, f"{BASE}/password/remind", {"service_account": NUMBER, "current_password": PASSWORD})
    [sms] = _reminders(outbox)
    assert sms.locale == "ru" and "МультиФон Бизнес" in sms.text and "Пароль SIP" in sms.text


def test_remind_can_be_confirmed_by_an_sms_code_to_the_profiles_phone(cabinet, outbox):
    page = cabinet.post("/password/remind/sms", page="/password/remind", follow=False)
    assert page.location == "/services/multifon/password/remind/code"
    assert _reminders(outbox) == []
    code = outbox.code(cabinet.profile.phone)
    wrong = "000000" if code != "000000" else "111111"
    page = cabinet.post("/password/remind/code", {"code": wrong}, follow=False)
    assert page.status == 200 and page.errors and _reminders(outbox) == []
    page = cabinet.post("/password/remind/code", {"code": code})
    assert ("success", f"We sent the SIP password by SMS to {LABEL}.") in page.flashes
    assert SIP_PASSWORD in _reminders(outbox)[0].text


def test_a_spent_confirmation_code_is_followed_by_a_new_one_on_the_same_page(cabinet, outbox, time_machine):
    start = datetime.now(UTC)
    time_machine.move_to(start, tick=False)
    cabinet.post("/password/remind/sms", page="/password/remind")
    code = outbox.code(cabinet.profile.phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        page = cabinet.post("/password/remind/code", {"code": wrong}, follow=False)
    assert "data-code-spent" in page.text and 'name="code"' not in page.text
    assert "Send a new code" in page.text
    time_machine.move_to(start + timedelta(seconds=61), tick=False)
    page = cabinet.post("/password/remind/resend", page="/password/remind/code")
    assert ("info", "We sent a new code.") in page.flashes and 'name="code"' in page.text
    page = cabinet.post("/password/remind/code", {"code": outbox.code(cabinet.profile.phone)})
    assert ("success", f"We sent the SIP password by SMS to {LABEL}.") in page.flashes


def test_the_fourth_reminder_in_a_day_is_refused(cabinet, outbox):
    for _ in range(3):
        cabinet.post("/password/remind", {"current_password": PASSWORD})
    assert len(_reminders(outbox)) == 3
    assert "data-remind-limit" in cabinet.get("/password/remind").text
    page = cabinet.post("/password/remind/sms", page="/routing")
    assert page.flashes[-1][0] == "error" and "several times today" in page.flashes[-1][1]
    page = cabinet.post("/password/remind", {"current_password": PASSWORD}, page="/routing")
    assert page.flashes[-1][0] == "error" and "several times today" in page.flashes[-1][1]
    assert len(_reminders(outbox)) == 3
    assert outbox.messages(cabinet.profile.phone) == []  # no code was sent for nothing


# --- Change the SIP password --------------------------------------------------------------------


def test_changing_the_sip_password_retires_the_old_one(app, cabinet, outbox):
    from idp.connectors.registry import get

    page = cabinet.post(
        "/password/change",
        {"password": NEW_SIP_PASSWORD, "confirm": NEW_SIP_PASSWORD, "current_password": PASSWORD},
    )
    assert page.flashes[-1][0] == "success" and "SIP password has been changed" in page.flashes[-1][1]
    with app.app_context():
        connector = get("multifon")
        assert connector.verify_credentials(NUMBER, SIP_PASSWORD) is None
        assert connector.verify_credentials(NUMBER, NEW_SIP_PASSWORD).account == NUMBER
    audit = _audit_text(app)
    assert "multifon.sip_password_changed" in audit and NEW_SIP_PASSWORD not in audit
    cabinet.post("/password/remind", {"current_password": PASSWORD})
    assert NEW_SIP_PASSWORD in _reminders(outbox)[0].text


@pytest.mark.parametrize(
    ("new", "confirm", "current", "error"),
    [
        ("short1A", "short1A", PASSWORD, "At least 8 characters"),
        ("alllowercase1", "alllowercase1", PASSWORD, "capital Latin letter"),
        ("Fresh5ipPass", "Other5ipPass", PASSWORD, "The passwords do not match."),
        ("Fresh 5ipPass", "Fresh 5ipPass", PASSWORD, "without spaces"),
        ("Fresh5ipPass", "Fresh5ipPass", "Wrong-passw0rd", "The password of your business profile is wrong."),
    ],
)
def test_a_bad_new_sip_password_changes_nothing(app, cabinet, new, confirm, current, error):
    from idp.connectors.registry import get

    page = cabinet.post(
        "/password/change", {"password": new, "confirm": confirm, "current_password": current}, follow=False
    )
    assert page.status == 200 and any(error in e for e in page.errors), page.errors
    with app.app_context():
        assert get("multifon").verify_credentials(NUMBER, SIP_PASSWORD) is not None


# --- Disconnect ---------------------------------------------------------------------------------


def test_the_disconnect_page_names_the_consequences(cabinet):
    page = cabinet.get("/disconnect")
    assert "calls through MultiFon Business stop" in page.text
    assert "the SIP account no longer registers" in page.text
    assert "the account stays linked to your business profile" in page.text


def test_disconnecting_needs_the_password(cabinet, overview):
    page = cabinet.post("/disconnect", {"current_password": "Wrong-passw0rd"}, follow=False)
    assert page.errors == ["The password of your business profile is wrong."]
    assert overview().status == "active"


def test_a_disconnected_service_shows_so_and_refuses_changes(app, cabinet, overview, outbox):
    page = cabinet.post("/disconnect", {"current_password": PASSWORD})
    assert ("success", f"MultiFon Business is disconnected for {LABEL}.") in page.flashes
    assert "Service disconnected" in page.text and "Remind password" not in page.text
    assert overview().status == "disconnected"
    assert "multifon.disconnected" in _audit_text(app)
    # The account stays linked: the home shows it as disconnected.
    assert "Service disconnected" in cabinet.client.get("/").get_data(as_text=True)
    # Forms opened before the disconnection are refused, valid or not, and told why.
    for path, data in (
        ("/routing", {"routing": "GSM"}),
        ("/routing", {"routing": "XYZ"}),
        ("/trunk-lines", {"trunk_lines": "5"}),
        ("/trunk-lines", {"trunk_lines": "99"}),
        ("/password/remind", {"current_password": PASSWORD}),
        (
            "/password/change",
            {"password": NEW_SIP_PASSWORD, "confirm": NEW_SIP_PASSWORD, "current_password": PASSWORD},
        ),
        ("/password/change", {"password": "short", "confirm": "other", "current_password": "x"}),
        ("/disconnect", {"current_password": PASSWORD}),
    ):
        page = cabinet.post(path, data, page="/routing")  # a form that still has a token
        assert page.flashes == [("error", DISCONNECTED_REFUSAL)], (path, data)
        assert f'data-multifon-cabinet="{NUMBER}"' in page.text  # back in the cabinet
    assert overview().routing == "SIP" and overview().trunk_lines == 2
    assert overview().status == "disconnected"
    assert _reminders(outbox) == []
    assert _audit_text(app).count("multifon.disconnected") == 1


DISCONNECTED_NOTE = (
    "The service is disconnected for this account, so its settings cannot be changed. "
    "Only the operator can connect it again: contact your manager."
)
DISCONNECTED_REFUSAL = "Nothing was changed: the service is disconnected for this account."


def test_a_disconnected_accounts_pages_say_why_nothing_can_be_changed(cabinet, overview):
    """Every page of a disconnected account tells why, and who connects it again, beside what it
    shows disabled or no longer offers (as a role's refusal is told); no control is left unexplained."""
    from html import unescape

    cabinet.post("/disconnect", {"current_password": PASSWORD})
    note = f'id="mf-off-note" data-service-off>{DISCONNECTED_NOTE}<'
    for path in ("", "/routing", "/trunk-lines", "/password/remind", "/password/change", "/disconnect"):
        text = unescape(cabinet.get(path or "/cabinet").text)
        assert text.count(note) == 1, path
        assert f'<p class="menu__note" data-service-off>{DISCONNECTED_NOTE}<' in text, path
        # Every disabled control names the note that says why.
        disabled = text.count(" disabled")
        assert disabled == text.count(' disabled aria-describedby="mf-off-note"'), path
    routing = unescape(cabinet.get("/routing").text)
    assert 'class="svc-choices" disabled aria-describedby="mf-off-note">' in routing
    assert 'type="submit"' not in routing.split('class="svc-choices"')[1].split("</form>")[0]
    trunk_lines = cabinet.get("/trunk-lines").text
    assert 'name="trunk_lines"' not in trunk_lines and "2 lines" in trunk_lines
    # The Ukrainian and Russian pages say it in their language.
    for lang, words in (("uk", "може лише оператор"), ("ru", "может только оператор")):
        submit(cabinet.client, f"/lang/{lang}", page=f"{BASE}/routing")
        assert words in cabinet.get("/routing").text, lang


def test_the_operator_can_disconnect_through_the_connector(app, accounts, overview):
    from idp.connectors.registry import get

    with app.app_context():
        get("multifon").disconnect(SECOND)
        with pytest.raises(LookupError):
            get("multifon").disconnect("+79269999999")
    assert overview(SECOND).status == "disconnected"


def test_the_audit_never_holds_a_sip_password(app, cabinet):
    cabinet.post("/password/remind", {"current_password": PASSWORD})
    cabinet.post(
        "/password/change",
        {"password": NEW_SIP_PASSWORD, "confirm": NEW_SIP_PASSWORD, "current_password": PASSWORD},
    )
    audit = _audit_text(app)
    assert SIP_PASSWORD not in audit and NEW_SIP_PASSWORD not in audit
    assert json.loads(audit.splitlines()[-1].split(" ", 1)[1])["account"] == NUMBER
