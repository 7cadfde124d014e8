"""What Microsoft Entra ID does to an organisation over SCIM, on a live server, end to end: it
creates a user, the invitation goes out, the person registers their own profile and accepts,
signs in to a relying service; Entra unassigns them (PATCH ``active: false``) and at once their
sessions and refresh tokens are dead, introspection refuses their access token, and the relying
service receives a back-channel logout. Assigning them again brings the membership back, not the
sessions."""

from __future__ import annotations

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.delivery.models import SENT
from idp.extensions import db
from idp.orgs.models import ORG_MEMBER
from idp.orgs.services import membership
from idp.profiles.models import Profile
from tests.delivery.worker_helpers import work_until
from tests.helpers.pages import is_signed_in, register, sign_in, submit
from tests.oauth.helpers import (
    AuthorizationRequest,
    authorize,
    exchange,
    introspect,
    refresh,
    register_client,
    userinfo,
)
from tests.oauth.test_logout import Receiver
from tests.scim.conftest import INVITE_LINK, SCIM, replace_active, user

PHONE = "+380671007777"
EMAIL = "taras.shevchuk@romashka.example"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


class Entra:
    """Entra ID's provisioning service calling the live server."""

    def __init__(self, base: str, token: str):
        self.base = base
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}", "Content-Type": SCIM})

    def __call__(self, method: str, path: str, body: dict | None = None, **params) -> requests.Response:
        return self.http.request(method, self.base + path, json=body, params=params or None, timeout=30)


def _tokens(browser, rp) -> dict:
    request = AuthorizationRequest(rp, scope="openid profile offline_access")
    answer = exchange(browser, request, authorize(browser, request)["code"])
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def test_entra_provisions_then_unassigns_a_person(live_server, app, world, token, outbox, receiver):
    rp = register_client(app, backchannel_logout_uri=receiver.uri)
    entra = Entra(f"{live_server}/scim/v2/{world.org_a}", token)
    # "Test connection", then the provisioning cycle: look the user up, create them.
    assert (
        entra("GET", "/Users", filter='userName eq "0f8fad5b-d9cb-469f-a165-70867728950e"').json()[
            "totalResults"
        ]
        == 0
    )
    assert entra("GET", "/Users", filter=f'userName eq "{EMAIL}"').json()["Resources"] == []
    created = entra(
        "POST",
        "/Users",
        user(
            EMAIL,
            externalId="3f1c9d7e-entra",
            name={"givenName": "Taras", "familyName": "Shevchuk"},
            emails=[{"type": "work", "value": EMAIL, "primary": True}],
            phoneNumbers=[{"type": "mobile", "value": PHONE}],
        ),
    )
    assert created.status_code == 201, created.text
    scim_id = created.json()["id"]

    # The invitation went out by SMS; the person registers their own profile and accepts it.
    invitation = INVITE_LINK.search(outbox.last(PHONE, "invitation_sms").text).group(1)
    browser = app.test_client()
    register(browser, outbox, PHONE, email=EMAIL, start=f"/register?next=/invite/{invitation}")
    assert sign_in(browser, PHONE).location == "/"
    accepted = submit(browser, f"/invite/{invitation}")
    assert accepted.location == "/", accepted.flashes
    with app.app_context():
        profile = db.session.scalar(db.select(Profile).where(Profile.phone == PHONE))
        profile_id, subject = profile.id, profile.subject
        assert membership(world.org_a, profile_id).role == ORG_MEMBER
    assert "You joined TOV Romashka." in browser.get("/").get_data(as_text=True)

    # They use a relying service: an access token and a refresh token.
    tokens = _tokens(browser, rp)
    rp_http = app.test_client()
    assert introspect(rp_http, rp, tokens["access_token"])["active"] is True

    # Entra unassigns them.
    answer = entra("PATCH", f"/Users/{scim_id}", replace_active(False))
    assert answer.status_code in (200, 204), answer.text
    assert not is_signed_in(browser)
    assert introspect(rp_http, rp, tokens["access_token"])["active"] is False
    assert userinfo(rp_http, tokens["access_token"]).status_code == 401
    refused = refresh(rp_http, rp, tokens["refresh_token"])
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    with app.app_context():
        assert membership(world.org_a, profile_id) is None
    assert entra("GET", f"/Users/{scim_id}").json()["active"] is False

    # The relying service is told over the back channel.
    receiver.start()
    work_until(app, lambda states: bool(states) and all(s in (SENT, "delivered") for s in states.values()))
    keys = KeySet.import_key_set(rp_http.get("/jwks.json").get_json())
    claims = [
        jwt.decode(post["form"]["logout_token"], keys, algorithms=["ES256", "RS256"]).claims
        for post in receiver.posts
    ]
    assert claims and all(c["sub"] == subject and c["aud"] == rp.client_id for c in claims)
    assert all(BACKCHANNEL_EVENT in c["events"] for c in claims)

    # Assigned again: a member again, but nothing that was revoked comes back.
    assert entra("PATCH", f"/Users/{scim_id}", replace_active(True)).status_code in (200, 204)
    with app.app_context():
        assert membership(world.org_a, profile_id).role == ORG_MEMBER
    assert not is_signed_in(browser)
    assert introspect(rp_http, rp, tokens["access_token"])["active"] is False
    assert refresh(rp_http, rp, tokens["refresh_token"]).status_code == 400
