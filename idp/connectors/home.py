"""The "My services" part of the profile's home: each connector's cards, guarded against its backend."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import gettext as _

from idp.connectors import registry
from idp.connectors.cabinet import role_name
from idp.connectors.contract import Card, Connector
from idp.connectors.links import links_of
from idp.connectors.models import OWNER, ServiceLink
from idp.i18n import current_locale
from idp.profiles.models import Profile

log = logging.getLogger("idp.connectors")


@dataclass
class ServiceSection:
    connector: Connector
    cards: list[Card]


def service_sections(profile: Profile) -> list[ServiceSection]:
    """Every installed service with the profile's cards; a failing backend degrades only its own."""
    links = links_of(profile.id)
    sections = []
    for connector in registry.installed().values():
        mine = [row for row in links if row.connector == connector.id]
        if not mine:
            sections.append(ServiceSection(connector, []))
            continue
        try:
            cards = connector.home_cards(profile, mine)
        except Exception:  # noqa: BLE001  (one connector's failure never breaks the home page)
            log.warning("home cards of %s failed", connector.id, exc_info=True)
            name = connector.name(current_locale())
            cards = [
                Card(
                    title=name,
                    value=row.label,
                    link_id=row.id,
                    degraded=True,
                    lines=[
                        _(
                            "The data of %(service)s is unavailable right now.",
                            service=connector.name(current_locale(), "genitive"),
                        )
                    ],
                )
                for row in mine
            ]
        sections.append(ServiceSection(connector, _with_roles(cards, mine)))
    return sections


def _with_roles(cards: list[Card], links: list[ServiceLink]) -> list[Card]:
    """Say on the card of an account the profile holds as a user or a viewer (a colleague's
    invited access) which role that is; the owner's cards stay as they are."""
    roles = {row.id: row.role for row in links}
    for card in cards:
        role = roles.get(card.link_id) if card.link_id is not None else None
        if role is not None and role != OWNER:
            card.lines.append(_("Your role: %(role)s", role=role_name(role)))
    return cards
