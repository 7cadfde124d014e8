"""``idp demo`` links two MultiFon accounts to the demo profile and prints a third to link."""

from __future__ import annotations

from connectors.multifon.demo import DEMO_SIP_PASSWORD
from connectors.multifon.store import ProvisioningStore
from idp.connectors.links import links_of
from idp.demo import DEMO_PHONE
from tests.helpers.records import find_profile


def test_demo_links_two_accounts_and_prints_a_third(app):
    cli = app.test_cli_runner()
    first = cli.invoke(args=["demo"])
    second = cli.invoke(args=["demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert "+7 (926) 025-07-30, +7 (926) 025-07-31" in second.output
    assert f"+7 (926) 025-07-32  and SIP password  {DEMO_SIP_PASSWORD}" in second.output
    profile = find_profile(app, DEMO_PHONE)
    with app.app_context():
        links = links_of(profile.id, "multifon")
        assert [row.account for row in links] == ["+79260250730", "+79260250731"]
        store = ProvisioningStore()
        assert store.overview("+79260250730").balance < 0
        assert sum(calls for _day, calls in store.calls_per_day("+79260250731")) > 0
        assert store.verify("+79260250732", DEMO_SIP_PASSWORD)


def test_demo_keeps_what_was_changed_in_the_cabinet(app):
    cli = app.test_cli_runner()
    cli.invoke(args=["demo"])
    with app.app_context():
        ProvisioningStore().set_trunk_lines("+79260250730", 9)
    cli.invoke(args=["demo"])
    with app.app_context():
        assert ProvisioningStore().overview("+79260250730").trunk_lines == 9
