"""Roles in the IP-telephony cabinet: a viewer sees the cards, forwarding and SIP data, a user also
sets forwarding, only the owner changes the password and the e-mail address (where the password's
links go); what a role may not use says why."""

from __future__ import annotations

from html import unescape

import pytest

from connectors.iptel.forwarding import BUSY, forwardings
from tests.connectors.access import events, grant, refusals
from tests.helpers.pages import CabinetClient, sign_in
from tests.iptel.conftest import BASE, EMAIL, LABEL, NUMBER, PASSWORD, link_account

NEW_PASSWORD = "Fresh5ipPass"
NEW_EMAIL = "accounts@example.com"
VIEWER_REFUSAL = (
    "Your role on this account is viewer: you can see its settings but not change them. "
    "Its owner, Ivan Petrenko, or your organisation's administrator can change your role."
)
OWNER_ONLY = (
    "Only the owner of this account can do this. "
    "Its owner, Ivan Petrenko, or your organisation's administrator can change your role."
)
BUSY_ON = {"busy-number": "+380671234567", "busy-enabled": "y"}


@pytest.fixture
def owner(app, users, active):
    """The owner of the active account, who linked it with its own credentials."""
    profile = users.create(first_name="Ivan", last_name="Petrenko")
    link_account(app, profile)
    return profile


@pytest.fixture
def colleague(app, client, users, owner):
    """Sign a colleague in with ``role`` on the owner's account, in its cabinet."""

    def enter(role: str) -> CabinetClient:
        profile = users.create()
        grant(app, profile, "iptel", NUMBER, LABEL, role)
        assert sign_in(client, profile.phone).location == "/"
        assert client.get(f"{BASE}/").headers["Location"] == f"{BASE}/cabinet"
        return CabinetClient(client, profile, NUMBER, BASE)

    return enter


def _busy(app):
    from connectors.iptel.accounts import find

    with app.app_context():
        return forwardings(find(NUMBER))[BUSY]


def _verifies(app, password: str) -> bool:
    from connectors.iptel.accounts import verify

    with app.app_context():
        return verify(NUMBER, password) is not None


def _flash_errors(page) -> list[str]:
    return [unescape(text) for kind, text in page.flashes if kind == "error"]


@pytest.mark.parametrize("path", ["/cabinet", "/forwarding", "/sip-data", "/setup"])
def test_a_viewer_sees_the_cards_forwarding_sip_data_and_set_up_help(colleague, path):
    page = colleague("viewer").get(path)
    assert page.status == 200
    assert 'data-account-role="viewer">Your role: viewer<' in page.text
    assert PASSWORD not in page.text


def test_a_viewer_sees_forwarding_disabled_with_the_reason(colleague):
    text = unescape(colleague("viewer").get("/forwarding").text)
    assert f'data-role-refused="user">{VIEWER_REFUSAL}<' in text
    assert text.count('<fieldset class="svc-fieldset" disabled aria-describedby="ip-role-note">') == 4


def test_a_viewers_forwarding_is_refused_and_changes_nothing(app, colleague):
    viewer = colleague("viewer")
    page = viewer.post("/forwarding/busy", BUSY_ON, page="/forwarding")
    assert _flash_errors(page) == [VIEWER_REFUSAL]
    assert 'data-iptel-cabinet="' in page.text
    assert not _busy(app).enabled and _busy(app).number is None
    assert events(app, "iptel.forwarding_set") == []
    [refused] = refusals(app)
    assert refused == {
        "connector": "iptel",
        "account": NUMBER,
        "role": "viewer",
        "needed": "user",
        "endpoint": "iptel.set_forwarding_view",
    }


