"""scim2-tester's RFC 7643/7644 checks against an organisation's SCIM endpoint on a live server.

Every check passes but the Group CRUD checks, which cannot apply: each of them (object_creation,
object_query, object_query_without_id, object_query_with_attributes, object_list_with_attributes,
search_with_attributes, object_replacement, object_deletion, check_add_attribute,
check_remove_attribute, check_replace_attribute) starts by POSTing a Group with a random
displayName, and Groups here are derived from the organisation's accounts (one per account and
role), so that POST is refused with a 403. The tester runs them for Users only; the discovery
checks, which validate the published Group resource type and schema, run in full, and the
refusal itself is checked. tests/scim/test_groups.py covers what the directory does to Groups.
Bulk is announced as not supported."""

from __future__ import annotations

from scim2_tester import Status, check_server

from idp.scim.group_storage import NOT_CREATED
from tests.scim.conftest import LiveSCIMClient, make_token

GROUP_CRUD_CHECKS = {
    "object_creation",
    "object_query",
    "object_query_without_id",
    "object_query_with_attributes",
    "object_list_with_attributes",
    "search_with_attributes",
    "object_replacement",
    "object_deletion",
    "check_add_attribute",
    "check_remove_attribute",
    "check_replace_attribute",
}


# The tester creates dozens of users, each invited by e-mail or SMS: within the organisation's
# machine budget (IDP_MACHINE_INVITATION_BUDGET), which a person's budgets would not be.
def test_every_scim2_tester_check_passes_on_a_live_server(live_server, app, world, token):
    client = LiveSCIMClient(f"{live_server}/scim/v2/{world.org_a}", token)
    results = check_server(client, resource_types=["User"])
    failed = [(result.title, result.status.name, result.reason) for result in results]
    failed = [entry for entry in failed if entry[1] != Status.SUCCESS.name]
    assert failed == []
    assert len(results) >= 100  # discovery, CRUD, filters, PATCH add/remove/replace, misc
    assert {"object_creation", "object_replacement", "object_deletion", "check_replace_attribute"} <= {
        result.title for result in results
    }


def test_the_group_checks_stop_at_the_refused_creation(live_server, app, world):
    client = LiveSCIMClient(f"{live_server}/scim/v2/{world.org_a}", make_token(app, world, label="Tester"))
    results = [r for r in check_server(client, resource_types=["Group"]) if r.resource_type == "Group"]
    assert {result.title for result in results} == GROUP_CRUD_CHECKS
    assert all(result.status == Status.ERROR and NOT_CREATED in str(result.reason) for result in results)
