"""Find the installed connectors (entry point group ``idp.connectors``) and set them up on the app."""

from __future__ import annotations

import logging
import re
from importlib.metadata import entry_points

from flask import Flask, current_app

from idp.config import ConfigError, read_settings
from idp.connectors.contract import CASE_ALIASES, NAME_CASES, Connector

log = logging.getLogger("idp.connectors")

GROUP = "idp.connectors"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
RESERVED_IDS = {"static", "login", "link", "choose", "open"}


class ConnectorError(ConfigError):
    """An installed connector breaks the contract."""


def discover(enabled: list[str] | None = None) -> dict[str, Connector]:
    """Load every connector published under ``idp.connectors`` (only ``enabled`` ids, if given)."""
    found: dict[str, Connector] = {}
    for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if enabled is not None and entry.name not in enabled:
            continue
        connector = entry.load()
        _check(entry.name, connector)
        if connector.id in found:
            raise ConnectorError(f"two connectors use the id {connector.id!r}")
        found[connector.id] = connector
    unknown = sorted(set(enabled or ()) - set(found))
    if unknown:
        raise ConnectorError(f"IDP_CONNECTORS names connectors that are not installed: {', '.join(unknown)}")
    return found


def _check(name: str, connector: object) -> None:
    if not isinstance(connector, Connector):
        raise ConnectorError(f"entry point {name!r} is not an idp.connectors.contract.Connector")
    if connector.id != name:
        raise ConnectorError(f"entry point {name!r} must be named after its connector's id {connector.id!r}")
    if not ID_PATTERN.match(connector.id) or connector.id in RESERVED_IDS:
        raise ConnectorError(
            f"connector {name!r}: id {connector.id!r} must match "
            f"{ID_PATTERN.pattern} and not be one of {sorted(RESERVED_IDS)}"
        )
    missing = [code for code in ("uk", "ru", "en") if not connector.names.get(code)]
    if missing:
        raise ConnectorError(f"connector {connector.id!r} has no name in {', '.join(missing)}")
    if connector.blueprint is None or connector.blueprint.name != connector.id:
        raise ConnectorError(f"connector {connector.id!r} needs a blueprint named {connector.id!r}")
    _check_name_forms(connector)


def _check_name_forms(connector: Connector) -> None:
    """Declared forms of the name use known languages and cases (a misspelt case would silently
    fall back to "service «name»")."""
    for locale, forms in connector.name_forms.items():
        if locale not in ("uk", "ru", "en"):
            raise ConnectorError(f"connector {connector.id!r}: name_forms has an unknown language {locale!r}")
        unknown = sorted(set(forms) - set(NAME_CASES) - set(CASE_ALIASES))
        if unknown or not all(isinstance(form, str) and form for form in forms.values()):
            raise ConnectorError(
                f"connector {connector.id!r}: name_forms[{locale!r}] must map cases of "
                f"{', '.join(NAME_CASES)} to names; wrong: {', '.join(unknown) or 'an empty name'}"
            )


def load(app: Flask) -> dict[str, Connector]:
    """Discover the connectors and add their translations; run before Babel is set up."""
    enabled = app.config["IDP_CONNECTORS"]
    connectors = discover([c.strip() for c in enabled.split(",") if c.strip()] if enabled else None)
    _read_settings(app, connectors)
    directories = [app.config["BABEL_TRANSLATION_DIRECTORIES"]]
    directories += [str(c.translations) for c in connectors.values() if c.translations]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(directories)
    app.extensions["idp_connectors"] = connectors
    return connectors


def _read_settings(app: Flask, connectors: dict[str, Connector]) -> None:
    """Read each connector's settings from the environment, unless the app was given them."""
    problems: list[str] = []
    for connector in connectors.values():
        values, found = read_settings(connector.settings)
        problems += found
        for name, value in values.items():
            app.config.setdefault(name, value)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


def init_app(app: Flask) -> None:
    """Mount each connector's cabinet under /services/<id> and let it set itself up."""
    for connector in app.extensions["idp_connectors"].values():
        app.register_blueprint(connector.blueprint, url_prefix=f"/services/{connector.id}")
        connector.init_app(app)
        log.debug("connector %s ready", connector.id)


def migration_directories(app: Flask) -> list[str]:
    """The Alembic revision directories of the connectors (added to ``version_locations``)."""
    return [str(c.migrations) for c in app.extensions["idp_connectors"].values() if c.migrations]


def installed() -> dict[str, Connector]:
    """The connectors of the current app, by id."""
    return current_app.extensions["idp_connectors"]


def get(connector_id: str) -> Connector | None:
    """The connector with this id, or None."""
    return installed().get(connector_id)
