"""The ``idp`` command: demo data, profiles, the outbox and the configuration reference."""

from __future__ import annotations

import json
import re

import pytest

from idp.config import SETTINGS
from idp.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_PHONE
from idp.extensions import db
from idp.profiles.models import Profile
from tests.helpers.pages import sign_in
from tests.helpers.records import find_profile

GOOD = [
    "--phone",
    "+380 67 555 1234",
    "--email",
    "Owner@Example.com",
    "--first-name",
    "Olena",
    "--last-name",
    "Koval",
    "--password",
    "Corr3ctHorseBattery",
    "--locale",
    "en",
]


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def profile_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Profile))


def test_demo_is_idempotent_and_says_how_to_sign_in(app, cli, client):
    first = cli.invoke(args=["demo"])
    second = cli.invoke(args=["demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert profile_count(app) == 2  # the demo profile and its organisation's employee
    for output in (first.output, second.output):
        assert "/signin" in output and DEMO_PHONE in output and DEMO_PASSWORD in output
        assert "try J7" in output and "try J8" in output
    assert sign_in(client, DEMO_EMAIL, DEMO_PASSWORD).location == "/"


def test_demo_gives_an_organisation_an_employee_and_a_pending_invitation(app, cli):
    from idp.connectors.links import links_of
    from idp.orgs.demo import EMPLOYEE_PHONE, INVITED_EMAIL, ORG_NUMBER
    from idp.orgs.invitations import pending_of
    from idp.orgs.services import accounts_of, find_organisation, members_of
    from idp.profiles.services import find_by_phone

    for _ in range(2):
        assert cli.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        org = find_organisation("UA", ORG_NUMBER)
        people = {m.profile.phone: m.role for m in members_of(org)}
        assert people == {DEMO_PHONE: "owner", EMPLOYEE_PHONE: "member"}
        owned = {(row.connector, row.account) for row in links_of(find_by_phone(DEMO_PHONE).id)}
        assert {(row.connector, row.account) for row in accounts_of(org)} == owned
        employee = links_of(find_by_phone(EMPLOYEE_PHONE).id)
        assert [row.role for row in employee] == ["user"]
        assert [(i.address, i.role) for i in pending_of(org)] == [(INVITED_EMAIL, "viewer")]


def test_profiles_create_makes_a_verified_profile_that_can_sign_in(app, cli, client):
    result = cli.invoke(args=["profiles", "create", *GOOD])
    assert result.exit_code == 0, result.output
    profile = find_profile(app, "+380675551234")
    assert profile.email == "owner@example.com" and profile.email_verified_at is not None
    assert profile.locale == "en" and profile.password_hash.startswith("$argon2id$")
    assert "Corr3ctHorseBattery" not in result.output
    assert sign_in(client, "owner@example.com").location == "/"


def _with(option: str, value: str) -> list[str]:
    args = list(GOOD)
    args[args.index(option) + 1] = value
    return args


BAD_OPTIONS = [
    ("--phone", "12345"),
    ("--phone", "not a phone"),
    ("--email", "not-an-email"),
    ("--password", "short"),
    ("--password", "Password1"),
    ("--password", "alllowercase123"),
    ("--locale", "de"),
]


def test_profiles_create_refuses_bad_input(app, cli, subtests):
    for option, value in BAD_OPTIONS:
        with subtests.test(option=option, value=value):
            result = cli.invoke(args=["profiles", "create", *_with(option, value)])
            assert result.exit_code != 0
            assert profile_count(app) == 0


def test_profiles_create_names_the_broken_password_rule(cli):
    result = cli.invoke(args=["profiles", "create", *_with("--password", "short")])
    assert "At least 8 characters" in result.output


@pytest.mark.parametrize(
    "duplicate",
    [
        ["--email", "someone.else@example.com"],  # the same phone
        ["--phone", "+380 67 555 9999"],  # the same confirmed e-mail
    ],
)
def test_profiles_create_refuses_a_duplicate(app, cli, duplicate):
    assert cli.invoke(args=["profiles", "create", *GOOD]).exit_code == 0
    args = list(GOOD)
    args[args.index(duplicate[0]) + 1] = duplicate[1]
    result = cli.invoke(args=["profiles", "create", *args])
    assert result.exit_code != 0
    assert "exists" in result.output
    assert profile_count(app) == 1


def test_outbox_list_json_is_valid_and_newest_first(app, cli):
    with app.test_request_context():
        from idp.delivery.services import send

        send("sms_test", "+380671234567", "en")
        send("email_test", "dev@example.com", "uk")
        send("sms_test", "+380671234568", "ru")
    result = cli.invoke(args=["outbox", "list", "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    assert [e["recipient"] for e in entries] == ["+380671234568", "dev@example.com", "+380671234567"]
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True)
    assert {"channel", "kind", "text", "state", "created_at", "locale"} <= set(entries[0])


def test_outbox_list_filters_and_limits(app, cli):
    with app.test_request_context():
        from idp.delivery.services import send

        for n in range(3):
            send("sms_test", f"+38067123456{n}", "en")
    limited = json.loads(cli.invoke(args=["outbox", "list", "--json", "--limit", "2"]).output)
    assert len(limited) == 2
    only = json.loads(cli.invoke(args=["outbox", "list", "--json", "--to", "+380671234561"]).output)
    assert [e["recipient"] for e in only] == ["+380671234561"]


def test_outbox_list_to_finds_an_address_in_any_case_and_a_number_in_any_format(app, cli):
    with app.test_request_context():
        from idp.delivery.services import send

        send("email_test", "Dev.Team@Example.com", "en")
        send("sms_test", "+380671234567", "en")
    with app.app_context():  # a row stored before addresses had one form keeps its case
        from idp.delivery.models import Message

        db.session.execute(
            db.update(Message).where(Message.channel == "email").values(recipient="Old@Example.com")
        )
        db.session.commit()
        send("email_test", "old@example.com", "uk")
    for typed in ("old@example.com", "OLD@EXAMPLE.COM", " Old@Example.com "):
        found = json.loads(cli.invoke(args=["outbox", "list", "--json", "--to", typed]).output)
        assert [(e["recipient"], e["locale"]) for e in found] == [
            ("old@example.com", "uk"),
            ("Old@Example.com", "en"),
        ]
    for typed in ("+380671234567", "+380 67 123 45 67", "0671234567"):
        found = json.loads(cli.invoke(args=["outbox", "list", "--json", "--to", typed]).output)
        assert [e["recipient"] for e in found] == ["+380671234567"], typed


def test_outbox_list_without_messages_is_an_empty_list(cli):
    result = cli.invoke(args=["outbox", "list", "--json"])
    assert result.exit_code == 0 and json.loads(result.output) == []


def test_config_docs_lists_every_setting(cli):
    result = cli.invoke(args=["config", "docs"])
    assert result.exit_code == 0
    for setting in SETTINGS:
        assert f"`{setting.name}`" in result.output
    assert "test-secret-key" not in result.output  # secrets are never printed


def test_keys_new_secrets_key_prints_a_usable_key(cli):
    from cryptography.fernet import Fernet

    key = cli.invoke(args=["keys", "new-secrets-key"]).output.strip()
    Fernet(key)


def test_routes_name_the_endpoint_and_the_module_of_each_url(cli):
    result = cli.invoke(args=["routes"])
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert header.split() == ["Methods", "Rule", "Endpoint", "Module"]
    rows = {rule: (methods, endpoint, module) for methods, rule, endpoint, module in map(_columns, lines)}
    assert rows["/security"] == ("GET", "security.index", "idp.profiles.security")
    assert rows["/authorize"] == ("GET, POST", "authorize.authorize", "idp.oauth.authorize")
    assert rows["/logout"] == ("GET, POST", "logout.end_session", "idp.oauth.logout")
    assert rows["/logout/confirm"] == ("POST", "logout.confirm_logout", "idp.oauth.logout")
    assert rows["/sms/status/<flow>"] == ("GET", "sms.status", "idp.otp.sms")


def test_idp_routes_is_ours_not_flasks():
    from idp.cli import routes_command
    from idp.command import main

    assert main.commands["routes"] is routes_command


def _columns(line: str) -> list[str]:
    """The four columns of a line of ``idp routes`` (two spaces or more apart)."""
    return re.split(r" {2,}", line.strip())
