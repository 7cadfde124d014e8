"""The provisioning API (/api/v1) through Flask's test client: who may call it and what for, the
conventions (problem details in three languages, idempotency keys, ETags, cursor paging, limits),
and each resource doing what its page or command does, a revocation with the whole J8 cascade."""

from __future__ import annotations

import json

import pytest

from idp.audit.models import AuditEvent
from idp.extensions import db
from idp.orgs.models import Invitation, Organisation
from tests.api.helpers import ALL_SCOPES, machine
from tests.helpers.records import db_rows
from tests.orgs import test_revocation as cascade
from tests.orgs import test_services as core
from tests.orgs.test_services import MF1, MF2, MF5, PEOPLE

world = core.world  # fixtures of the organisations' tests
receiver, rp, sign = cascade.receiver, cascade.rp, cascade.sign

NEW_ORG = {"country": "UA", "registration_number": "00032945", "name": "PrAT Kyivstar Biznes"}
ORG_TABLES = ("organisations", "org_accounts", "org_memberships", "org_invitations", "service_links")


def details(event: AuditEvent) -> dict:
    return json.loads(event.details)


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# --- who may call ---------------------------------------------------------------------------


def test_a_call_without_a_valid_client_token_is_refused(app, world, sign, rp):
    crm = machine(app)
    anonymous = app.test_client().get("/api/v1/organisations")
    problem(anonymous, 401)
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    crm.token = crm.token[:-2] + ("yA" if crm.token.endswith("xA") else "xA")  # another signature
    forged = crm.get("/organisations")
    problem(forged, 401)
    assert 'error="invalid_token"' in forged.headers["WWW-Authenticate"]
    person = sign("owner")  # a person's own access token, from signing in to a relying service
    crm.token = person.online["access_token"]
    problem(crm.get("/organisations"), 401)


def test_each_operation_needs_its_scope(app, world):
    reader = machine(app, scope="orgs:read")
    assert reader.get("/organisations").status_code == 200
    refused = reader.post("/organisations", NEW_ORG)
    body = problem(refused, 403)
    assert "orgs:write" in body["detail"]
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Organisation)) == 2


def test_a_client_bound_to_an_organisation_reaches_that_one_alone(app, world):
    bound = machine(app, org_id=world.org_a)
    listed = bound.get("/organisations").get_json()["items"]
    assert [org["id"] for org in listed] == [world.org_a]
    assert bound.get(f"/organisations/{world.org_a}/members").status_code == 200
    before = db_rows(app, ORG_TABLES)
    problem(bound.get(f"/organisations/{world.org_b}"), 404)  # as if it did not exist
    problem(bound.get(f"/organisations/{world.org_b}/members"), 404)
    problem(bound.post("/organisations", NEW_ORG), 403)
    problem(
        bound.post(f"/organisations/{world.org_a}/accounts", {"connector": "multifon", "account": MF5}), 403
    )
    problem(bound.post(f"/profiles/{world.ids['member']}/disable", {"reason": "test"}), 403)
    assert db_rows(app, ORG_TABLES) == before
    # its members' profiles only
    mine = bound.call("GET", "/profiles?phone_number=" + PEOPLE["member"][0].replace("+", "%2B")).get_json()
    assert [p["id"] for p in mine["items"]] == [world.ids["member"]]
    found = bound.call("GET", "/profiles?phone_number=" + PEOPLE["b_owner"][0].replace("+", "%2B")).get_json()
    assert found == {"items": []}


