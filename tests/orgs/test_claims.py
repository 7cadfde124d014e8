"""The ``services`` claim names each account's organisation, and the account chosen at
``prompt=select_account`` is stored on the grant and marked in the claim."""

from __future__ import annotations

import re
from html import unescape

import pytest

from idp.connectors.models import ServiceLink
from idp.extensions import db
from idp.oauth.models import Grant
from tests.helpers.pages import csrf_token, sign_in
from tests.oauth.helpers import AuthorizationRequest, authorize, exchange, register_client, userinfo

NUMBER_A = "+79260250730"
NUMBER_B = "+79260250731"
ORG_NUMBER = "44000004"


@pytest.fixture
def owner_with_accounts(app, users):
    """A profile owning two MultiFon accounts, the first of them an organisation's."""
    from connectors.multifon.store import provision
    from idp.connectors.contract import VerifiedAccount
    from idp.connectors.links import link
    from idp.orgs.services import assign_account, create_organisation
    from idp.profiles.models import Profile

    profile = users.create()
    with app.app_context():
        for number in (NUMBER_A, NUMBER_B):
            provision(number, "Sip3Passw0rd")
            link(db.session.get(Profile, profile.id), "multifon", VerifiedAccount(number, number))
        org = create_organisation("UA", ORG_NUMBER, "ТОВ «Демо Телеком»")
        assign_account(org, "multifon", NUMBER_A)
        org_id = org.id
    return profile, org_id


def _tokens(client, request, code):
    response = exchange(client, request, code)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_each_account_names_its_organisation_or_null(app, client, owner_with_accounts):
    profile, org_id = owner_with_accounts
    sign_in(client, profile.phone)
    request = AuthorizationRequest(register_client(app), scope="openid services")
    tokens = _tokens(client, request, authorize(client, request)["code"])
    services = {e["account"]: e for e in userinfo(client, tokens["access_token"]).get_json()["services"]}
    assert services[NUMBER_A]["organisation"] == {
        "id": str(org_id),
        "name": "ТОВ «Демо Телеком»",
        "country": "UA",
        "registration_number": ORG_NUMBER,
    }
    assert services[NUMBER_A]["role"] == "owner"
    assert services[NUMBER_B]["organisation"] is None
    assert not any(entry.get("selected") for entry in services.values())


def test_the_account_chosen_at_select_account_is_on_the_grant_and_in_the_claim(
    app, client, owner_with_accounts
):
    profile, _ = owner_with_accounts
    with app.app_context():
        chosen = db.session.scalar(db.select(ServiceLink.id).where(ServiceLink.account == NUMBER_B))
    sign_in(client, profile.phone)
    registered = register_client(app)
    request = AuthorizationRequest(registered, scope="openid services", extra={"prompt": "select_account"})
    page = unescape(client.get(request.url).get_data(as_text=True))
    action = re.search(r'action="(/authorize/service-account\?[^"]+)"', page).group(1)
    answer = client.post(action, data={"csrf_token": csrf_token(client, request.url), "link": str(chosen)})
    continued = AuthorizationRequest(
        registered,
        scope=request.scope,
        state=request.state,
        nonce=request.nonce,
        verifier=request.verifier,
        challenge=request.challenge,
    )
    assert "select_account" not in answer.headers["Location"]
    tokens = _tokens(client, continued, authorize(client, continued)["code"])
    with app.app_context():
        assert db.session.scalars(db.select(Grant.service_account)).all() == [f"multifon:{NUMBER_B}"]
    services = {e["account"]: e for e in userinfo(client, tokens["access_token"]).get_json()["services"]}
    assert services[NUMBER_B]["selected"] is True
    assert "selected" not in services[NUMBER_A]
    # A later request of the same client without choosing names no account.
    again = AuthorizationRequest(registered, scope="openid services")
    later = _tokens(client, again, authorize(client, again)["code"])
    services = userinfo(client, later["access_token"]).get_json()["services"]
    assert not any(entry.get("selected") for entry in services)


def test_a_choice_made_for_one_client_is_not_given_to_another(app, client, owner_with_accounts):
    profile, _ = owner_with_accounts
    with app.app_context():
        chosen = db.session.scalar(db.select(ServiceLink.id).where(ServiceLink.account == NUMBER_B))
    sign_in(client, profile.phone)
    first, second = register_client(app), register_client(app)
    request = AuthorizationRequest(first, scope="openid services", extra={"prompt": "select_account"})
    page = unescape(client.get(request.url).get_data(as_text=True))
    action = re.search(r'action="(/authorize/service-account\?[^"]+)"', page).group(1)
    client.post(action, data={"csrf_token": csrf_token(client, request.url), "link": str(chosen)})
    other = AuthorizationRequest(second, scope="openid services")
    tokens = _tokens(client, other, authorize(client, other)["code"])
    services = userinfo(client, tokens["access_token"]).get_json()["services"]
    assert not any(entry.get("selected") for entry in services)


def test_a_signed_out_browser_still_chooses_the_service_account_after_signing_in(
    app, client, owner_with_accounts
):
    from urllib.parse import parse_qs, urlsplit

    profile, _ = owner_with_accounts
    request = AuthorizationRequest(
        register_client(app), scope="openid services", extra={"prompt": "select_account"}
    )
    to_sign_in = client.get(request.url).headers["Location"]
    back = parse_qs(urlsplit(to_sign_in).query)["next"][0]
    assert "select_account" in back  # signing in chose the profile, not the account
    sign_in(client, profile.phone)
    page = unescape(client.get(back).get_data(as_text=True))
    assert f'data-choose="{NUMBER_A}"' in page and f'data-choose="{NUMBER_B}"' in page
