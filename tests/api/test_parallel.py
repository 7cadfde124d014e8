"""The API's limits under real parallel requests at a live server: a client's call budget gives
exactly its number of answers, and one Idempotency-Key sent by many requests at once does the work
once (the others get the stored answer, or are told it is still being processed)."""

from __future__ import annotations

import pytest
import requests

from idp.extensions import db
from idp.orgs.models import Organisation
from tests.api.helpers import machine
from tests.parallel import assert_no_server_error, at_once

AT_ONCE = 10
NEW_ORG = {"country": "UA", "registration_number": "00032945", "name": "PrAT Kyivstar Biznes"}


@pytest.mark.idp_settings(IDP_API_LIMIT_CLIENT="4/minute")
def test_a_clients_call_budget_holds_under_parallel_calls(live_server, app):
    crm = machine(app)
    headers = {"Authorization": f"Bearer {crm.token}"}
    answers = at_once(
        AT_ONCE, lambda _n: requests.get(live_server + "/api/v1/organisations", headers=headers, timeout=60)
    )
    assert_no_server_error(answers)
    assert sorted(r.status_code for r in answers) == [200] * 4 + [429] * (AT_ONCE - 4)


def test_one_idempotency_key_sent_at_once_registers_one_organisation(live_server, app):
    crm = machine(app)
    headers = {"Authorization": f"Bearer {crm.token}", "Idempotency-Key": "crm-order-1042"}

    def post(_n: int) -> requests.Response:
        return requests.post(live_server + "/api/v1/organisations", json=NEW_ORG, headers=headers, timeout=60)

    answers = at_once(AT_ONCE, post)
    assert_no_server_error(answers)
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {201, 409}, statuses
    created = {r.json()["id"] for r in answers if r.status_code == 201}
    assert len(created) == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Organisation)) == 1
    assert post(0).json()["id"] in created  # and a retry afterwards gets the same answer


def test_a_bound_client_reaches_no_other_organisation_on_a_live_server(live_server, app):
    from idp.orgs.services import create_organisation

    with app.app_context():
        mine = create_organisation("UA", "32855961", "TOV Romashka").id
        other = create_organisation("RU", "7707083893", "OOO Vasilek").id
    bound = machine(app, org_id=mine, name="Romashka HR")
    headers = {"Authorization": f"Bearer {bound.token}"}
    paths = [f"/api/v1/organisations/{other}", f"/api/v1/organisations/{other}/members"]
    answers = at_once(len(paths), lambda n: requests.get(live_server + paths[n], headers=headers, timeout=60))
    assert [r.status_code for r in answers] == [404, 404]
    renamed = requests.patch(
        f"{live_server}/api/v1/organisations/{other}",
        json={"name": "Taken over"},
        headers=headers,
        timeout=60,
    )
    assert renamed.status_code == 404
    with app.app_context():
        from idp.extensions import db

        assert db.session.get(Organisation, other).name == "OOO Vasilek"
    assert requests.get(f"{live_server}/api/v1/organisations/{mine}", headers=headers, timeout=60).ok
