"""SCIM Users of an organisation as Entra ID and Okta send them: a create invites the person, who
becomes a member by accepting; the filters, paging, PATCH, PUT and DELETE the directories use;
``active: false`` and DELETE remove the member (J8), ``active: true`` brings the membership back."""

from __future__ import annotations

import json

import pytest

from idp.audit.models import AuditEvent
from idp.extensions import db
from idp.orgs.invitations import accept
from idp.orgs.models import ORG_MEMBER, Invitation
from idp.orgs.services import membership
from idp.profiles.models import Profile
from idp.scim.models import ScimUser
from idp.scim.services import DEPROVISIONED
from tests.orgs.test_services import MF1, PEOPLE
from tests.scim.conftest import INVITE_LINK, PATCH_SCHEMA, SCIM, replace_active, user

NEW_PHONE = "+380671009999"
NEW_EMAIL = "ann.lee@romashka.example"


def ann(**fields) -> dict:
    return user(
        NEW_EMAIL,
        externalId="entra-0001",
        name={"givenName": "Ann", "familyName": "Lee"},
        displayName="Ann Lee",
        emails=[{"type": "work", "value": NEW_EMAIL, "primary": True}],
        phoneNumbers=[{"type": "mobile", "value": NEW_PHONE}],
        **fields,
    )


def _row(app, scim_id: str) -> ScimUser | None:
    with app.app_context():
        row = db.session.get(ScimUser, scim_id)
        if row is not None:
            db.session.expunge(row)
        return row


def _member_role(app, org_id: int, profile_id: int) -> str | None:
    with app.app_context():
        row = membership(org_id, profile_id)
        return row.role if row is not None else None


def _accept_as_new_person(app, users, outbox, kind: str = "invitation_sms", to: str = NEW_PHONE) -> int:
    token = INVITE_LINK.search(outbox.last(to, kind).text).group(1)
    profile_id = users.create(phone=NEW_PHONE, email=NEW_EMAIL).id
    with app.test_request_context():
        accept(token, db.session.get(Profile, profile_id))
    return profile_id


def _patch(directory, scim_id: str, body: dict, **kwargs):
    return directory.call("PATCH", f"/Users/{scim_id}", body, **kwargs)


# --- the connection tests ---------------------------------------------------------------------


def test_oktas_connection_test_gets_an_empty_page(directory):
    answer = directory.get("/Users", query_string={"startIndex": "1", "count": "2"})
    assert answer.status_code == 200 and answer.content_type == SCIM
    assert answer.get_json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }


def test_entras_connection_test_finds_nobody(directory):
    assert directory.find('userName eq "8f2c1c1e-4b7a-4c43-a0b8-1c2f5d0e9e11"') == []


@pytest.mark.parametrize("endpoint", ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"])
def test_the_discovery_endpoints_answer(directory, endpoint):
    answer = directory.get(endpoint)
    assert answer.status_code == 200 and answer.content_type == SCIM
    text = answer.get_data(as_text=True)
    if endpoint == "/ServiceProviderConfig":
        config = answer.get_json()
        assert (
            config["patch"]["supported"] and config["filter"]["supported"] and not config["bulk"]["supported"]
        )
        assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    else:
        assert "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" in text


# --- provisioning: invitation, then the person's own profile ----------------------------------


def test_a_created_user_is_invited_by_sms_and_joins_on_accepting(app, world, directory, users, outbox):
    created = directory.create(ann())
    assert created["userName"] == NEW_EMAIL and created["active"] is True
    assert created["meta"]["location"].endswith(f"/scim/v2/{world.org_a}/Users/{created['id']}")
    sms = outbox.last(NEW_PHONE, "invitation_sms")
    assert "you are invited to join TOV Romashka" in sms.text
    row = _row(app, created["id"])
    assert row.profile_id is None and row.invitation_id is not None and row.org_id == world.org_a
    profile_id = _accept_as_new_person(app, users, outbox)
    assert _member_role(app, world.org_a, profile_id) == ORG_MEMBER
    assert _row(app, created["id"]).profile_id == profile_id
    with app.app_context():
        (event,) = db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == "scim.user_linked"))
        assert event.profile_id == profile_id and json.loads(event.details)["scim_user"] == created["id"]
        invitation = db.session.get(Invitation, row.invitation_id)
        assert invitation.accounts == [] and invitation.inviter_id is None


