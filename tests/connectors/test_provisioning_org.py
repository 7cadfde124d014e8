"""``--org`` on ``idp multifon provision`` and ``idp iptel connect``: the new account belongs to the
organisation; an unknown organisation, or another organisation's account, provisions nothing."""

from __future__ import annotations

import pytest

from idp.orgs.services import create_organisation, organisation_of

MULTIFON = ["multifon", "provision", "--number", "+7 926 025-07-30", "--sip-password", "SipPassw0rd"]
IPTEL = [
    "iptel",
    "connect",
    "--number",
    "+380 44 227 0001",
    "--email",
    "office@example.com",
    "--language",
    "en",
]
NUMBERS = {"multifon": "+79260250730", "iptel": "+380442270001"}


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


@pytest.fixture
def orgs(app):
    """Two organisations: (id, registration number) of each."""
    with app.app_context():
        made = [
            create_organisation("UA", "32855961", "ТОВ «Ромашка»"),
            create_organisation("RU", "7707083893", "ООО «Василёк»"),
        ]
        return [(str(org.id), org.number) for org in made]


def _org_name(app, connector: str) -> str | None:
    with app.app_context():
        org = organisation_of(connector, NUMBERS[connector])
        return org.name if org else None


def _multifon_accounts(app) -> list:
    from connectors.multifon.store import accounts

    with app.app_context():
        return [(row.number, row.trunk_lines) for row in accounts()]


def _iptel_accounts(app) -> list:
    from connectors.iptel.accounts import accounts

    with app.app_context():
        return [row.number for row in accounts()]


@pytest.mark.parametrize("by", ["id", "registration number"])
@pytest.mark.parametrize("args", [MULTIFON, IPTEL], ids=["multifon", "iptel"])
def test_the_account_belongs_to_the_organisation(app, cli, orgs, args, by):
    org_id, number = orgs[0]
    result = cli.invoke(args=[*args, "--org", org_id if by == "id" else number])
    assert result.exit_code == 0, result.output
    assert f"  organisation: ТОВ «Ромашка» (UA 32855961, id {org_id})" in result.output
    assert _org_name(app, args[0]) == "ТОВ «Ромашка»"


@pytest.mark.parametrize("ref", ["999", "12345678", "romashka"])
def test_an_unknown_organisation_provisions_no_multifon_account(app, cli, orgs, ref):
    result = cli.invoke(args=[*MULTIFON, "--org", ref])
    assert result.exit_code == 1
    assert f"There is no organisation {ref}. Nothing was provisioned" in result.output
    assert _multifon_accounts(app) == []


def test_an_unknown_organisation_connects_nothing_and_sends_no_letter(app, cli, orgs, outbox):
    result = cli.invoke(args=[*IPTEL, "--org", "999"])
    assert result.exit_code == 1
    assert "There is no organisation 999. Nothing was connected" in result.output
    assert _iptel_accounts(app) == [] and outbox.messages() == []


def test_another_organisations_account_is_not_updated(app, cli, orgs):
    assert cli.invoke(args=[*MULTIFON, "--org", orgs[0][0]]).exit_code == 0
    result = cli.invoke(args=[*MULTIFON, "--trunk-lines", "9", "--org", orgs[1][0]])
    assert result.exit_code == 1 and "belongs to another organisation" in result.output
    assert _multifon_accounts(app) == [(NUMBERS["multifon"], 2)]
    assert _org_name(app, "multifon") == "ТОВ «Ромашка»"


def test_bad_values_assign_nothing(app, cli, orgs):
    result = cli.invoke(args=[*MULTIFON, "--trunk-lines", "21", "--org", orgs[0][0]])
    assert result.exit_code == 1 and "trunk lines" in result.output
    assert _org_name(app, "multifon") is None
    assert cli.invoke(args=[*IPTEL, "--org", orgs[0][0]]).exit_code == 0
    again = cli.invoke(args=[*IPTEL, "--org", orgs[1][0]])
    assert again.exit_code == 1 and "already connected" in again.output
    assert _org_name(app, "iptel") == "ТОВ «Ромашка»"


def test_without_org_the_account_belongs_to_none(app, cli):
    assert cli.invoke(args=MULTIFON).exit_code == 0
    assert _org_name(app, "multifon") is None
