"""SCIM Groups: the roles on an organisation's accounts. The directory lists and reads them, puts
people in them (the role is given at once, or when a pending person accepts their invitation) and
takes people out (the access goes with the J8 cascade); it cannot create or delete one."""

from __future__ import annotations

import json

from idp.audit.models import AuditEvent
from idp.connectors.links import links_of
from idp.connectors.models import OWNER, USER, VIEWER
from idp.extensions import db
from idp.orgs.invitations import accept
from idp.orgs.services import account_label
from idp.profiles.models import Profile
from idp.scim.groups import REMOVED
from tests.helpers.pages import is_signed_in, sign_in
from tests.orgs.test_services import MF1, MF2, MF3, MF4, PEOPLE
from tests.scim.conftest import INVITE_LINK, PATCH_SCHEMA, user

GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
NEW_PHONE = "+380671009999"


def gid(account: str, role: str) -> str:
    return f"multifon.{account.lstrip('+')}.{role}"


def _label(app, account: str) -> str:
    with app.app_context():
        return account_label("multifon", account)


def _scim_user(directory, name: str) -> str:
    """The SCIM User of a person of the world, linked at once by their phone number."""
    return directory.create(
        user(PEOPLE[name][1], phoneNumbers=[{"type": "mobile", "value": PEOPLE[name][0]}])
    )["id"]