# --- conventions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "detail"),
    [
        ("en", "An organisation with ЄДРПОУ 32855961 is already registered."),
        ("uk", "Організацію з ЄДРПОУ 32855961 уже зареєстровано."),
        ("ru", "Организация с ЄДРПОУ 32855961 уже зарегистрирована."),
    ],
)
def test_problems_speak_the_language_asked_for(app, world, lang, detail):
    crm = machine(app)
    taken = {**NEW_ORG, "registration_number": "32855961"}
    answer = crm.call("POST", "/organisations", json=taken, lang=lang)
    assert problem(answer, 409)["detail"] == detail
    assert answer.headers["Content-Language"] == lang
    fields = problem(crm.call("POST", "/organisations", json={"country": "UA"}, lang=lang), 422)
    assert {e["pointer"] for e in fields["errors"]} == {"/registration_number", "/name"}
    assert len({e["detail"] for e in fields["errors"]}) == 1


def test_bad_input_gets_a_problem_and_changes_nothing(app, world):
    crm = machine(app)
    before = db_rows(app, ORG_TABLES)
    invalid = problem(crm.post("/organisations", {**NEW_ORG, "registration_number": "00032946"}), 422)
    assert invalid["errors"][0]["pointer"] == "/registration_number"
    problem(crm.post("/organisations", {**NEW_ORG, "extra": 1}), 422)
    problem(crm.post("/organisations", {**NEW_ORG, "name": "A\x00B"}), 422)
    broken = crm.http.post(
        "/api/v1/organisations",
        data="{not json",
        headers={"Authorization": f"Bearer {crm.token}", "Content-Type": "application/json"},
    )
    problem(broken, 400)
    form = crm.http.post(
        "/api/v1/organisations", data={"name": "x"}, headers={"Authorization": f"Bearer {crm.token}"}
    )
    problem(form, 415)
    problem(crm.get("/organisations/999999"), 404)
    problem(crm.get("/no-such-thing"), 404)
    problem(crm.call("PUT", "/organisations"), 405)
    assert db_rows(app, ORG_TABLES) == before


def test_an_idempotency_key_makes_a_retried_post_do_its_work_once(app, world):
    crm = machine(app)
    first = crm.post("/organisations", NEW_ORG, **{"Idempotency-Key": "crm-42"})
    again = crm.post("/organisations", NEW_ORG, **{"Idempotency-Key": "crm-42"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Organisation)) == 3
    other = crm.post("/organisations", {**NEW_ORG, "name": "Other"}, **{"Idempotency-Key": "crm-42"})
    assert "different request" in problem(other, 422)["detail"]
    # a refused request keeps nothing: the same key works once the request is right
    taken = {**NEW_ORG, "registration_number": "32855961"}
    problem(crm.post("/organisations", taken, **{"Idempotency-Key": "crm-43"}), 409)
    fixed = {**NEW_ORG, "registration_number": "7707083893", "country": "RU"}
    problem(crm.post("/organisations", fixed, **{"Idempotency-Key": "crm-43"}), 409)  # B has it
    # keys are the client's own: another client's same key is another request
    other_client = machine(app, name="Billing")
    created = other_client.post(
        "/organisations", {**NEW_ORG, "registration_number": "14360570"}, **{"Idempotency-Key": "crm-42"}
    )
    assert created.status_code == 201 and "Idempotent-Replayed" not in created.headers


def test_an_update_with_a_stale_etag_is_refused(app, world):
    crm = machine(app)
    path = f"/organisations/{world.org_a}"
    read = crm.get(path)
    etag = read.headers["ETag"]
    assert crm.get(path, **{"If-None-Match": etag}).status_code == 304
    renamed = crm.patch(path, {"name": "TOV Romashka Plus"}, **{"If-Match": etag})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "TOV Romashka Plus"
    assert renamed.headers["ETag"] != etag
    stale = crm.patch(path, {"name": "Lost update"}, **{"If-Match": etag})
    assert problem(stale, 412) and stale.headers["ETag"] == renamed.headers["ETag"]
    assert crm.get(path).get_json()["name"] == "TOV Romashka Plus"
    suspended = crm.patch(path, {"status": "suspended"}, **{"If-Match": renamed.headers["ETag"]})
    assert suspended.get_json()["status"] == "suspended"
    with app.app_context():
        events = {e.event for e in db.session.scalars(db.select(AuditEvent))}
        assert {"org.renamed", "org.status_changed"} <= events