def test_without_a_phone_number_the_invitation_goes_to_the_work_address(app, directory, outbox):
    body = ann()
    del body["phoneNumbers"]
    body["emails"].append({"type": "home", "value": "ann@home.example"})
    directory.create(body)
    letter = outbox.last(NEW_EMAIL, "invitation_email")
    assert "You are invited to join TOV Romashka" in letter.text and "Your role" not in letter.text
    assert INVITE_LINK.search(letter.text)


def test_a_user_without_any_address_waits_until_the_directory_gives_one(app, directory, outbox):
    created = directory.create(user("no-contact"))
    assert _row(app, created["id"]).invitation_id is None
    body = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [
            {"op": "add", "path": "phoneNumbers", "value": [{"type": "mobile", "value": NEW_PHONE}]}
        ],
    }
    assert _patch(directory, created["id"], body).status_code in (200, 204)
    assert _row(app, created["id"]).invitation_id is not None
    assert "you are invited to join" in outbox.last(NEW_PHONE, "invitation_sms").text
    assert _patch(directory, created["id"], body).status_code in (200, 204)
    assert len([m for m in outbox.messages(NEW_PHONE) if m.kind == "invitation_sms"]) == 1  # not twice


def test_a_person_already_in_the_organisation_is_linked_without_an_invitation(app, world, directory, outbox):
    phone, email = PEOPLE["member"]
    created = directory.create(user(email, emails=[{"type": "work", "value": email}]))
    assert _row(app, created["id"]).profile_id == world.ids["member"]
    assert [m for m in outbox.messages(email) if m.kind == "invitation_email"] == []


def test_user_names_are_unique_in_the_organisation_whatever_their_case(directory):
    directory.create(ann())
    answer = directory.call("POST", "/Users", ann(userName=NEW_EMAIL.upper()))
    assert answer.status_code == 409 and answer.get_json()["scimType"] == "uniqueness"


# --- what the directories look for ------------------------------------------------------------


@pytest.fixture
def three(directory) -> list[dict]:
    made = []
    for n in range(3):
        address = f"person{n}@romashka.example"
        made.append(
            directory.create(
                user(
                    address,
                    externalId=f"ext-{n}",
                    emails=[{"type": "work", "value": address, "primary": True}],
                )
            )
        )
    return made


def test_the_filters_entra_and_okta_send(directory, three):
    ids = lambda found: [r["id"] for r in found]  # noqa: E731
    assert ids(directory.find('userName eq "PERSON1@romashka.example"')) == [three[1]["id"]]
    assert ids(directory.find('externalId eq "ext-2"')) == [three[2]["id"]]
    assert ids(directory.find('emails[type eq "work"].value eq "person0@romashka.example"')) == [
        three[0]["id"]
    ]
    assert ids(directory.find('userName eq "person0@romashka.example" and externalId eq "ext-0"')) == [
        three[0]["id"]
    ]
    assert directory.find('externalId eq "ext-9"') == []


def test_paging_by_start_index_and_count(directory, three):
    pages = [
        directory.get(
            "/Users", query_string={"startIndex": str(start), "count": "2", "sortBy": "userName"}
        ).get_json()
        for start in (1, 3)
    ]
    assert [p["totalResults"] for p in pages] == [3, 3]
    assert [p["startIndex"] for p in pages] == [1, 3]
    names = [r["userName"] for p in pages for r in p["Resources"]]
    assert names == [f"person{n}@romashka.example" for n in range(3)]


def test_another_organisations_users_are_not_seen(app, world, directory, three):
    from tests.scim.conftest import Directory, make_token

    other = Directory(app.test_client(), f"/scim/v2/{world.org_b}", make_token(app, world, "b"))
    assert other.get("/Users").get_json()["totalResults"] == 0
    assert other.get(f"/Users/{three[0]['id']}").status_code == 404
    assert other.call("DELETE", f"/Users/{three[0]['id']}").status_code == 404


# --- changes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["replace", "Replace", "REPLACE"])
def test_patch_takes_the_op_in_any_case(directory, op):
    created = directory.create(ann())
    body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": op, "path": "displayName", "value": "Ann L."}]}
    assert _patch(directory, created["id"], body).status_code in (200, 204)
    assert directory.get(f"/Users/{created['id']}").get_json()["displayName"] == "Ann L."


def test_put_replaces_the_user(app, directory):
    created = directory.create(ann())
    replacement = user(NEW_EMAIL, externalId="entra-0001", name={"givenName": "Anna", "familyName": "Lee"})
    answer = directory.call("PUT", f"/Users/{created['id']}", replacement)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    stored = directory.get(f"/Users/{created['id']}").get_json()
    assert stored["name"] == {"givenName": "Anna", "familyName": "Lee"}
    assert "displayName" not in stored and "phoneNumbers" not in stored
    assert stored["meta"]["version"] != created["meta"]["version"]


