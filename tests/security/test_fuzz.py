"""Junk at every route and method: never a 500 or a stack trace, and a refusal changes nothing.

Hypothesis picks a route of the app's URL map, a method, values for its URL variables, and a form
body (with this browser's valid CSRF token, so the forms' own checks are reached) or a JSON body,
for an anonymous browser and one signed in with a linked account of each service.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp.extensions import db
from tests.helpers.pages import csrf_token, sign_in
from tests.helpers.records import PASSWORD

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Tables a refused request must leave as they were (sessions, audit events and throttles record
# the attempt itself).
WATCHED = (
    "profiles",
    "messages",
    "sms_challenges",
    "email_links",
    "recovery_codes",
    "service_links",
    "oauth_clients",
    "oauth_authorization_codes",
    "oauth_grants",
    "oauth_refresh_tokens",
    "oauth_consents",
    "proof_solutions",
    "multifon_accounts",
    "iptel_accounts",
    "iptel_forwardings",
    "iptel_links",
)
FIELDS = (
    "phone",
    "code",
    "password",
    "confirm",
    "current_password",
    "identifier",
    "email",
    "first_name",
    "last_name",
    "accept_offer",
    "login",
    "method",
    "decision",
    "link",
    "service_account",
    "routing",
    "trunk_lines",
    "number",
    "enabled",
    "delay",
    "altcha",
    "grant_type",
    "client_id",
    "client_secret",
    "redirect_uri",
    "token",
    "refresh_token",
    "code_verifier",
    "scope",
    "response_type",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "id_token_hint",
    "link_account",
)

junk = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "999999999999",
            "null",
            "+380671112233",
            "a@b.c",
            "\x00",
            "é",
            "<script>",
            "%00",
            "../../etc",
        ]
    ),
)
form_bodies = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), junk, max_size=6)
json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
VARIABLES = {
    "connector_id": st.sampled_from(["multifon", "iptel", "nosuch", "static"]) | st.text(max_size=12),
    "session_id": st.integers(min_value=0, max_value=2**40),
    "client_id": st.text(max_size=70),
    "code": st.sampled_from(["uk", "ru", "en", "de"]) | st.text(max_size=5),
    "token": st.text(max_size=120),
    "condition": st.sampled_from(["all", "busy", "no_answer", "unreachable"]) | st.text(max_size=10),
    "flow": st.sampled_from(["registration", "signin", "recovery", "phone"]) | st.text(max_size=10),
    "filename": st.sampled_from(["app.css", "../idp/config.py", "nosuch.js"]),
}


def _rows(app) -> dict[str, int]:
    with app.app_context():
        tables = db.metadata.tables
        return {
            name: hash(
                tuple(sorted(tuple(map(str, row)) for row in db.session.execute(tables[name].select())))
            )
            for name in WATCHED
            if name in tables
        }


def _routes(app) -> list:
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"), key=lambda rule: rule.rule
    )


def _url(rule, values: dict) -> str:
    path = rule.rule
    for name in rule.arguments:
        converter = (
            f"<int:{name}>"
            if f"<int:{name}>" in path
            else f"<path:{name}>"
            if f"<path:{name}>" in path
            else f"<{name}>"
        )
        from urllib.parse import quote

        path = path.replace(converter, quote(str(values[name]), safe="") or "x")
    return path


@pytest.fixture
def browsers(app, users):
    """An anonymous browser and one signed in with a MultiFon and an IP-telephony account."""
    from connectors.iptel.accounts import create_active
    from connectors.multifon.store import provision
    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link
    from idp.profiles.models import Profile

    profile = users.create()
    with app.app_context():
        provision("+79260250730", "SipPassw0rd")
        create_active("+380442270001", "office@example.com", "SipPortal7Pass", "en")
        owner = db.session.get(Profile, profile.id)
        link(owner, "multifon", VerifiedAccount("+79260250730", "+7 (926) 025-07-30"))
        link(owner, "iptel", VerifiedAccount("+380442270001", "+380 44 227 0001"))
    signed_in = app.test_client()
    sign_in(signed_in, profile.phone, PASSWORD)
    signed_in.get("/services/multifon/")
    signed_in.get("/services/iptel/")
    return {"anonymous": app.test_client(), "signed_in": signed_in}


@settings(
    max_examples=800,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_junk_at_every_route_never_fails_and_a_refusal_changes_nothing(app, browsers, data):
    rule = data.draw(st.sampled_from(_routes(app)), label="route")
    method = data.draw(st.sampled_from(METHODS), label="method")
    who = data.draw(st.sampled_from(sorted(browsers)), label="browser")
    browser = browsers[who]
    values = {
        name: data.draw(VARIABLES.get(name, st.text(max_size=20)), label=name)
        for name in sorted(rule.arguments)
    }
    url = _url(rule, values)
    query = data.draw(st.dictionaries(st.sampled_from(FIELDS), junk, max_size=3), label="query")
    kwargs: dict = {"query_string": query}
    if method != "GET":
        if data.draw(st.booleans(), label="json"):
            kwargs["data"] = json.dumps(data.draw(json_bodies, label="json body"))
            kwargs["content_type"] = "application/json"
        else:
            body = data.draw(form_bodies, label="form")
            body.setdefault("csrf_token", _token(browser))
            kwargs["data"] = body
    if data.draw(st.booleans(), label="authorization"):
        kwargs["headers"] = {
            "Authorization": data.draw(
                st.sampled_from(["Bearer junk", "Bearer ", "Basic !!!", "Basic YTpi", "Negotiate x"]),
                label="auth",
            )
        }
    before = _rows(app)
    response = browser.open(url, method=method, **kwargs)
    text = response.get_data(as_text=True)
    assert response.status_code < 500 or response.status_code == 503, (method, url, kwargs)
    assert "Traceback" not in text
    if response.status_code >= 400:
        assert _rows(app) == before, (method, url, response.status_code)


def _token(browser) -> str:
    """The browser's CSRF token (any form of its session gives one)."""
    try:
        return csrf_token(browser, "/security")
    except AssertionError:
        return csrf_token(browser, "/signin")
