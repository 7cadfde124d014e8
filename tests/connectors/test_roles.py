"""The role each cabinet request of the built-in connectors needs, checked on the server for every
role (a refusal is audited and sends the person back to the cabinet), and the role on the home."""

from __future__ import annotations

import pytest

from connectors.iptel.accounts import create_active
from connectors.multifon.store import provision
from idp.connectors.models import OWNER, USER, VIEWER, role_allows
from idp.extensions import db
from tests.connectors.access import grant, refusals
from tests.helpers.pages import csrf_token, sign_in

ACCOUNTS = {
    "multifon": ("+79260250730", "+7 (926) 025-07-30"),
    "iptel": ("+380442270001", "+380 44 227 0001"),
}
# (connector, method, URL rule under /services/<connector>, the least role it needs)
ROLE_TABLE = [
    *[
        ("multifon", "GET", path, VIEWER)
        for path in (
            "/cabinet",
            "/balance",
            "/tariff",
            "/caller-id",
            "/statistics",
            "/routing",
            "/trunk-lines",
        )
    ],
    ("multifon", "POST", "/routing", USER),
    ("multifon", "POST", "/trunk-lines", USER),
    *[
        ("multifon", method, path, OWNER)
        for path in ("/password/remind", "/password/remind/code", "/password/change", "/disconnect")
        for method in ("GET", "POST")
    ],
    ("multifon", "POST", "/password/remind/sms", OWNER),
    ("multifon", "POST", "/password/remind/resend", OWNER),
    *[("iptel", "GET", path, VIEWER) for path in ("/cabinet", "/forwarding", "/sip-data", "/setup")],
    ("iptel", "POST", "/forwarding/<condition>", USER),
    *[("iptel", method, path, OWNER) for path in ("/password", "/email") for method in ("GET", "POST")],
]
# The portal's pages outside the cabinet: before the account is linked, or from an e-mailed link.
OUTSIDE_THE_CABINET = {
    "iptel.activate",
    "iptel.forgot_password",
    "iptel.forgot_sent",
    "iptel.reset_password",
    "iptel.confirm_email",
    "iptel.confirm_email_post",
}


@pytest.fixture
def enter(app, client, users):
    """Provision the connector's account, let its owner link it, and sign in holding ``role``."""

    def go(connector: str, role: str):
        number, label = ACCOUNTS[connector]
        with app.app_context():
            if connector == "multifon":
                provision(number, "SipPassw0rd")
            else:
                create_active(number, "office@example.com", "SipPortal7Pass", "en")
        owner = users.create(first_name="Ivan", last_name="Petrenko")
        grant(app, owner, connector, number, label, OWNER)
        person = owner
        if role != OWNER:
            person = users.create()
            grant(app, person, connector, number, label, role)
        assert sign_in(client, person.phone).location == "/"
        assert client.get(f"/services/{connector}/").headers["Location"] == f"/services/{connector}/cabinet"
        return person

    return go


def test_roles_are_ordered_viewer_user_owner():
    allowed = {(held, needed) for held in (VIEWER, USER, OWNER) for needed in (VIEWER, USER, OWNER)}
    assert {pair for pair in allowed if role_allows(*pair)} == {
        (VIEWER, VIEWER),
        (USER, VIEWER),
        (USER, USER),
        (OWNER, VIEWER),
        (OWNER, USER),
        (OWNER, OWNER),
    }
    assert not role_allows("admin", VIEWER) and not role_allows("", VIEWER)


def test_the_role_table_names_every_cabinet_request(app):
    found = set()
    for rule in app.url_map.iter_rules():
        connector = rule.endpoint.split(".")[0]
        if connector in ACCOUNTS and rule.endpoint not in OUTSIDE_THE_CABINET:
            path = rule.rule.removeprefix(f"/services/{connector}")
            found |= {(connector, method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert found == {(connector, method, path) for connector, method, path, _role in ROLE_TABLE}


@pytest.mark.parametrize("role", [VIEWER, USER, OWNER])
@pytest.mark.parametrize(("connector", "method", "rule", "needed"), ROLE_TABLE)
def test_each_cabinet_request_needs_its_role(app, client, enter, connector, method, rule, needed, role):
    enter(connector, role)
    base = f"/services/{connector}"
    url = base + rule.replace("<condition>", "busy")
    if method == "GET":
        response = client.get(url)
    else:
        fields = {
            "csrf_token": csrf_token(client, f"{base}/cabinet"),
            "service_account": ACCOUNTS[connector][0],
        }
        response = client.post(url, data=fields)
    if role_allows(role, needed):
        assert refusals(app) == []
        assert response.status_code in (200, 302, 400)
    else:
        assert response.status_code == 302 and response.headers["Location"] == f"{base}/cabinet"
        [refused] = refusals(app)
        assert refused["role"] == role and refused["needed"] == needed
        assert refused["connector"] == connector and refused["account"] == ACCOUNTS[connector][0]


def test_a_degraded_home_card_still_names_the_role(app, client, enter):
    from tests.multifon.backends import FailingBackend

    enter("multifon", VIEWER)
    app.extensions["multifon_backend"] = FailingBackend()
    home = client.get("/").get_data(as_text=True)
    card = home.split('data-service-card="multifon"')[1]
    assert "service-card--degraded" in home and "Your role: viewer<" in card


def test_the_home_names_the_role_in_the_pages_language(app, client, enter):
    enter("iptel", USER)
    client.get("/lang/ru?next=/")
    home = client.get("/").get_data(as_text=True)
    assert "Ваша роль: пользователь" in home.split('data-service-card="iptel"')[1]


def test_a_changed_role_applies_to_the_next_request(app, client, enter):
    from idp.connectors.models import ServiceLink

    person = enter("iptel", USER)
    base = "/services/iptel"
    fields = {"csrf_token": csrf_token(client, f"{base}/cabinet"), "service_account": ACCOUNTS["iptel"][0]}
    with app.app_context():
        db.session.execute(
            db.update(ServiceLink).where(ServiceLink.profile_id == person.id).values(role=VIEWER)
        )
        db.session.commit()
    response = client.post(f"{base}/forwarding/busy", data={**fields, "busy-number": "+380671234567"})
    assert response.headers["Location"] == f"{base}/cabinet"
    assert refusals(app)[0]["role"] == VIEWER