def test_lists_are_paged_by_an_opaque_cursor(app, world):
    crm = machine(app)
    for number in ("00032945", "14360570", "21560766"):
        assert crm.post("/organisations", {**NEW_ORG, "registration_number": number}).status_code == 201
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = crm.http.get(
            "/api/v1/organisations", query_string=query, headers={"Authorization": f"Bearer {crm.token}"}
        ).get_json()
        seen += [org["id"] for org in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == sorted(seen) and len(seen) == len(set(seen)) == 5
    problem(crm.get("/organisations?cursor=Not-Ours"), 422)
    problem(crm.get("/organisations?limit=0"), 422)
    found = crm.get("/organisations?registration_number=3285-5961").get_json()["items"]
    assert [org["id"] for org in found] == [world.org_a]


@pytest.mark.idp_settings(IDP_API_LIMIT_CLIENT="3/minute")
def test_calls_are_limited_per_client(app, world):
    crm, other = machine(app), machine(app, name="Billing")
    assert [crm.get("/organisations").status_code for _ in range(3)] == [200, 200, 200]
    refused = crm.get("/organisations")
    problem(refused, 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert other.get("/organisations").status_code == 200


def test_every_call_is_audited_with_the_client_as_actor(app, world):
    crm = machine(app)
    crm.post("/organisations", NEW_ORG)
    crm.get("/organisations/999999")
    with app.app_context():
        calls = [e for e in db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == "api.called"))]
        assert [(details(c)["method"], details(c)["status"]) for c in calls] == [("POST", 201), ("GET", 404)]
        created = db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.event == "org.created").order_by(AuditEvent.id.desc())
        )
        assert details(created)["client"] == crm.client_id
    page = crm.get("/audit-events?event=org.created").get_json()
    assert [e["details"].get("client") for e in page["items"]] == [crm.client_id, None, None]


# --- resources ------------------------------------------------------------------------------


def test_accounts_and_people_of_an_organisation(app, world):
    crm = machine(app)
    base = f"/organisations/{world.org_a}"
    accounts = crm.get(base + "/accounts").get_json()["items"]
    assert {a["account"] for a in accounts} == {MF1, MF2, "+79260250733"}
    assigned = crm.post(base + "/accounts", {"connector": "multifon", "account": "8 (926) 025-07-34"})
    assert assigned.status_code == 201 and assigned.get_json()["account"] == MF5
    problem(
        crm.post(f"/organisations/{world.org_b}/accounts", {"connector": "multifon", "account": MF5}), 409
    )
    problem(crm.post(base + "/accounts", {"connector": "fax", "account": "1"}), 404)
    members = {m["profile_id"]: m["role"] for m in crm.get(base + "/members").get_json()["items"]}
    assert members[world.ids["owner"]] == "owner" and members[world.ids["member"]] == "member"
    first = crm.get(base + "/members?limit=2").get_json()  # a page at a time, in the order they joined
    rest = crm.get(f"{base}/members?limit=200&cursor={first['next_cursor']}").get_json()
    assert len(first["items"]) == 2 and rest["next_cursor"] is None
    assert [m["profile_id"] for m in first["items"] + rest["items"]] == list(members)
    member = f"{base}/members/{world.ids['member']}"
    assert crm.patch(member, {"role": "admin"}).get_json()["role"] == "admin"
    problem(crm.patch(f"{base}/members/{world.ids['outsider']}", {"role": "admin"}), 404)


