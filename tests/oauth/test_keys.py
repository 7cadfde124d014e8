"""Signing keys: published before they sign, kept published after rotation until expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.extensions import db
from idp.oauth.keys import ensure_keys, private_key, rotate
from idp.oauth.models import SigningKey
from idp.timeutil import utcnow


def _published(client) -> dict[str, dict]:
    response = client.get("/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]
    return {key["kid"]: key for key in response.get_json()["keys"]}


def test_the_next_key_is_published_before_it_signs(app, client):
    published = {kid: key for kid, key in _published(client).items() if key["alg"] == "ES256"}
    with app.app_context():
        current = ensure_keys("ES256")
        upcoming = db.session.scalar(
            db.select(SigningKey).where(SigningKey.state == "next", SigningKey.alg == "ES256")
        )
        assert set(published) == {current.kid, upcoming.kid}
        new_current, _ = rotate("ES256")
        assert new_current.kid == upcoming.kid  # the key relying parties already had
    assert all(k["alg"] == "ES256" and k["use"] == "sig" and k["kty"] == "EC" for k in published.values())
    assert not any("d" in k for k in published.values())  # never the private part


def test_a_rotated_key_still_verifies_until_it_is_unpublished(settings, app, client, time_machine):
    settings["IDP_KEY_RETIRE_HOURS"] = 24
    with app.app_context():
        old = ensure_keys("ES256")
        token = jwt.encode({"alg": "ES256", "kid": old.kid}, {"sub": "x"}, private_key(old))
        _, retired = rotate("ES256")
        assert retired.kid == old.kid
    keys = KeySet.import_key_set({"keys": list(_published(client).values())})
    assert jwt.decode(token, keys).claims["sub"] == "x"
    time_machine.move_to(utcnow() + timedelta(hours=25))
    assert old.kid not in _published(client)


def test_private_keys_are_encrypted_at_rest(app, client):
    _published(client)
    with app.app_context():
        for key in db.session.scalars(db.select(SigningKey)):
            assert "PRIVATE KEY" not in key.private_pem_encrypted
            assert "PRIVATE KEY" in private_key(key).as_pem(private=True).decode()


@pytest.mark.idp_settings(IDP_SIGNING_ALG="RS256")
def test_rs256_is_available(app, client):
    published = [k for k in _published(client).values() if k["alg"] == "RS256"]
    assert len(published) == 2  # current and next
    assert all(k["kty"] == "RSA" and len(k["n"]) > 300 for k in published)


def test_rs256_keys_are_published_once_a_client_asks_for_rs256(app, client):
    from tests.oauth.helpers import register_client

    assert sorted(k["alg"] for k in _published(client).values()) == ["ES256", "ES256"]
    register_client(app, id_token_alg="RS256")
    assert sorted(k["alg"] for k in _published(client).values()) == ["ES256", "ES256", "RS256", "RS256"]


def test_keys_ensure_makes_the_keys_of_both_algorithms(app, client):
    result = app.test_cli_runner().invoke(args=["keys", "ensure"])
    assert result.exit_code == 0 and "ES256: signing with" in result.output
    assert sorted(k["alg"] for k in _published(client).values()) == ["ES256", "ES256", "RS256", "RS256"]


def test_keys_rotate_and_list_commands(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "now signing with" in result.output
    listing = runner.invoke(args=["keys", "list"]).output
    assert [line.split()[1] for line in listing.splitlines()] == ["retired", "current", "next"]


def test_making_sure_of_existing_keys_commits_nothing_of_the_callers(app):
    """The token endpoint asks for the signing key in the middle of its transaction (a spent
    code, a grant not yet stored): looking the keys up must not commit that half-made work."""
    with app.app_context():
        ensure_keys("ES256")
        db.session.add(SigningKey(kid="half-made", alg="ES256", state="retired", private_pem_encrypted="x"))
        ensure_keys("ES256")
        db.session.rollback()
        assert db.session.scalar(db.select(SigningKey).where(SigningKey.kid == "half-made")) is None
