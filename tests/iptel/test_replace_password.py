"""A new password when somebody's access is taken away (J8): the old one stops working at once and
the account's address gets a link to set a new one, which keeps the links the owner left."""

from __future__ import annotations

from idp.connectors.links import account_links
from idp.connectors.registry import get
from tests.connectors.access import events, grant
from tests.helpers.pages import sign_in, submit
from tests.iptel.conftest import BASE, EMAIL, LABEL, NUMBER, PASSWORD, link_account

KIND = "iptel_password_replaced"
NEW_PASSWORD = "Fresh5ipPass"


def _replace(app, number: str = NUMBER) -> bool:
    with app.test_request_context():
        return get("iptel").replace_password(number)


def _verifies(app, password: str) -> bool:
    from connectors.iptel.accounts import verify

    with app.app_context():
        return verify(NUMBER, password) is not None


def _holders(app) -> list[int]:
    with app.app_context():
        return sorted(row.profile_id for row in account_links("iptel", NUMBER))


def test_the_old_password_stops_working_and_the_address_gets_a_link(app, client, users, active, outbox):
    owner = users.create()
    link_account(app, owner)
    assert _replace(app) is True
    assert not _verifies(app, PASSWORD)
    letter = outbox.last(EMAIL, KIND)
    assert "was taken away" in letter.text and LABEL in letter.text and PASSWORD not in letter.text
    assert letter.subject == "Access to your IP-telephony service changed: set a new password"
    assert events(app, "iptel.password_replaced") == [{"connector": "iptel", "account": NUMBER}]
    link = outbox.link(EMAIL, KIND)
    assert client.get(link).status_code == 200
    page = submit(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert page.location == f"{BASE}/login"
    assert _verifies(app, NEW_PASSWORD)
    assert _holders(app) == [owner.id]  # unlike "Forgot password?", the owner keeps the account
    assert outbox.messages(EMAIL)[0].kind == "iptel_password_changed"  # no "links ended" letter
    assert client.get(link).status_code == 400  # it works once


def test_the_owner_still_opens_the_cabinet_after_the_replacement(app, client, users, active, outbox):
    owner = users.create()
    link_account(app, owner)
    assert _replace(app)
    assert sign_in(client, owner.phone).location == "/"
    assert client.get(f"{BASE}/").headers["Location"] == f"{BASE}/cabinet"
    assert client.get(f"{BASE}/cabinet").status_code == 200


def test_an_inactive_account_loses_its_initial_password_and_is_activated_by_the_link(
    app, client, connected, outbox, account
):
    initial = connected
    assert _replace(app)
    assert not _verifies(app, initial)
    assert account().status == "inactive"
    submit(client, outbox.link(EMAIL, KIND), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert account().status == "active" and _verifies(app, NEW_PASSWORD)


def test_a_disconnected_or_unknown_account_is_not_replaced(app, active, outbox):
    from connectors.iptel.accounts import disconnect

    with app.app_context():
        disconnect(NUMBER)
    assert _replace(app) is False
    assert _replace(app, "+380442279999") is False
    assert outbox.messages(EMAIL) == []
    assert events(app, "iptel.password_replaced") == []


def test_revoking_a_colleague_with_a_new_password_sends_the_link(app, users, active, outbox):
    from idp.extensions import db
    from idp.orgs.revocation import revoke_access
    from idp.orgs.services import Actor
    from idp.profiles.models import Profile

    owner, colleague = users.create(), users.create()
    link_account(app, owner)
    grant(app, colleague, "iptel", NUMBER, LABEL, "user")
    with app.test_request_context():
        [held] = [row for row in account_links("iptel", NUMBER) if row.profile_id == colleague.id]
        done = revoke_access(
            Actor.person(db.session.get(Profile, owner.id)), held, "left", replace_password=True
        )
    assert done.passwords_replaced == [LABEL]
    assert _holders(app) == [owner.id]
    assert not _verifies(app, PASSWORD)
    assert outbox.last(EMAIL, KIND)
    assert all(message.kind != KIND for message in outbox.messages(colleague.email))
