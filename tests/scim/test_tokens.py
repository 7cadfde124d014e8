"""An organisation's SCIM tokens: made on its page by its owner or an administrator, shown once,
kept as a hash, revocable with the password, audited; a token opens its own organisation only."""

from __future__ import annotations

import json
import re

import pytest

from idp.audit.models import AuditEvent
from idp.extensions import db
from idp.scim.models import ScimToken
from idp.security.crypto import token_digest
from tests.helpers.pages import sign_in, submit
from tests.helpers.records import PASSWORD
from tests.orgs.test_services import PEOPLE
from tests.scim.conftest import SCIM, make_token, user

SECRET = re.compile(r"<code data-scim-secret>([^<]+)</code>")


def _signed_in(app, name: str):
    http = app.test_client()
    assert sign_in(http, PEOPLE[name][0]).location == "/"
    return http


def _events(event: str) -> list[dict]:
    rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == event))
    return [json.loads(row.details) | {"actor": row.actor_profile_id} for row in rows]


def test_the_owner_makes_a_token_on_the_organisation_page_and_sees_it_once(app, world):
    http = _signed_in(app, "owner")
    page = http.get(f"/org/{world.org_a}").get_data(as_text=True)
    assert "Directory sync (SCIM)" in page and "No SCIM token yet." in page
    assert f"http://127.0.0.1:5000/scim/v2/{world.org_a}" in page
    made = submit(http, f"/org/{world.org_a}/scim/new", {"label": "Entra ID", "current_password": PASSWORD})
    assert made.status == 200, made.errors
    secret = SECRET.search(made.text).group(1)
    assert secret.startswith("bidscim_") and len(secret) > 40
    again = http.get(f"/org/{world.org_a}").get_data(as_text=True)
    assert secret not in again and "Entra ID" in again and "not used yet" in again
    assert "SCIM token made" in again  # the organisation's security events
    with app.app_context():
        (row,) = db.session.scalars(db.select(ScimToken))
        assert row.token_hash == token_digest(secret) and secret not in row.token_hash
        assert row.org_id == world.org_a and row.created_by == world.ids["owner"]
        (event,) = _events("scim.token_created")
        assert (
            event["org"] == world.org_a and event["token"] == row.id and event["actor"] == world.ids["owner"]
        )
        assert secret not in json.dumps(event)
    answer = app.test_client().get(
        f"/scim/v2/{world.org_a}/Users", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 200
    assert "last used" in http.get(f"/org/{world.org_a}").get_data(as_text=True)


def test_making_a_token_asks_for_the_password(app, world):
    http = _signed_in(app, "admin")
    refused = submit(http, f"/org/{world.org_a}/scim/new", {"label": "Okta", "current_password": "wrong"})
    assert refused.status == 200 and "data-scim-secret" not in refused.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ScimToken)) == 0


@pytest.mark.parametrize("name", ["member", "acc_owner", "outsider", "b_owner"])
def test_only_the_owner_and_administrators_see_the_card_and_make_tokens(app, world, name):
    http = _signed_in(app, name)
    page = http.get(f"/org/{world.org_a}")
    assert "Directory sync (SCIM)" not in page.get_data(as_text=True)
    assert http.get(f"/org/{world.org_a}/scim/new").status_code == 404


def test_a_revoked_token_gets_401_at_once(app, world, directory):
    assert directory.get("/Users").status_code == 200
    http = _signed_in(app, "admin")
    with app.app_context():
        row = db.session.scalar(db.select(ScimToken))
    revoked = submit(http, f"/org/{world.org_a}/scim/{row.id}/revoke", {"current_password": PASSWORD})
    assert revoked.location == f"/org/{world.org_a}#scim", revoked.errors
    answer = directory.get("/Users")
    assert answer.status_code == 401 and answer.content_type == SCIM
    body = answer.get_json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"] and body["status"] == "401"
    with app.app_context():
        assert db.session.get(ScimToken, row.id).revoked_at is not None
        (event,) = _events("scim.token_revoked")
        assert event["token"] == row.id and event["actor"] == world.ids["admin"]
    assert http.get(f"/org/{world.org_a}/scim/{row.id}/revoke").status_code == 404  # once


@pytest.mark.parametrize(
    "header",
    ["", "Bearer ", "Bearer bidscim_wrong", "Basic dXNlcjpwYXNz", "bearer bidscim_" + "x" * 43],
)
def test_without_a_valid_token_every_endpoint_answers_401(app, world, header):
    http = app.test_client()
    for path in ("/Users", "/ServiceProviderConfig", "/Schemas", "/ResourceTypes", ""):
        answer = http.get(f"/scim/v2/{world.org_a}{path}", headers={"Authorization": header})
        assert answer.status_code == 401 and answer.get_json()["status"] == "401", path


def test_another_organisations_token_reveals_nothing(app, world, directory):
    other = make_token(app, world, "b")
    created = directory.create(user("x@example.com", emails=[{"value": "x@example.com", "type": "work"}]))
    http = app.test_client()
    for org_ref in (str(world.org_a), "999", "abc"):
        for path in ("/Users", f"/Users/{created['id']}", "/ServiceProviderConfig"):
            answer = http.get(f"/scim/v2/{org_ref}{path}", headers={"Authorization": f"Bearer {other}"})
            assert answer.status_code == 401, (org_ref, path)
            assert answer.get_json()["detail"] == "A valid SCIM token is required"
    mine = http.get(f"/scim/v2/{world.org_b}/Users", headers={"Authorization": f"Bearer {other}"})
    assert mine.status_code == 200 and mine.get_json()["totalResults"] == 0


def test_requests_are_throttled_per_token(app, world, directory):
    from idp.scim import views

    assert views.RATE_LIMIT == "600 per minute"
    for _ in range(600):
        assert directory.get("/ServiceProviderConfig").status_code == 200
    answer = directory.get("/ServiceProviderConfig")
    assert answer.status_code == 429 and answer.content_type == SCIM
    assert answer.get_json()["status"] == "429"
    other = make_token(app, world, "b")
    assert (
        app.test_client()
        .get(f"/scim/v2/{world.org_b}/Users", headers={"Authorization": f"Bearer {other}"})
        .status_code
        == 200
    )
