"""``idp multifon``: provision, list and show accounts; bad input stores nothing."""

from __future__ import annotations

import pytest

from connectors.multifon.store import ProvisioningStore, accounts
from tests.multifon.conftest import NUMBER

GOOD = [
    "multifon",
    "provision",
    "--number",
    "+7 926 025-07-30",
    "--sip-password",
    "SipPassw0rd",
    "--balance",
    "-12.50",
    "--routing",
    "SIP+GSM",
    "--trunk-lines",
    "4",
    "--seed-calls",
]


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_provision_list_and_show(app, cli):
    result = cli.invoke(args=GOOD)
    assert result.exit_code == 0, result.output
    assert f"MultiFon account {NUMBER} provisioned." in result.output
    with app.app_context():
        store = ProvisioningStore()
        assert store.verify(NUMBER, "SipPassw0rd")
        assert store.overview(NUMBER).trunk_lines == 4
        assert sum(calls for _day, calls in store.calls_per_day(NUMBER)) > 0
    listed = cli.invoke(args=["multifon", "list"])
    assert NUMBER in listed.output and "-12.50 RUB" in listed.output and "SIP+GSM" in listed.output
    shown = cli.invoke(args=["multifon", "show", "79260250730"])
    assert shown.exit_code == 0 and "routing:" in shown.output and "(sealed, not shown)" in shown.output
    for output in (result.output, listed.output, shown.output):
        assert "SipPassw0rd" not in output


@pytest.mark.parametrize(
    ("option", "value", "message", "code"),
    [
        ("--number", "12345", "not a valid phone number", 1),
        ("--balance", "lots", "not an amount", 1),
        ("--trunk-lines", "21", "trunk lines", 1),
        ("--trunk-lines", "0", "trunk lines", 1),
        ("--caller-id", "abc", "caller ID", 1),
        ("--currency", "XYZ", "ISO 4217", 1),
        ("--routing", "XYZ", "'XYZ' is not one of", 2),  # click's usage error
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(app, cli, option, value, message, code):
    args = list(GOOD)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    result = cli.invoke(args=args)
    assert result.exit_code == code and message in result.output, result.output
    with app.app_context():
        assert accounts() == []


def test_show_refuses_an_unknown_number(cli):
    result = cli.invoke(args=["multifon", "show", "+79269999999"])
    assert result.exit_code == 1 and "no MultiFon account" in result.output