def _members(directory, group_id: str) -> list[str]:
    answer = directory.get(f"/Groups/{group_id}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [member["value"] for member in answer.get_json().get("members", [])]


def _patch(directory, group_id: str, *operations: dict):
    return directory.call(
        "PATCH", f"/Groups/{group_id}", {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}
    )


def _add(*scim_ids: str) -> dict:
    return {"op": "Add", "path": "members", "value": [{"value": scim_id} for scim_id in scim_ids]}


def _role(app, world, name: str, account: str) -> str | None:
    with app.app_context():
        link = world.link(name, account)
        return link.role if link is not None else None


def _events(app, event: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == event)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_the_groups_are_the_roles_on_the_organisations_accounts(app, directory):
    answer = directory.get("/Groups")
    assert answer.status_code == 200
    page = answer.get_json()
    expected = [gid(account, role) for account in (MF1, MF2, MF4) for role in (USER, VIEWER)]
    assert page["totalResults"] == 6 and sorted(r["id"] for r in page["Resources"]) == sorted(expected)
    names = {r["id"]: r["displayName"] for r in page["Resources"]}
    assert names[gid(MF1, USER)] == f"{_label(app, MF1)} — user"
    assert all(OWNER not in group_id for group_id in names)
    paged = directory.get("/Groups", query_string={"startIndex": "2", "count": "2"}).get_json()
    assert paged["totalResults"] == 6 and paged["startIndex"] == 2 and len(paged["Resources"]) == 2
    name = f"{_label(app, MF2)} — viewer"
    found = directory.get("/Groups", query_string={"filter": f'displayName eq "{name}"'}).get_json()
    assert [r["id"] for r in found["Resources"]] == [gid(MF2, VIEWER)]
    types = directory.get("/ResourceTypes").get_data(as_text=True)
    assert '"Group"' in types and GROUP_SCHEMA in directory.get("/Schemas").get_data(as_text=True)


def test_a_group_lists_the_scim_users_holding_its_role(directory):
    member, owner = _scim_user(directory, "member"), _scim_user(directory, "owner")
    assert _members(directory, gid(MF1, USER)) == sorted([member, owner])  # the owner may do what a user does
    assert _members(directory, gid(MF1, VIEWER)) == []  # the viewer of MF1 is no SCIM User
    body = directory.get(f"/Groups/{gid(MF1, USER)}").get_json()
    assert body["members"][0]["$ref"].endswith(f"/Users/{body['members'][0]['value']}")


def test_another_organisations_group_is_not_found(directory):
    assert directory.get(f"/Groups/{gid(MF3, USER)}").status_code == 404
    assert _patch(directory, gid(MF3, USER), _add(_scim_user(directory, "admin"))).status_code == 404
    assert directory.get("/Groups/nothing").status_code == 404


def test_an_active_member_put_in_a_group_gets_the_role(app, world, directory, outbox):
    admin = _scim_user(directory, "admin")
    answer = _patch(directory, gid(MF1, USER), _add(admin))
    assert answer.status_code == 204, answer.get_data(as_text=True)
    assert admin in _members(directory, gid(MF1, USER))
    assert _role(app, world, "admin", MF1) == USER
    (event,) = _events(app, "access.granted")
    assert event.profile_id == world.ids["admin"] and event.actor_profile_id is None
    assert json.loads(event.details)["by"] == "client" and json.loads(event.details)["role"] == USER
    assert outbox.last(PEOPLE["admin"][1], "access_granted") is not None


def test_a_viewer_put_in_the_user_group_becomes_a_user_and_a_user_in_the_viewer_group_stays_one(
    app, world, directory
):
    viewer, member = _scim_user(directory, "viewer"), _scim_user(directory, "member")
    assert _patch(directory, gid(MF1, USER), _add(viewer)).status_code == 204
    assert _patch(directory, gid(MF1, VIEWER), _add(member)).status_code == 204
    assert _role(app, world, "viewer", MF1) == USER and _role(app, world, "member", MF1) == USER


def test_a_pending_person_gets_the_role_when_accepting(app, world, directory, users, outbox):
    ann = directory.create(
        user("ann.lee@romashka.example", phoneNumbers=[{"type": "mobile", "value": NEW_PHONE}])
    )
    assert _patch(directory, gid(MF2, VIEWER), _add(ann["id"])).status_code == 204
    assert _members(directory, gid(MF2, VIEWER)) == [ann["id"]]
    token = INVITE_LINK.search(outbox.last(NEW_PHONE, "invitation_sms").text).group(1)
    profile_id = users.create(phone=NEW_PHONE).id
    with app.test_request_context():
        accept(token, db.session.get(Profile, profile_id))
    with app.app_context():
        (link,) = links_of(profile_id)
        assert (link.account, link.role) == (MF2, VIEWER)
    assert _members(directory, gid(MF2, VIEWER)) == [ann["id"]]
    assert [e.profile_id for e in _events(app, "access.granted")] == [profile_id]


def test_removing_a_member_revokes_the_access_with_the_cascade(app, world, directory):
    member = _scim_user(directory, "member")
    browser = app.test_client()
    sign_in(browser, PEOPLE["member"][0])
    assert is_signed_in(browser)
    remove = {"op": "Remove", "path": f'members[value eq "{member}"]'}
    answer = _patch(directory, gid(MF1, USER), remove)
    assert answer.status_code == 204, answer.get_data(as_text=True)
    assert _role(app, world, "member", MF1) is None and not is_signed_in(browser)
    (event,) = _events(app, "access.revoked")
    assert event.profile_id == world.ids["member"] and json.loads(event.details)["reason"] == REMOVED
    assert _role(app, world, "owner", MF1) == OWNER


def test_the_owner_cannot_be_removed_nor_lowered_by_the_directory(app, world, directory):
    owner = _scim_user(directory, "owner")
    answer = _patch(
        directory, gid(MF1, USER), {"op": "remove", "path": "members", "value": [{"value": owner}]}
    )
    assert answer.status_code == 409 and "owner" in answer.get_json()["detail"]
    assert _patch(directory, gid(MF1, VIEWER), _add(owner)).status_code == 204
    assert _role(app, world, "owner", MF1) == OWNER and _events(app, "access.revoked") == []


def test_a_put_replaces_the_members(app, world, directory):
    _scim_user(directory, "viewer")
    admin = _scim_user(directory, "admin")
    body = {"schemas": [GROUP_SCHEMA], "displayName": "renamed", "members": [{"value": admin}]}
    answer = directory.call("PUT", f"/Groups/{gid(MF1, VIEWER)}", body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["displayName"] == f"{_label(app, MF1)} — viewer"
    assert _role(app, world, "viewer", MF1) is None and _role(app, world, "admin", MF1) == VIEWER


def test_the_directory_cannot_create_or_delete_a_group(app, directory):
    taken = {"schemas": [GROUP_SCHEMA], "displayName": f"{_label(app, MF1)} — user"}
    answer = directory.call("POST", "/Groups", taken)
    assert answer.status_code == 409 and answer.get_json()["scimType"] == "uniqueness"
    assert (
        directory.call("POST", "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Sales"}).status_code
        == 403
    )
    assert directory.call("DELETE", f"/Groups/{gid(MF1, USER)}").status_code == 403
