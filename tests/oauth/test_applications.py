"""The profile's own view of the applications it let in, and taking their access back."""

from __future__ import annotations

from tests.helpers.pages import submit
from tests.oauth.helpers import (
    AuthorizationRequest,
    authorize,
    refresh,
    register_client,
    signed_in_tokens,
    userinfo,
)

OFFLINE = "openid profile email offline_access"


def test_the_security_page_lists_applications_with_what_they_hold(app, client, users):
    pbx = register_client(app, name="Virtual PBX", first_party=False)
    signed_in_tokens(client, users, app, client=pbx, scope=OFFLINE)
    page = client.get("/security").get_data(as_text=True)
    assert "Applications with access" in page
    assert "Virtual PBX" in page
    assert "Your e-mail address" in page
    assert f'data-client="{pbx.client_id}"' in page


def test_revoking_an_application_ends_its_tokens_and_asks_for_consent_again(app, client, users):
    pbx = register_client(app, name="Virtual PBX", first_party=False)
    other = register_client(app, name="8-800 numbers", first_party=False)
    _, request, tokens = signed_in_tokens(client, users, app, client=pbx, scope=OFFLINE)
    kept = AuthorizationRequest(other, scope="openid")
    authorize(client, kept)

    page = submit(client, f"/security/applications/{pbx.client_id}/revoke", page="/security")
    assert page.status == 302

    assert userinfo(client, tokens["access_token"]).status_code == 401
    assert refresh(client, pbx, tokens["refresh_token"]).status_code == 400
    listing = client.get("/security").get_data(as_text=True)
    assert f'data-client="{pbx.client_id}"' not in listing
    assert f'data-client="{other.client_id}"' in listing
    again = client.get(AuthorizationRequest(pbx, scope="openid").url)
    assert again.status_code == 200 and 'name="decision"' in again.get_data(as_text=True)


def test_revoking_needs_the_form_token(app, client, users):
    pbx = register_client(app, first_party=False)
    _, _, tokens = signed_in_tokens(client, users, app, client=pbx, scope=OFFLINE)
    client.post(f"/security/applications/{pbx.client_id}/revoke")
    assert userinfo(client, tokens["access_token"]).status_code == 200


def test_sign_out_everywhere_ends_offline_access_too(app, client, users):
    _, request, tokens = signed_in_tokens(client, users, app, scope=OFFLINE)
    submit(client, "/security/sessions/end-all", page="/security")
    assert client.get("/security").status_code == 302  # signed out here as well
    assert refresh(client, request.client, tokens["refresh_token"]).status_code == 400
    assert userinfo(client, tokens["access_token"]).status_code == 401