def test_invite_resend_and_withdraw(app, world, outbox):
    crm = machine(app)
    base = f"/organisations/{world.org_a}/invitations"
    invite = {
        "channel": "sms",
        "address": "+380 67 100 00 99",
        "accounts": [{"connector": "multifon", "account": MF2}],
    }
    created = crm.post(base, {**invite, "role": "viewer", "language": "ru"})
    assert created.status_code == 201, created.get_json()
    invitation = created.get_json()
    assert invitation["state"] == "pending" and invitation["address"] == "+380671000099"
    assert "/invite/" in outbox.last("+380671000099").text
    assert crm.get(base + "?state=pending").get_json()["items"][0]["id"] == invitation["id"]
    too_soon = problem(crm.post(f"{base}/{invitation['id']}/resend"), 409)
    assert "60" in too_soon["detail"] or "s" in too_soon["detail"]
    assert crm.call("DELETE", f"{base}/{invitation['id']}").status_code == 204
    problem(crm.call("DELETE", f"{base}/{invitation['id']}"), 409)
    assert crm.get(f"{base}/{invitation['id']}").get_json()["state"] == "withdrawn"
    refused = crm.post(base, {**invite, "accounts": [{"connector": "multifon", "account": "+79260250732"}]})
    problem(refused, 409)  # another organisation's account
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Invitation)) == 1


