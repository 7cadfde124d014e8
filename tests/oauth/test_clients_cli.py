"""``idp clients``: registering relying services, their secrets (shown once, stored hashed),
rotation, deletion, and refusing registrations that would be unsafe."""

from __future__ import annotations

import base64
import json

import pytest

from idp.extensions import db
from idp.oauth.models import Client, Grant, RefreshToken
from tests.helpers.pages import sign_in
from tests.oauth.helpers import (
    AuthorizationRequest,
    RegisteredClient,
    authorize,
    exchange,
    refresh,
    table_count,
    userinfo,
)

REDIRECT = "https://crm.example/oidc/callback"


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def _create(cli, *options: str) -> dict:
    result = cli.invoke(args=["clients", "create", "--name", "Acme CRM", *options, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _client_credentials(http, client_id: str, secret: str):
    return http.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "crm.read"},
        headers=_basic(client_id, secret),
    )


def _table_text(app) -> str:
    """Every value of every client row, as one string."""
    with app.app_context():
        rows = db.session.execute(db.metadata.tables["oauth_clients"].select()).all()
        return " ".join(str(value) for row in rows for value in row)


def test_create_prints_the_id_and_the_secret_once(app, cli, client):
    data = _create(
        cli,
        "--redirect-uri",
        REDIRECT,
        "--grant",
        "authorization_code",
        "--grant",
        "client_credentials",
        "--scope",
        "openid profile crm.read",
    )
    assert data["client_id"] and len(data["client_secret"]) >= 40
    assert data["type"] == "confidential" and data["redirect_uris"] == [REDIRECT]
    assert data["grant_types"] == ["authorization_code", "client_credentials"]
    assert data["token_endpoint_auth_method"] == "client_secret_basic"
    assert _client_credentials(client, data["client_id"], data["client_secret"]).status_code == 200


def test_the_secret_is_stored_hashed(app, cli):
    data = _create(cli, "--redirect-uri", REDIRECT)
    stored = _table_text(app)
    assert data["client_id"] in stored
    assert data["client_secret"] not in stored
    with app.app_context():
        row = db.session.scalar(db.select(Client))
        assert row.secret_hash and row.secret_hash != data["client_secret"]
        assert row.check_client_secret(data["client_secret"])
        assert not row.check_client_secret(data["client_secret"][:-1])


def test_the_plain_output_also_shows_the_secret_once_with_a_warning(app, cli):
    result = cli.invoke(args=["clients", "create", "--name", "Acme", "--redirect-uri", REDIRECT])
    assert result.exit_code == 0, result.output
    assert "client_secret" in result.output and "cannot be shown again" in result.output


def test_list_and_show_never_print_the_secret(app, cli):
    data = _create(cli, "--redirect-uri", REDIRECT)
    secret = data["client_secret"]
    outputs = [
        cli.invoke(args=args)
        for args in (
            ["clients", "list"],
            ["clients", "list", "--json"],
            ["clients", "show", data["client_id"]],
            ["clients", "show", data["client_id"], "--json"],
        )
    ]
    for result in outputs:
        assert result.exit_code == 0, result.output
        assert data["client_id"] in result.output
        assert secret not in result.output
        assert '"client_secret"' not in result.output and "client_secret " not in result.output
    shown = json.loads(outputs[3].output)
    assert shown["name"] == "Acme CRM" and shown["redirect_uris"] == [REDIRECT]
    assert [c["client_id"] for c in json.loads(outputs[1].output)] == [data["client_id"]]


def test_a_public_client_has_no_secret(app, cli):
    data = _create(cli, "--redirect-uri", "com.example.crm:/callback", "--public")
    assert "client_secret" not in data
    assert data["type"] == "public" and data["token_endpoint_auth_method"] == "none"


def test_rotate_secret_makes_the_old_one_fail(app, cli, client):
    data = _create(cli, "--grant", "client_credentials", "--scope", "crm.read")
    result = cli.invoke(args=["clients", "rotate-secret", data["client_id"], "--json"])
    assert result.exit_code == 0, result.output
    new_secret = json.loads(result.output)["client_secret"]
    assert new_secret != data["client_secret"]
    old = _client_credentials(client, data["client_id"], data["client_secret"])
    assert old.status_code == 401 and old.get_json()["error"] == "invalid_client"
    assert _client_credentials(client, data["client_id"], new_secret).status_code == 200
    assert new_secret not in _table_text(app)


def test_a_public_client_has_no_secret_to_rotate(app, cli):
    data = _create(cli, "--redirect-uri", "http://127.0.0.1:8400/cb", "--public")
    result = cli.invoke(args=["clients", "rotate-secret", data["client_id"]])
    assert result.exit_code != 0 and "public client has no secret" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(Client.secret_hash)) is None