def test_a_user_sets_forwarding(app, colleague):
    user = colleague("user")
    assert "data-role-refused" not in user.get("/forwarding").text.split("svc-forwarding")[1]
    page = user.post("/forwarding/busy", BUSY_ON, page="/forwarding")
    assert ("success", "Forwarding is on: When the line is busy → +380 67 123 4567.") in page.flashes
    assert _busy(app).enabled and _busy(app).number == "+380671234567"
    assert refusals(app) == []


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_the_owners_controls_are_shown_disabled_with_the_reason(colleague, role):
    member = colleague(role)
    text = unescape(member.get().text)
    for endpoint, label in (
        ("iptel.change_password", "Change password"),
        ("iptel.change_email", "Change e-mail"),
    ):
        off = f'<button type="button" disabled aria-describedby="ip-role-owner" data-role-off="{endpoint}">'
        assert f"{off}{label}<" in text
    assert f'id="ip-role-owner" data-role-refused="owner">{OWNER_ONLY}<' in text
    assert f'href="{BASE}/password"' not in text and f'href="{BASE}/email"' not in text
    email_card = text.split('data-card="email"')[1]
    assert f'data-role-refused="owner">{OWNER_ONLY}<' in email_card
    sip = unescape(member.get("/sip-data").text)
    assert f'data-role-refused="owner">{OWNER_ONLY}<' in sip and f'href="{BASE}/password"' not in sip


@pytest.mark.parametrize("path", ["/password", "/email"])
def test_a_user_cannot_open_the_password_or_e_mail_pages(app, colleague, path):
    user = colleague("user")
    page = user.get(path)
    assert page.status == 302 and page.location == f"{BASE}/cabinet"
    assert _flash_errors(user.get()) == [OWNER_ONLY]
    [refused] = refusals(app)
    assert refused["role"] == "user" and refused["needed"] == "owner"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/password", {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
        ("/email", {"email": NEW_EMAIL, "current_password": PASSWORD}),
    ],
)
def test_a_users_password_or_e_mail_change_is_refused(app, colleague, outbox, account, path, data):
    user = colleague("user")
    page = user.post(path, data, page="/cabinet")
    assert _flash_errors(page) == [OWNER_ONLY]
    assert _verifies(app, PASSWORD) and not _verifies(app, NEW_PASSWORD)
    assert account().email == EMAIL
    assert outbox.messages(EMAIL) == [] and outbox.messages(NEW_EMAIL) == []
    assert events(app, "iptel.password_changed") == events(app, "iptel.email_change_requested") == []
    [refused] = refusals(app)
    assert refused["needed"] == "owner" and refused["endpoint"] in (
        "iptel.change_password",
        "iptel.change_email",
    )


def test_the_owner_does_everything(app, client, owner, outbox):
    assert sign_in(client, owner.phone).location == "/"
    assert client.get(f"{BASE}/").headers["Location"] == f"{BASE}/cabinet"
    cabinet = CabinetClient(client, owner, NUMBER, BASE)
    text = cabinet.get().text
    assert "data-role-refused" not in text and "data-account-role" not in text
    assert f'href="{BASE}/password"' in text and f'href="{BASE}/email"' in text
    cabinet.post("/forwarding/busy", BUSY_ON, page="/forwarding")
    assert _busy(app).enabled
    cabinet.post(
        "/password", {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert _verifies(app, NEW_PASSWORD)
    cabinet.post("/email", {"email": NEW_EMAIL, "current_password": NEW_PASSWORD})
    assert outbox.last(NEW_EMAIL, "iptel_email_confirm")
    assert refusals(app) == []


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_the_colleagues_home_card_names_the_role(colleague, role):
    home = colleague(role).client.get("/").get_data(as_text=True)
    card = home.split('data-service-card="iptel"')[1]
    assert LABEL in card and f"Your role: {role}<" in card


def test_an_inactive_account_tells_a_colleague_that_the_owner_sets_the_password(app, colleague):
    from connectors.iptel.accounts import find
    from idp.extensions import db

    with app.app_context():
        find(NUMBER).status = "inactive"
        db.session.commit()
    text = colleague("user").get().text
    banner = text.split("data-iptel-inactive>")[1].split("</div>")[0]
    assert "Only the owner of this account can change it." in banner and "href=" not in banner
