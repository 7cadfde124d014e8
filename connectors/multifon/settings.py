"""The connector's ``IDP_MULTIFON_*`` settings (listed by ``idp config docs``)."""

from __future__ import annotations

from connectors.multifon.backend import parse_factory
from idp.connectors.sdk import (
    Setting,
    phone_region,
    positive_int,
)


def _url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value


def _backend(value: str) -> str:
    return parse_factory(value.strip())


SETTINGS = (
    Setting(
        "IDP_MULTIFON_KNOWLEDGE_BASE_URL",
        "https://multifon.example/knowledge-base",
        "MultiFon Business knowledge base, linked from the cabinet's footer (set it to the operator's page).",
        _url,
    ),
    Setting(
        "IDP_MULTIFON_CONFIGURATOR_URL",
        "https://multifon.example/configurator",
        "MultiFon Business configurator of SIP phones, linked from the cabinet's footer.",
        _url,
    ),
    Setting(
        "IDP_MULTIFON_BACKEND",
        "",
        "Where MultiFon accounts live. Empty: the built-in "
        "provisioning store (`idp multifon provision`); `module:factory`: the operator's own "
        "backend, `factory()` returning a `connectors.multifon.backend.MultifonBackend`.",
        _backend,
    ),
    Setting(
        "IDP_MULTIFON_NUMBER_REGION",
        "RU",
        "Country whose people type the MultiFon Business numbers (ISO 3166): a login without a "
        "country code is read as there, e.g. 8 926 025-07-30 or 926 025-07-30 for RU.",
        phone_region,
    ),
    Setting(
        "IDP_MULTIFON_REMIND_PER_DAY",
        3,
        'SMS with the SIP password an account may be sent in 24 hours ("Remind password").',
        positive_int,
    ),
)
