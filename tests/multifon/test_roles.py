"""Roles in the MultiFon cabinet: a viewer sees, a user also changes routing and trunk lines, only
the owner touches the SIP password and disconnects; what a role may not use says why."""

from __future__ import annotations

from html import unescape

import pytest

from connectors.multifon.store import ProvisioningStore
from tests.connectors.access import events, grant, refusals
from tests.helpers.pages import CabinetClient, sign_in
from tests.helpers.records import PASSWORD
from tests.multifon.conftest import BASE, LABEL, NUMBER, SIP_PASSWORD, link_account

NEW_SIP_PASSWORD = "N3wSipPassword"
VIEWER_REFUSAL = (
    "Your role on this account is viewer: you can see its settings but not change them. "
    "Its owner, Ivan Petrenko, or your organisation's administrator can change your role."
)
OWNER_ONLY = (
    "Only the owner of this account can do this. "
    "Its owner, Ivan Petrenko, or your organisation's administrator can change your role."
)
READ_PAGES = ["/cabinet", "/balance", "/tariff", "/caller-id", "/statistics", "/routing", "/trunk-lines"]
OWNER_PAGES = ["/password/remind", "/password/change", "/disconnect"]


@pytest.fixture
def owner(app, users, accounts):
    """The owner of the account, who linked it with its own credentials."""
    profile = users.create(first_name="Ivan", last_name="Petrenko")
    link_account(app, profile, NUMBER, LABEL)
    return profile


@pytest.fixture
def colleague(app, client, users, owner):
    """Sign a colleague in with ``role`` on the owner's account, in its cabinet."""

    def enter(role: str) -> CabinetClient:
        profile = users.create()
        grant(app, profile, "multifon", NUMBER, LABEL, role)
        assert sign_in(client, profile.phone).location == "/"
        assert client.get(f"{BASE}/").headers["Location"] == f"{BASE}/cabinet"
        return CabinetClient(client, profile, NUMBER, BASE)

    return enter


def _store(app, call):
    with app.app_context():
        return call(ProvisioningStore())


def _flash_errors(page) -> list[str]:
    return [unescape(text) for kind, text in page.flashes if kind == "error"]


@pytest.mark.parametrize("path", READ_PAGES)
def test_a_viewer_sees_every_card_and_details_page(colleague, path):
    viewer = colleague("viewer")
    page = viewer.get(path)
    assert page.status == 200
    assert 'data-account-role="viewer">Your role: viewer<' in page.text


def test_a_viewer_sees_the_settings_disabled_with_the_reason(colleague):
    viewer = colleague("viewer")
    for path in ("/routing", "/trunk-lines"):
        text = unescape(viewer.get(path).text)
        assert f'data-role-refused="user">{VIEWER_REFUSAL}<' in text, path
        assert "disabled" in text and 'aria-describedby="mf-role-note"' in text, path
    routing = viewer.get("/routing").text
    assert 'class="svc-choices" disabled aria-describedby="mf-role-note">' in routing


@pytest.mark.parametrize(
    ("path", "data"), [("/routing", {"routing": "GSM"}), ("/trunk-lines", {"trunk_lines": "9"})]
)
def test_a_viewers_change_of_a_setting_is_refused_and_changes_nothing(app, colleague, overview, path, data):
    viewer = colleague("viewer")
    page = viewer.post(path, data, page="/cabinet")
    assert _flash_errors(page) == [VIEWER_REFUSAL]
    assert 'data-multifon-cabinet="' in page.text  # back in the cabinet
    assert overview().routing == "SIP" and overview().trunk_lines == 2
    assert events(app, "multifon.routing_changed") == events(app, "multifon.trunk_lines_changed") == []
    [refused] = refusals(app)
    assert refused["role"] == "viewer" and refused["needed"] == "user"
    assert refused["account"] == NUMBER and refused["connector"] == "multifon"


