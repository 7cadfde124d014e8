"""Sealed secrets (AES-GCM bound to their record) and re-encryption under a new key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken

from idp import create_app
from idp.auth import totp
from idp.extensions import db
from idp.profiles.models import Profile
from idp.security.crypto import decrypt, seal, sealed_with_newest_key, unseal


def test_a_sealed_value_opens_only_in_its_own_context(app):
    with app.app_context():
        sealed = seal("SipPassw0rd", "multifon:+79260250730")
        assert "SipPassw0rd" not in sealed
        assert unseal(sealed, "multifon:+79260250730") == "SipPassw0rd"
        with pytest.raises(InvalidToken):
            unseal(sealed, "multifon:+79260250731")  # copied into another account's row
        tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
        with pytest.raises(InvalidToken):
            unseal(tampered, "multifon:+79260250730")
        with pytest.raises(InvalidToken):
            unseal("not-sealed", "multifon:+79260250730")


def test_rotate_secrets_moves_everything_to_the_new_key(app, settings):
    from connectors.multifon.store import provision

    with app.app_context():
        provision("+79260250730", "SipPassw0rd")
        profile = Profile(
            phone="+380671000001",
            email="a@example.com",
            first_name="A",
            last_name="B",
            password_hash="x",
            offer_version="1",
        )
        db.session.add(profile)
        db.session.commit()
        totp.enable(profile, totp.new_secret(), 1)
        db.session.commit()
    new_key = Fernet.generate_key().decode()
    rotated = create_app({**settings, "IDP_SECRETS_KEY": f"{new_key},{app.config['IDP_SECRETS_KEY']}"})
    with rotated.app_context():
        result = rotated.test_cli_runner().invoke(args=["keys", "rotate-secrets"])
        assert result.exit_code == 0, result.output
        model, column, context = rotated.extensions["idp_connectors"]["multifon"].encrypted_values()[0]
        assert f"{model.__tablename__}.{column}: 1 re-encrypted" in result.output
        row = db.session.scalar(db.select(model))
        assert sealed_with_newest_key(getattr(row, column))
        db.session.remove()
        db.engine.dispose()
    only_new = create_app({**settings, "IDP_SECRETS_KEY": new_key})
    with only_new.app_context():
        row = db.session.scalar(db.select(model))
        assert unseal(getattr(row, column), context(row)) == "SipPassw0rd"
        assert len(decrypt(db.session.scalar(db.select(Profile.totp_secret_encrypted)))) >= 16
        db.session.remove()
        db.engine.dispose()
