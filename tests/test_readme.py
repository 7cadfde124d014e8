"""The README documents every setting and the commands a newcomer types."""

from pathlib import Path

import pytest

from idp.config import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented():
    from idp.connectors.registry import discover

    connector_settings = [s for c in discover().values() for s in c.settings]
    missing = [s.name for s in (*SETTINGS, *connector_settings) if f"`{s.name}`" not in README]
    assert missing == []


def test_the_two_commands_are_the_makefile_targets():
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "make run" in README and "make test" in README
    assert "\nrun:" in makefile and "\ntest:" in makefile


def test_the_connector_sdk_is_documented_name_by_name():
    import re

    from idp.connectors import sdk

    section = README.split("**The SDK.**", 1)[1].split("**The contract**", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| group")]
    documented = {name for row in rows for name in re.findall(r"`([A-Za-z_]+)`", row.split("|")[2])}
    assert documented == set(sdk.__all__)
    assert all(getattr(sdk, name).__doc__ for name in sdk.__all__ if callable(getattr(sdk, name)))


# The built-in connectors only, whatever else is installed (tests/connectors installs the example one).
@pytest.mark.idp_settings(IDP_CONNECTORS="iptel,multifon")
def test_the_routes_section_is_what_idp_routes_prints(app):
    output = app.test_cli_runner().invoke(args=["routes"]).output
    assert _routes_section() == output, "README's Routes section is stale: paste `idp routes` into it"


def _routes_section() -> str:
    """The listing in README's "Routes" section: its first fenced block."""
    section = README.split("\n## Routes\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```text\n", 1)[1].split("```", 1)[0]
