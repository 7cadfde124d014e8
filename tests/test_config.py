"""Configuration: every IDP_* value is checked at start, bad values name their variable, and a
production start refuses the insecure development defaults."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from idp.config import DEV_SECRET_KEY, DEV_SECRETS_KEY, SETTINGS, ConfigError, load_config

PRODUCTION = {
    "IDP_ENV": "production",
    "IDP_SECRET_KEY": "q8Vx2LmN4pR7tY1zW3bC6dF9gH0jK5sA",
    "IDP_SECRETS_KEY": Fernet.generate_key().decode(),
    "IDP_ISSUER": "https://id.operator.example",
    "IDP_DATABASE_URL": "postgresql+psycopg://idp:secret@db.internal/idp",
    "IDP_REDIS_URL": "redis://cache.internal:6379/0",
    "IDP_SMS_TRANSPORT": "smpp",
    "IDP_SMPP_SYSTEM_ID": "businessid",
    "IDP_MAIL_TRANSPORT": "smtp",
}


def refused(environ: dict) -> str:
    with pytest.raises(ConfigError) as error:
        load_config(environ)
    return str(error.value)


def test_the_defaults_make_a_working_development_configuration():
    values = load_config({})
    assert values["IDP_ENV"] == "development"
    assert values["IDP_OTP_TTL_SECONDS"] == 300
    assert values["IDP_OTP_MAX_ATTEMPTS"] == 5
    assert values["IDP_OTP_RESEND_SECONDS"] == 60
    assert values["IDP_SESSION_IDLE_MINUTES"] == 30
    assert values["IDP_SESSION_MAX_HOURS"] == 12
    assert values["IDP_EMAIL_LINK_HOURS"] == 24
    assert values["IDP_SIGNIN_LOCK_FAILURES"] == 100
    assert values["IDP_PASSWORD_MIN_LENGTH"] == 8
    assert values["IDP_PASSWORD_COMPOSITION"] is True
    assert values["IDP_SMS_BUDGET_NUMBER"].startswith("5/hour")


def test_a_proper_production_environment_is_accepted():
    values = load_config(PRODUCTION)
    assert values["IDP_ENV"] == "production"


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"IDP_SECRET_KEY": ""}, "IDP_SECRET_KEY"),  # empty falls back to the development secret
        ({"IDP_SECRET_KEY": DEV_SECRET_KEY}, "IDP_SECRET_KEY"),
        ({"IDP_SECRET_KEY": "too-short-secret"}, "IDP_SECRET_KEY"),
        ({"IDP_SECRETS_KEY": DEV_SECRETS_KEY}, "IDP_SECRETS_KEY"),
        ({"IDP_SECRETS_KEY": f"{Fernet.generate_key().decode()},{DEV_SECRETS_KEY}"}, "IDP_SECRETS_KEY"),
        ({"IDP_ISSUER": "http://id.operator.example"}, "IDP_ISSUER"),
        ({"IDP_DATABASE_URL": ""}, "IDP_DATABASE_URL"),
        ({"IDP_DATABASE_URL": "sqlite:////var/lib/idp.sqlite3"}, "IDP_DATABASE_URL"),
        ({"IDP_REDIS_URL": ""}, "IDP_REDIS_URL"),
        ({"IDP_SMS_TRANSPORT": "outbox"}, "IDP_SMS_TRANSPORT"),
        ({"IDP_MAIL_TRANSPORT": "outbox"}, "IDP_MAIL_TRANSPORT"),
        ({"IDP_SMS_TRANSPORT": "", "IDP_MAIL_TRANSPORT": ""}, "IDP_SMS_TRANSPORT"),
    ],
)
def test_production_refuses_insecure_or_development_values(change, variable):
    assert variable in refused({**PRODUCTION, **change})


def test_production_reports_every_problem_at_once():
    message = refused({"IDP_ENV": "production"})
    for variable in (
        "IDP_SECRET_KEY",
        "IDP_SECRETS_KEY",
        "IDP_DATABASE_URL",
        "IDP_REDIS_URL",
        "IDP_SMS_TRANSPORT",
    ):
        assert variable in message
    assert "IDP_ISSUER" in message  # the default issuer is http


def test_production_with_the_development_outbox_never_starts():
    message = refused({**PRODUCTION, "IDP_SMS_TRANSPORT": "outbox", "IDP_MAIL_TRANSPORT": "outbox"})
    assert "outbox" in message


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("IDP_OTP_TTL_SECONDS", "five minutes"),
        ("IDP_OTP_TTL_SECONDS", "0"),
        ("IDP_OTP_MAX_ATTEMPTS", "-5"),
        ("IDP_OTP_RESEND_SECONDS", "1.5"),
        ("IDP_SESSION_IDLE_MINUTES", "abc"),
        ("IDP_SIGNIN_LOCK_FAILURES", "0"),
        ("IDP_PASSWORD_MIN_LENGTH", ""),  # empty is the default, see below
        ("IDP_SMPP_PORT", "port"),
        ("IDP_TRUSTED_PROXIES", "one"),
        ("IDP_ENV", "staging"),
        ("IDP_DEFAULT_LOCALE", "de"),
        ("IDP_SMS_TRANSPORT", "twilio"),
        ("IDP_MAIL_TRANSPORT", "sendmail"),
        ("IDP_LOG_LEVEL", "LOUD"),
        ("IDP_PASSWORD_COMPOSITION", "maybe"),
        ("IDP_MAIL_USE_TLS", "sometimes"),
        ("IDP_TIMEZONE", "Mars/Olympus_Mons"),
        ("IDP_SECRETS_KEY", "not-a-fernet-key"),
        ("IDP_ISSUER", "id.operator.example"),
        ("IDP_DEFAULT_REGION", "Ukraine"),
    ],
)
def test_an_invalid_value_names_its_variable(variable, value):
    if value == "":
        assert load_config({variable: value})[variable] == 8
        return
    assert variable in refused({variable: value})


def test_every_bad_variable_is_named_in_one_message():
    message = refused({"IDP_OTP_TTL_SECONDS": "x", "IDP_ENV": "test", "IDP_DEFAULT_LOCALE": "fr"})
    assert all(name in message for name in ("IDP_OTP_TTL_SECONDS", "IDP_ENV", "IDP_DEFAULT_LOCALE"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("YES", True), ("1", True), ("off", False), ("False", False), ("0", False)],
)
def test_booleans_are_read_in_the_usual_spellings(value, expected):
    assert load_config({"IDP_PASSWORD_COMPOSITION": value})["IDP_PASSWORD_COMPOSITION"] is expected


def test_numbers_are_read_as_numbers():
    values = load_config({"IDP_OTP_TTL_SECONDS": "120", "IDP_SIGNIN_FREE_FAILURES": "5"})
    assert values["IDP_OTP_TTL_SECONDS"] == 120 and values["IDP_SIGNIN_FREE_FAILURES"] == 5


def test_smpp_needs_a_system_id():
    assert "IDP_SMPP_SYSTEM_ID" in refused({"IDP_SMS_TRANSPORT": "smpp"})


def test_tls_and_ssl_cannot_both_be_on():
    assert "IDP_MAIL_USE_TLS" in refused({"IDP_MAIL_USE_TLS": "true", "IDP_MAIL_USE_SSL": "true"})


def test_the_app_factory_refuses_a_bad_configuration(tmp_path):
    from idp import create_app

    with pytest.raises(ConfigError, match="IDP_ISSUER"):
        create_app({"IDP_DATA_DIR": str(tmp_path), "IDP_ISSUER": "ftp://example"})


def test_every_setting_has_a_documented_idp_name():
    names = [setting.name for setting in SETTINGS]
    assert len(names) == len(set(names))
    assert all(name.startswith("IDP_") and setting.doc for name, setting in zip(names, SETTINGS, strict=True))