def test_a_stale_version_is_refused(directory):
    created = directory.create(ann())
    _patch(directory, created["id"], replace_active(True))
    body = {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "displayName", "value": "X"}]}
    answer = _patch(directory, created["id"], body, headers={"If-Match": 'W/"999"'})
    assert answer.status_code == 412


@pytest.mark.parametrize("value", [False, "False", "false"])
def test_entras_unassignment_removes_the_member(app, world, directory, users, outbox, value):
    created = directory.create(ann())
    profile_id = _accept_as_new_person(app, users, outbox)
    answer = _patch(directory, created["id"], replace_active(value))
    assert answer.status_code in (200, 204), answer.get_data(as_text=True)
    assert _member_role(app, world.org_a, profile_id) is None
    assert directory.get(f"/Users/{created['id']}").get_json()["active"] is False
    with app.app_context():
        (event,) = db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == "org.member_removed"))
        details = json.loads(event.details)
        assert (
            details["reason"] == DEPROVISIONED
            and details["by"] == "client"
            and event.profile_id == profile_id
        )


def test_active_again_restores_the_membership_but_not_the_access(app, world, directory):
    email = PEOPLE["member"][1]
    created = directory.create(user(email, emails=[{"type": "work", "value": email}]))
    assert _patch(directory, created["id"], replace_active(False)).status_code in (200, 204)
    with app.app_context():
        assert world.member("member") is None and world.link("member", MF1) is None
    assert _patch(directory, created["id"], replace_active(True)).status_code in (200, 204)
    with app.app_context():
        assert world.member("member").role == ORG_MEMBER
        assert world.link("member", MF1) is None  # access to accounts is given again, not restored
    assert directory.get(f"/Users/{created['id']}").get_json()["active"] is True


def test_the_owner_is_not_removed_by_the_directory(app, world, directory):
    email = PEOPLE["owner"][1]
    created = directory.create(user(email, emails=[{"type": "work", "value": email}]))
    answer = _patch(directory, created["id"], replace_active(False))
    assert answer.status_code == 409 and answer.content_type == SCIM
    assert answer.get_json()["detail"] == "The organisation's owner can only be removed by the operator."
    assert directory.call("DELETE", f"/Users/{created['id']}").status_code == 409
    with app.app_context():
        assert world.member("owner") is not None
    assert directory.get(f"/Users/{created['id']}").get_json()["active"] is True


def test_delete_removes_the_member_and_the_user(app, world, directory):
    email = PEOPLE["member"][1]
    created = directory.create(user(email, emails=[{"type": "work", "value": email}]))
    assert directory.call("DELETE", f"/Users/{created['id']}").status_code == 204
    assert directory.get(f"/Users/{created['id']}").status_code == 404
    with app.app_context():
        assert world.member("member") is None and world.link("member", MF1) is None


def test_unassigning_before_the_invitation_is_accepted_withdraws_it(app, directory, users, outbox):
    created = directory.create(ann())
    assert _patch(directory, created["id"], replace_active(False)).status_code in (200, 204)
    with app.app_context():
        assert db.session.get(Invitation, _row(app, created["id"]).invitation_id).withdrawn_at is not None
    before = len(outbox.messages(NEW_PHONE))
    assert _patch(directory, created["id"], replace_active(True)).status_code in (200, 204)
    assert len(outbox.messages(NEW_PHONE)) == before + 1  # a new invitation
    _accept_as_new_person(app, users, outbox)
    assert _row(app, created["id"]).profile_id is not None


def test_oktas_put_with_active_false_suspends_and_true_restores(app, world, directory):
    email = PEOPLE["member"][1]
    body = user(email, emails=[{"type": "work", "value": email}], active="True")
    created = directory.create(body)
    assert created["active"] is True
    suspended = directory.call("PUT", f"/Users/{created['id']}", {**body, "active": False})
    assert suspended.status_code == 200 and suspended.get_json()["active"] is False
    with app.app_context():
        assert world.member("member") is None
    restored = directory.call("PUT", f"/Users/{created['id']}", {**body, "active": True})
    assert restored.status_code == 200 and restored.get_json()["active"] is True
    with app.app_context():
        assert world.member("member").role == ORG_MEMBER