def test_delete_removes_the_client_and_its_tokens_stop_working(app, cli, client, users):
    data = _create(cli, "--redirect-uri", REDIRECT, "--first-party")
    registered = RegisteredClient(data["client_id"], data["client_secret"], REDIRECT)
    profile = users.create()
    sign_in(client, profile.phone)
    request = AuthorizationRequest(registered, scope="openid profile offline_access")
    tokens = exchange(client, request, authorize(client, request)["code"]).get_json()
    assert userinfo(client, tokens["access_token"]).status_code == 200

    result = cli.invoke(args=["clients", "delete", data["client_id"], "--yes"])
    assert result.exit_code == 0, result.output
    assert table_count(app, Client) == 0
    assert table_count(app, Grant) == 0 and table_count(app, RefreshToken) == 0
    assert userinfo(client, tokens["access_token"]).status_code == 401
    assert refresh(client, registered, tokens["refresh_token"]).status_code == 401
    assert client.get(request.url).status_code == 400  # its sign-in requests are refused too
    assert cli.invoke(args=["clients", "show", data["client_id"]]).exit_code != 0


def test_delete_asks_first(app, cli):
    data = _create(cli, "--redirect-uri", REDIRECT)
    result = cli.invoke(args=["clients", "delete", data["client_id"]], input="n\n")
    assert result.exit_code != 0
    assert table_count(app, Client) == 1


def test_unknown_clients_are_reported(app, cli):
    for command in ("show", "rotate-secret", "delete"):
        result = cli.invoke(args=["clients", command, "no-such-client"])
        assert result.exit_code != 0 and "no client 'no-such-client'" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--redirect-uri", "/callback"], "absolute URI"),
        (["--redirect-uri", "crm.example/callback"], "absolute URI"),
        (["--redirect-uri", REDIRECT + "#section"], "without a fragment"),
        (["--redirect-uri", "https://" + "a" * 250 + ".example/"], "at most 254"),
        (["--redirect-uri", "javascript:alert(1)"], "use https"),
        (["--redirect-uri", "ftp://crm.example/cb"], "use https"),
        (["--redirect-uri", "https:///no-host"], "use https"),
        (["--redirect-uri", REDIRECT, "--post-logout-redirect-uri", "/bye"], "post-logout redirect URI"),
        (["--redirect-uri", REDIRECT, "--backchannel-logout-uri", "com.example.app:/logout"], "back-channel"),
        (["--public", "--grant", "client_credentials"], "public client cannot use client_credentials"),
        (["--grant", "authorization_code"], "needs at least one --redirect-uri"),
        ([], "needs at least one --redirect-uri"),
        (["--redirect-uri", REDIRECT, "--grant", "password"], "Invalid value for '--grant'"),
        (["--redirect-uri", REDIRECT, "--grant", "implicit"], "Invalid value for '--grant'"),
        (["--redirect-uri", REDIRECT, "--client-id", "x" * 65], "taken or too long"),
    ],
)
def test_bad_registrations_are_refused_and_nothing_is_stored(app, cli, options, message):
    result = cli.invoke(args=["clients", "create", "--name", "Acme", *options])
    assert result.exit_code != 0
    assert message in result.output
    assert table_count(app, Client) == 0


def test_an_empty_name_is_refused(app, cli):
    result = cli.invoke(args=["clients", "create", "--name", "  ", "--redirect-uri", REDIRECT])
    assert result.exit_code != 0 and "name" in result.output
    assert table_count(app, Client) == 0


def test_a_taken_client_id_is_refused(app, cli):
    _create(cli, "--redirect-uri", REDIRECT, "--client-id", "crm")
    result = cli.invoke(
        args=["clients", "create", "--name", "Other", "--redirect-uri", REDIRECT, "--client-id", "crm"]
    )
    assert result.exit_code != 0 and "taken" in result.output
    assert table_count(app, Client) == 1


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8400/cb", "http://localhost/cb", "http://[::1]:9/cb"])
def test_loopback_http_is_accepted_for_native_apps(app, cli, uri):
    app.config["IDP_ENV"] = "production"
    assert _create(cli, "--redirect-uri", uri, "--public")["redirect_uris"] == [uri]


def test_http_elsewhere_is_refused_in_production(app, cli):
    app.config["IDP_ENV"] = "production"
    result = cli.invoke(
        args=["clients", "create", "--name", "Acme", "--redirect-uri", "http://crm.example/cb"]
    )
    assert result.exit_code != 0 and "use https" in result.output
    assert table_count(app, Client) == 0


def test_a_private_use_scheme_is_for_public_clients_only(app, cli):
    result = cli.invoke(
        args=["clients", "create", "--name", "Acme", "--redirect-uri", "com.example.crm:/callback"]
    )
    assert result.exit_code != 0
    assert table_count(app, Client) == 0
    assert _create(cli, "--public", "--redirect-uri", "com.example.crm:/callback")["type"] == "public"


def test_generated_client_ids_can_be_typed_as_arguments(app, cli):
    """A random id never starts with "-", which the command line would read as an option."""
    from idp.oauth.clients import create_client

    with app.app_context():
        ids = [
            create_client(f"C{i}", [], grant_types=["client_credentials"]).client.client_id
            for i in range(300)
        ]
    assert len(set(ids)) == 300
    assert not [client_id for client_id in ids if client_id.startswith("-")]
    assert cli.invoke(args=["clients", "show", ids[0]]).exit_code == 0
