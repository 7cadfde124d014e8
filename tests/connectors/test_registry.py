"""Finding the installed connectors: the contract checks and IDP_CONNECTORS.

The entry points are the registry's own collaborator: these tests hand it fake ones.
"""

from __future__ import annotations

import pytest
from flask import Blueprint

from idp.connectors import registry
from idp.connectors.contract import Connector, VerifiedAccount
from idp.connectors.registry import ConnectorError, discover

NAMES = {"uk": "Сервіс", "ru": "Сервис", "en": "Service"}


def make_connector(
    connector_id: str, names: dict | None = None, blueprint_name: str | None = None
) -> Connector:
    blueprint = Blueprint(blueprint_name or connector_id, __name__)
    blueprint.add_url_rule("/cabinet", "cabinet", lambda: "cabinet")

    class Fake(Connector):
        def verify_credentials(self, login, password):
            return VerifiedAccount(login, login)

        def disconnect(self, account):
            raise LookupError(account)

    fake = Fake()
    fake.id = connector_id
    fake.names = NAMES if names is None else names
    fake.blueprint = blueprint
    return fake


class FakeEntryPoint:
    def __init__(self, name: str, target: object):
        self.name = name
        self.target = target
        self.loaded = False

    def load(self):
        self.loaded = True
        if isinstance(self.target, Exception):
            raise self.target
        return self.target


@pytest.fixture
def installed(monkeypatch):
    """Set the entry points of the group; returns a function taking FakeEntryPoints."""
    points: list[FakeEntryPoint] = []

    def entry_points(group):
        assert group == "idp.connectors"
        return list(points)

    monkeypatch.setattr(registry, "entry_points", entry_points)

    def install(*entries: FakeEntryPoint) -> list[FakeEntryPoint]:
        points[:] = entries
        return list(entries)

    return install


def test_every_installed_connector_is_found_by_its_id(installed):
    installed(FakeEntryPoint("voice", make_connector("voice")), FakeEntryPoint("fax", make_connector("fax")))
    found = discover()
    assert list(found) == ["fax", "voice"]
    assert found["fax"].name("ru") == "Сервис"


def test_nothing_installed_is_no_connector(installed):
    installed()
    assert discover() == {}


@pytest.mark.parametrize(
    "bad_id",
    ["", "f", "Fax", "1fax", "fax-line", "fax line", "x" * 33, "login", "link", "choose", "open", "static"],
)
def test_an_id_that_cannot_be_a_url_or_table_prefix_is_refused(installed, bad_id):
    installed(FakeEntryPoint("broken", make_connector(bad_id, blueprint_name=bad_id or "empty")))
    with pytest.raises(ConnectorError, match="id"):
        discover()


@pytest.mark.parametrize("names", [{}, {"uk": "Факс", "en": "Fax"}, {**NAMES, "en": ""}])
def test_a_name_missing_in_a_language_is_refused(installed, names):
    installed(FakeEntryPoint("fax", make_connector("fax", names=names)))
    with pytest.raises(ConnectorError, match="no name in"):
        discover()


def test_a_blueprint_not_named_like_the_id_is_refused(installed):
    installed(FakeEntryPoint("fax", make_connector("fax", blueprint_name="fax_cabinet")))
    with pytest.raises(ConnectorError, match="blueprint named 'fax'"):
        discover()


def test_a_connector_without_a_blueprint_is_refused(installed):
    connector = make_connector("fax")
    connector.blueprint = None
    installed(FakeEntryPoint("fax", connector))
    with pytest.raises(ConnectorError, match="blueprint"):
        discover()


def test_an_entry_point_that_is_no_connector_is_refused(installed):
    installed(FakeEntryPoint("fax", object()))
    with pytest.raises(ConnectorError, match="is not an idp.connectors.contract.Connector"):
        discover()


def test_two_connectors_with_one_id_are_refused(installed):
    # Two installed packages may publish the same entry point name.
    installed(FakeEntryPoint("fax", make_connector("fax")), FakeEntryPoint("fax", make_connector("fax")))
    with pytest.raises(ConnectorError, match="two connectors use the id 'fax'"):
        discover()


def test_an_entry_point_is_named_after_its_connector(installed):
    installed(FakeEntryPoint("fax2", make_connector("fax")))
    with pytest.raises(ConnectorError, match="must be named after its connector's id 'fax'"):
        discover()


def test_enabling_a_connector_that_is_not_installed_is_refused(installed):
    installed(FakeEntryPoint("fax", make_connector("fax")))
    with pytest.raises(ConnectorError, match="not installed: multifn"):
        discover(["fax", "multifn"])


def test_only_the_enabled_connectors_are_even_loaded(installed):
    broken, fax = installed(
        FakeEntryPoint("broken", ImportError("no such backend library")),
        FakeEntryPoint("fax", make_connector("fax")),
    )
    assert list(discover(["fax"])) == ["fax"]
    assert not broken.loaded and fax.loaded


@pytest.fixture
def two_connectors(installed):
    installed(FakeEntryPoint("fax", make_connector("fax")), FakeEntryPoint("voice", make_connector("voice")))


@pytest.mark.idp_settings(IDP_CONNECTORS="voice")
def test_idp_connectors_restricts_the_app_to_the_listed_ones(two_connectors, app, client):
    assert list(app.extensions["idp_connectors"]) == ["voice"]
    assert client.get("/services/voice/login").status_code == 200
    assert client.get("/services/fax/login").status_code == 404
    assert client.get("/services/fax/cabinet").status_code == 404


@pytest.mark.idp_settings(IDP_CONNECTORS=" fax , voice ")
def test_idp_connectors_may_list_several(two_connectors, app):
    assert list(app.extensions["idp_connectors"]) == ["fax", "voice"]


def test_without_idp_connectors_every_installed_one_is_enabled(two_connectors, app, client):
    assert list(app.extensions["idp_connectors"]) == ["fax", "voice"]
    text = client.get("/services/fax/login").get_data(as_text=True)
    assert "Service" in text