def test_revocation_through_the_api_is_the_whole_cascade(app, world, sign, rp, receiver):
    crm = machine(app)
    member = sign("member")
    path = f"/organisations/{world.org_a}/accounts/multifon/{MF1}/access"
    holders = {a["profile_id"]: a["role"] for a in crm.get(path).get_json()["items"]}
    assert holders[world.ids["member"]] == "user"
    done = crm.post(f"{path}/{world.ids['member']}/revocation", {"reason": "Left", "ticket": "CRM-7"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["sessions_ended"] == 1
    cascade.assert_cut_off(app, rp, member)
    assert len(cascade._logouts(app)) == 1
    with app.app_context():
        revoked = db.session.scalar(db.select(AuditEvent).where(AuditEvent.event == "access.revoked"))
        assert details(revoked)["client"] == crm.client_id and details(revoked)["ticket"] == "CRM-7"
    problem(crm.post(f"{path}/{world.ids['member']}/revocation", {"reason": "Again"}), 404)
    # an organisation's own client cannot end its owner's access (the operator's can, as its
    # command line can)
    bound = machine(app, org_id=world.org_a, name="Romashka HR")
    owner = problem(bound.post(f"{path}/{world.ids['owner']}/revocation", {"reason": "x"}), 409)
    assert "owner" in owner["detail"]


def test_hand_ownership_on_and_change_a_role(app, world):
    crm = machine(app)
    base = f"/organisations/{world.org_a}/accounts/multifon/{MF1}"
    viewer = crm.patch(f"{base}/access/{world.ids['member']}", {"role": "viewer"})
    assert viewer.get_json()["role"] == "viewer"
    moved = crm.post(base + "/owner", {"profile_id": world.ids["member"], "reason": "Owner left"})
    roles = {a["profile_id"]: a["role"] for a in moved.get_json()["items"]}
    assert roles[world.ids["member"]] == "owner" and roles[world.ids["owner"]] == "user"
    outsider = crm.post(base + "/owner", {"profile_id": world.ids["outsider"], "reason": "x"})
    problem(outsider, 409)


def test_profiles_found_disabled_enabled_and_signed_out(app, world, sign, rp):
    crm = machine(app)
    by_number = crm.get("/profiles?phone_number=%2B380671000003").get_json()["items"]
    assert [p["id"] for p in by_number] == [world.ids["member"]]
    by_address = crm.get("/profiles?email=MEMBER@example.com").get_json()["items"]
    assert [p["id"] for p in by_address] == [world.ids["member"]]
    problem(crm.get("/profiles"), 422)
    member = sign("member")
    path = f"/profiles/{world.ids['member']}"
    disabled = crm.post(path + "/disable", {"reason": "Fraud check", "ticket": "SEC-1"})
    assert disabled.get_json()["disabled"] is True
    cascade.assert_cut_off(app, rp, member)
    assert crm.post(path + "/enable", {"reason": "Checked"}).get_json()["disabled"] is False
    again = sign("member")
    ended = crm.post(path + "/sessions/end", {"reason": "Lost phone"}).get_json()
    assert ended["sessions_ended"] == 1
    cascade.assert_cut_off(app, rp, again)
    problem(crm.post(path + "/disable", {}), 422)  # the reason is required


def test_accounts_are_provisioned_as_the_commands_do(app, world, outbox):
    crm = machine(app)
    made = crm.call(
        "POST",
        f"/services/multifon/accounts?organisation_id={world.org_a}",
        json={"number": "+7 926 025-07-40", "sip_password": "Str0ng-SIP-pass", "trunk_lines": 4},
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["account"] == "+79260250740" and made.get_json()["organisation_id"] == world.org_a
    assert "Str0ng" not in made.get_data(as_text=True)
    listed = crm.get(f"/organisations/{world.org_a}/accounts").get_json()["items"]
    assert "+79260250740" in {a["account"] for a in listed}
    connected = crm.post(
        "/services/iptel/accounts",
        {"number": "+380 44 200 00 01", "email": "PBX@Example.com", "language": "uk"},
    )
    assert connected.status_code == 201, connected.get_json()
    assert outbox.last("pbx@example.com").kind  # the initial password went by e-mail
    before = db_rows(app, ORG_TABLES)
    refused = crm.call(
        "POST",
        "/services/multifon/accounts?organisation_id=999999",
        json={"number": "+79260250741", "sip_password": "Str0ng-SIP-pass"},
    )
    problem(refused, 404)  # the organisation first: nothing provisioned
    junk = problem(crm.post("/services/multifon/accounts", {"number": "office", "sip_password": "x"}), 422)
    assert junk["errors"][0]["pointer"] == "/number"
    problem(crm.post("/services/fax/accounts", {}), 404)
    assert db_rows(app, ORG_TABLES) == before
    problem(machine(app, org_id=world.org_a, name="HR").post("/services/iptel/accounts", {}), 403)


def test_the_openapi_document_describes_every_route(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    described = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    from idp.api.openapi import openapi_path

    served = {
        (openapi_path(rule.rule.removeprefix("/api/v1")), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi_document"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    # the provisioning route is one path per connector that can be provisioned, with its model
    served.remove(("/services/{connector}/accounts", "POST"))
    served |= {("/services/multifon/accounts", "POST"), ("/services/iptel/accounts", "POST")}
    assert described == served
    bodies = {
        path: item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for path, item in document["paths"].items()
        if path.startswith("/services/")
    }
    assert bodies == {
        "/services/iptel/accounts": "#/components/schemas/ConnectIptel",
        "/services/multifon/accounts": "#/components/schemas/ProvisionMultifon",
    }
    scopes = document["components"]["securitySchemes"]["clientCredentials"]["flows"]["clientCredentials"]
    assert set(scopes["scopes"]) == set(ALL_SCOPES.split())


@pytest.mark.idp_settings(IDP_MACHINE_INVITATION_BUDGET="2/hour")
def test_machine_invitations_draw_on_the_organisations_budget(app, world, outbox):
    crm = machine(app)
    base = f"/organisations/{world.org_a}/invitations"

    def invite(n: int):
        return crm.post(
            base,
            {
                "channel": "email",
                "address": f"new{n}@example.com",
                "accounts": [{"connector": "multifon", "account": MF2}],
            },
        )

    assert [invite(n).status_code for n in range(2)] == [201, 201]
    refused = problem(invite(3), 409)
    assert "Too many invitations" in refused["detail"]
    assert not outbox.messages("new3@example.com")
    other = crm.post(
        f"/organisations/{world.org_b}/invitations",
        {
            "channel": "email",
            "address": "b@example.com",
            "accounts": [{"connector": "multifon", "account": "+79260250732"}],
        },
    )
    assert other.status_code == 201  # another organisation's budget
