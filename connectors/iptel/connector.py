"""The IP-telephony connector object: what Business ID needs to know about the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, url_for
from pydantic import BaseModel

from connectors.iptel import accounts, activation
from connectors.iptel import provisioning as by_machine
from connectors.iptel.models import INACTIVE
from connectors.iptel.presenting import home_card
from connectors.iptel.settings import SETTINGS
from connectors.iptel.views import bp  # the package: its modules add the routes
from idp.connectors.sdk import (
    Card,
    Connector,
    SipAccount,
    VerifiedAccount,
    read_phone,
)

HERE = Path(__file__).resolve().parent


class IptelConnector(Connector):
    """IP telephony: SIP accounts whose portal login is the phone number (seed 000)."""

    id = "iptel"
    names = {"uk": "IP-телефонія", "ru": "IP-телефония", "en": "IP telephony"}
    name_forms = {
        "uk": {
            "genitive": "IP-телефонії",
            "dative": "IP-телефонії",
            "accusative": "IP-телефонію",
            "instrumental": "IP-телефонією",
            "locative": "IP-телефонії",
        },
        "ru": {
            "genitive": "IP-телефонии",
            "dative": "IP-телефонии",
            "accusative": "IP-телефонию",
            "instrumental": "IP-телефонией",
            "locative": "IP-телефонии",
        },
    }
    login_labels = {
        "uk": "Ім’я користувача (ваш номер телефону)",
        "ru": "Имя пользователя (ваш номер телефона)",
        "en": "User name (your phone number)",
    }
    login_hints = {
        "uk": "Номер послуги IP-телефонії, напр. +380 44 123 4567. Пароль\u00a0— з листа "
        "про підключення або ваш новий.",
        "ru": "Номер услуги IP-телефонии, напр. +380 44 123 4567. Пароль\u00a0— из письма "
        "о подключении или ваш новый.",
        "en": "The number of your IP-telephony service, e.g. +380 44 123 4567. The "
        "password is the one from the connection letter, or your new one.",
    }
    login_errors = {
        "uk": "Це не номер телефону. Введіть номер послуги IP-телефонії, напр. +380 44 123 4567 "
        "або 044 123 4567.",
        "ru": "Это не номер телефона. Введите номер услуги IP-телефонии, напр. +380 44 123 4567 "
        "или 044 123 4567.",
        "en": "This is not a phone number. Type the number of your IP-telephony service, e.g. "
        "+380 44 123 4567 or 044 123 4567.",
    }
    blueprint = bp
    migrations = HERE / "migrations"
    translations = HERE / "translations"
    settings = SETTINGS
    provisioning = by_machine.ConnectIptel

    def init_app(self, app: Flask) -> None:
        """Register the portal's letters and ``idp iptel``."""
        from connectors.iptel.cli import iptel_group
        from connectors.iptel.notices import register_message_kinds
        from connectors.iptel.recovery import register_jobs

        register_message_kinds()
        register_jobs()
        app.cli.add_command(iptel_group)

    def normalise_login(self, login: str) -> str | None:
        """The login is the service number, typed as people of the operator's country type it
        (``IDP_DEFAULT_REGION``: 044 123 4567 as well as +380 44 123 4567)."""
        return read_phone(login)

    def verify_credentials(self, login: str, password: str) -> VerifiedAccount | None:
        account = accounts.verify(login, password)
        return VerifiedAccount(account.number, accounts.label(account.number)) if account else None

    def after_login(self, verified: VerifiedAccount) -> str | None:
        """An account still on its initial password must get a new one before anything else."""
        account = accounts.find(verified.account)
        if account is None or account.status != INACTIVE:
            return None
        activation.hold(verified.account)
        return url_for("iptel.activate")

    def forgot_password_url(self) -> str | None:
        return url_for("iptel.forgot_password")

    def account_label(self, account: str) -> str:
        return accounts.label(account)

    def home_cards(self, profile, links) -> list[Card]:
        return [home_card(link, accounts.find(link.account)) for link in links]

    def claims(self, link) -> dict[str, Any]:
        account = accounts.find(link.account)
        return {"service": self.id, "status": account.status if account else "unknown"}

    def replace_password(self, account: str) -> bool:
        """A password nobody knows, and a link to the account's address to set a new one (J8)."""
        from connectors.iptel.recovery import replace_password

        return replace_password(account)

    def check_provisioning(self, values: BaseModel) -> str:
        """The number ``provision`` would connect (``ConnectIptel``); nothing stored or sent."""
        return by_machine.check(values)

    def provision(self, values: BaseModel) -> str:
        """Connect the service as ``idp iptel connect``: the initial password is e-mailed."""
        return by_machine.provision(values)

    def disconnect(self, account: str) -> None:
        accounts.disconnect(account)

    def sip_accounts(self) -> list[str]:
        from connectors.iptel.registrar import sip_numbers

        return sip_numbers()

    def sip_account(self, account: str) -> SipAccount | None:
        from connectors.iptel.registrar import sip_account

        return sip_account(account)

    def demo(self, profile) -> list[str]:
        from connectors.iptel.demo import ensure_demo_accounts

        return ensure_demo_accounts(profile)

    def encrypted_values(self) -> list[tuple[Any, str, Any]]:
        from connectors.iptel.models import IptelAccount

        return [(IptelAccount, "password_sealed", lambda row: accounts.sealing_context(row.number))]