def test_a_user_changes_the_routing_and_the_trunk_lines(app, colleague, overview):
    user = colleague("user")
    assert "data-role-refused" not in user.get("/routing").text.split('class="menu"')[0]
    page = user.post("/routing", {"routing": "SIP+GSM"})
    assert ("success", "Incoming calls now go to SIP+GSM.") in page.flashes
    page = user.post("/trunk-lines", {"trunk_lines": "7"})
    assert ("success", "The trunk-line limit is now 7.") in page.flashes
    assert overview().routing == "SIP+GSM" and overview().trunk_lines == 7
    assert events(app, "multifon.routing_changed")[-1]["routing"] == "SIP+GSM"
    assert refusals(app) == []
    trunk = user.get("/trunk-lines").text
    assert "disabled" not in trunk.split("<form")[1]


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_the_menu_shows_the_owners_entries_disabled_with_the_reason(colleague, role):
    text = unescape(colleague(role).get().text)
    for endpoint, label in (
        ("multifon.remind", "Remind password"),
        ("multifon.change_password", "Change password"),
        ("multifon.disconnect", "Disconnect the service"),
    ):
        off = f'<button type="button" disabled aria-describedby="mf-role-owner" data-role-off="{endpoint}">'
        assert f"{off}{label}<" in text
    assert f'id="mf-role-owner" data-role-refused="owner">{OWNER_ONLY}<' in text
    for path in OWNER_PAGES:
        assert f'href="{BASE}{path}"' not in text


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_a_user_cannot_open_the_owners_pages(app, colleague, path):
    user = colleague("user")
    page = user.get(path)
    assert page.status == 302 and page.location == f"{BASE}/cabinet"
    assert _flash_errors(user.get()) == [OWNER_ONLY]
    [refused] = refusals(app)
    assert refused["role"] == "user" and refused["needed"] == "owner"
    assert refused["endpoint"].startswith("multifon.")


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/password/change",
            {"password": NEW_SIP_PASSWORD, "confirm": NEW_SIP_PASSWORD, "current_password": PASSWORD},
        ),
        ("/password/remind", {"current_password": PASSWORD}),
        ("/password/remind/sms", {}),
        ("/password/remind/resend", {}),
        ("/disconnect", {"current_password": PASSWORD}),
    ],
)
def test_a_users_sip_password_and_disconnection_are_refused(app, colleague, outbox, overview, path, data):
    user = colleague("user")
    page = user.post(path, data, page="/cabinet")
    assert _flash_errors(page) == [OWNER_ONLY]
    assert _store(app, lambda store: store.verify(NUMBER, SIP_PASSWORD))
    assert not _store(app, lambda store: store.verify(NUMBER, NEW_SIP_PASSWORD))
    assert overview().status == "active"
    assert outbox.messages(NUMBER) == [] and outbox.messages(user.profile.phone) == []
    assert events(app, "multifon.sip_password_changed") == events(app, "multifon.disconnected") == []
    assert events(app, "multifon.password_reminded") == []
    [refused] = refusals(app)
    assert refused["needed"] == "owner" and refused["role"] == "user"


def test_the_owner_does_everything(app, client, owner, overview, outbox):
    assert sign_in(client, owner.phone).location == "/"
    assert client.get(f"{BASE}/").headers["Location"] == f"{BASE}/cabinet"
    cabinet = CabinetClient(client, owner, NUMBER, BASE)
    text = cabinet.get().text
    assert "data-role-refused" not in text and "data-account-role" not in text
    for path in OWNER_PAGES:
        assert f'href="{BASE}{path}"' in text
        assert cabinet.get(path).status == 200
    cabinet.post("/routing", {"routing": "GSM"})
    cabinet.post(
        "/password/change",
        {"password": NEW_SIP_PASSWORD, "confirm": NEW_SIP_PASSWORD, "current_password": PASSWORD},
    )
    assert _store(app, lambda store: store.verify(NUMBER, NEW_SIP_PASSWORD))
    cabinet.post("/password/remind", {"current_password": PASSWORD})
    assert NEW_SIP_PASSWORD in outbox.last(NUMBER, "multifon_sip_password").text
    cabinet.post("/disconnect", {"current_password": PASSWORD})
    assert overview().status == "disconnected" and overview().routing == "GSM"
    assert refusals(app) == []


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_the_colleagues_home_card_names_the_role(colleague, role):
    home = colleague(role).client.get("/").get_data(as_text=True)
    card = home.split('data-service-card="multifon"')[1]
    assert LABEL in card and f"Your role: {role}<" in card


def test_the_owners_home_card_names_no_role(client, owner):
    assert sign_in(client, owner.phone).location == "/"
    home = client.get("/").get_data(as_text=True)
    assert 'data-service-card="multifon"' in home and "Your role" not in home


def test_the_role_is_shown_in_the_pages_language(client, colleague):
    viewer = colleague("viewer")
    client.get("/lang/uk?next=/")
    text = unescape(viewer.get("/routing").text)
    assert "Ваша роль: спостерігач" in text and "Your role" not in text
    assert "Ваша роль у цьому обліковому записі — «спостерігач»" in text
    assert "Змінити вашу роль може його власник, Ivan Petrenko" in text
