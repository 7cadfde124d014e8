"""Single-use codes and refresh tokens under real parallel requests at a live server: of many
simultaneous uses exactly one gets tokens, every other one a clean ``invalid_grant`` (never a
server error), and a refresh token used twice ends its family (RFC 9700 §2.2.2, §4.14)."""

from __future__ import annotations

import requests

from tests.oauth.helpers import AuthorizationRequest, authorize, register_client, signed_in_tokens
from tests.parallel import assert_no_server_error, at_once

AT_ONCE = 8


def _post_token(base: str, client, data: dict) -> requests.Response:
    return requests.post(base + "/token", data=data, headers=client.basic_auth, timeout=60)


def test_a_code_sent_by_many_requests_at_once_gives_tokens_once(live_server, app, client, users):
    users.create(phone="+380501112233")
    from tests.helpers.pages import sign_in
    from tests.oauth.helpers import PASSWORD

    sign_in(client, "+380501112233", PASSWORD)
    request = AuthorizationRequest(register_client(app), scope="openid profile offline_access")
    code = authorize(client, request)["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": request.client.redirect_uri,
        "code_verifier": request.verifier,
    }
    answers = at_once(AT_ONCE, lambda _n: _post_token(live_server, request.client, data))
    assert_no_server_error(answers)
    assert sorted(r.status_code for r in answers) == [200] + [400] * (AT_ONCE - 1)
    assert {r.json()["error"] for r in answers if r.status_code == 400} == {"invalid_grant"}


def test_a_refresh_token_sent_by_many_requests_at_once_is_rotated_once_and_ends_its_family(
    live_server, app, client, users
):
    _profile, request, tokens = signed_in_tokens(client, users, app, scope="openid offline_access")
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    answers = at_once(AT_ONCE, lambda _n: _post_token(live_server, request.client, data))
    assert_no_server_error(answers)
    assert sorted(r.status_code for r in answers) == [200] + [400] * (AT_ONCE - 1)
    assert {r.json()["error"] for r in answers if r.status_code == 400} == {"invalid_grant"}
    # The others were replays: the family ends, the one new token with it.
    [won] = [r.json() for r in answers if r.status_code == 200]
    again = _post_token(live_server, request.client, {**data, "refresh_token": won["refresh_token"]})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
