"""Schemathesis against /api/v1/openapi.json on a live server (SQLite and PostgreSQL).

Every operation of the document gets generated requests, valid ones and broken ones, sent with a
client token that carries every scope. No answer may be a 500, every answer must match the
document (status, media type, headers, schema), and a refused request must leave the data exactly
as it was. (Schemathesis' pytest plugin does not run under pytest 9 yet, so the operations are
driven here with its strategies and Hypothesis directly.)
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from tests.api.helpers import machine
from tests.helpers.records import db_rows
from tests.orgs import test_services as core

world = core.world

# What a refused request must leave as it was (the call's own audit record may be written).
DATA = (
    "organisations",
    "org_accounts",
    "org_memberships",
    "org_invitations",
    "service_links",
    "profiles",
    "web_sessions",
    "oauth_grants",
    "messages",
)
# A request the schema allows may still be refused for what no JSON Schema says: a registration
# number's check digit, a phone number of no real numbering plan, an account of another service.
# That is a 422 with the field named, not a fault; every other check of schemathesis runs.
EXCLUDED = [positive_data_acceptance]
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}


@pytest.mark.idp_settings(IDP_API_LIMIT_CLIENT="100000/minute")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "broken"])
def test_the_api_keeps_its_document_and_refused_calls_change_nothing(app, world, live_server, mode):
    token = machine(app).token
    schema = schemathesis.openapi.from_url(live_server + "/api/v1/openapi.json")
    session = requests.Session()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case):
            before = db_rows(app, DATA)
            response = case.call_and_validate(
                session=session, headers={"Authorization": f"Bearer {token}"}, excluded_checks=EXCLUDED
            )
            if response.status_code >= 400:
                assert db_rows(app, DATA) == before, f"{case.method} {case.formatted_path} changed data"

        call()
