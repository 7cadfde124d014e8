"""The MultiFon Business connector object: what Business ID needs to know about the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from pydantic import BaseModel

from connectors.multifon import provisioning as by_machine
from connectors.multifon.numbers import label, to_e164
from connectors.multifon.presenting import home_card
from connectors.multifon.service import backend, build_backend
from connectors.multifon.settings import SETTINGS
from connectors.multifon.views import bp  # the package: its modules add the routes
from idp.connectors.sdk import (
    BackendUnavailable,
    Card,
    Connector,
    SipAccount,
    VerifiedAccount,
    read_backend,
)

HERE = Path(__file__).resolve().parent


class MultifonConnector(Connector):
    """MultiFon Business: SIP accounts whose login is the service number (seed 004)."""

    id = "multifon"
    names = {"uk": "МультиФон Бізнес", "ru": "МультиФон Бизнес", "en": "MultiFon Business"}
    # A brand name that does not decline ("учетная запись МультиФон Бизнес", seed 004).
    name_forms = {
        locale: dict.fromkeys(("genitive", "dative", "accusative", "instrumental", "locative"), name)
        for locale, name in (("uk", "МультиФон Бізнес"), ("ru", "МультиФон Бизнес"))
    }
    login_labels = {
        "uk": "Обліковий запис SIP (номер послуги)",
        "ru": "Учетная запись SIP (номер услуги)",
        "en": "SIP account (service number)",
    }
    login_hints = {
        "uk": "Номер МультиФон Бізнес, напр. +7 926 025-07-30 або 8 926 025-07-30.",
        "ru": "Номер МультиФон Бизнес, напр. +7 926 025-07-30 или 8 926 025-07-30.",
        "en": "The MultiFon Business number, e.g. +7 926 025-07-30 or 8 926 025-07-30.",
    }
    login_errors = {
        "uk": "Це не номер МультиФон Бізнес. Введіть номер послуги, напр. +7 926 025-07-30 "
        "або 8 926 025-07-30.",
        "ru": "Это не номер МультиФон Бизнес. Введите номер услуги, напр. +7 926 025-07-30 "
        "или 8 926 025-07-30.",
        "en": "This is not a MultiFon Business number. Type the service number, e.g. "
        "+7 926 025-07-30 or 8 926 025-07-30.",
    }
    blueprint = bp
    migrations = HERE / "migrations"
    translations = HERE / "translations"
    settings = SETTINGS
    provisioning = by_machine.ProvisionMultifon

    def init_app(self, app: Flask) -> None:
        """Build the configured backend, register the SIP password SMS and ``idp multifon``."""
        from connectors.multifon import remind, replace
        from connectors.multifon.cli import multifon_group

        app.extensions["multifon_backend"] = build_backend(app.config["IDP_MULTIFON_BACKEND"])
        remind.register_message_kind()
        replace.register_message_kind()
        app.cli.add_command(multifon_group)

    def normalise_login(self, login: str) -> str | None:
        return to_e164(login)

    def verify_credentials(self, login: str, password: str) -> VerifiedAccount | None:
        number = to_e164(login)
        if number is None or not backend().verify(number, password):
            return None
        return VerifiedAccount(number, label(number))

    def account_label(self, account: str) -> str:
        return label(account)

    def home_cards(self, profile, links) -> list[Card]:
        cards = []
        for link in links:
            try:
                overview = read_backend(
                    lambda number=link.account: backend().overview(number), "multifon.overview"
                )
            except BackendUnavailable:
                cards.append(
                    Card(
                        title=_("SIP account"),
                        value=link.label,
                        link_id=link.id,
                        degraded=True,
                        lines=[_("The balance and settings of this account are unavailable right now.")],
                    )
                )
                continue
            cards.append(home_card(_("SIP account"), link, overview))
        return cards

    def claims(self, link) -> dict[str, Any]:
        claims: dict[str, Any] = {"service": self.id}
        try:
            overview = read_backend(lambda: backend().overview(link.account), "multifon.claims")
        except BackendUnavailable:
            return claims
        claims["status"] = overview.status
        return claims

    def replace_password(self, account: str) -> bool:
        """A new SIP password, sent by SMS to the service number (J8)."""
        from connectors.multifon.replace import replace_sip_password

        return replace_sip_password(account, self.name)

    def check_provisioning(self, values: BaseModel) -> str:
        """The number ``provision`` would give these values (``ProvisionMultifon``); nothing stored."""
        return by_machine.check(values)

    def provision(self, values: BaseModel) -> str:
        """Create or update the account in the provisioning store, as ``idp multifon provision``."""
        return by_machine.provision(values)

    def disconnect(self, account: str) -> None:
        backend().disconnect(account)

    def sip_accounts(self) -> list[str]:
        from connectors.multifon.registrar import sip_numbers

        return sip_numbers()

    def sip_account(self, account: str) -> SipAccount | None:
        from connectors.multifon.registrar import sip_account

        return sip_account(account)

    def demo(self, profile) -> list[str]:
        from connectors.multifon.demo import ensure_demo_accounts

        return ensure_demo_accounts(profile)

    def encrypted_values(self) -> list[tuple[Any, str, Any]]:
        from connectors.multifon.models import MultifonAccount
        from connectors.multifon.store import sealing_context

        return [(MultifonAccount, "sip_password_sealed", lambda row: sealing_context(row.number))]
