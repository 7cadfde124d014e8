"""Fax to e-mail: an example service connector for Business ID.

Each fax number of the service delivers incoming faxes to an e-mail address. The account is the
fax number; its own password is kept as an Argon2id hash in the connector's table. The cabinet
shows the number and lets the person change the delivery address.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_babel import gettext as _

from idp.connectors.sdk import (
    BackendUnavailable,
    Card,
    Connector,
    InvalidPhone,
    Setting,
    VerifiedAccount,
    db,
    display_phone,
    normalize_phone,
    read_backend,
    utcnow,
    verify_password,
)
from idp_fax_connector.accounts import FaxMailbox, fax_group, mailbox_summary
from idp_fax_connector.views import bp

HERE = Path(__file__).resolve().parent


class FaxConnector(Connector):
    id = "fax"
    names = {"uk": "Факс на e-mail", "ru": "Факс на e-mail", "en": "Fax to e-mail"}
    login_labels = {"uk": "Номер факсу", "ru": "Номер факса", "en": "Fax number"}
    login_hints = {
        "uk": "Наприклад, +380 44 123 4567",
        "ru": "Например, +380 44 123 4567",
        "en": "For example, +380 44 123 4567",
    }
    blueprint = bp
    migrations = HERE / "migrations"
    translations = HERE / "translations"
    settings = (Setting("IDP_FAX_KEEP_DAYS", 30, "How many days the fax service keeps a received fax.", int),)

    def init_app(self, app: Flask) -> None:
        app.cli.add_command(fax_group)

    def normalise_login(self, login: str) -> str | None:
        try:
            return normalize_phone(login).removeprefix("+")  # accounts are E.164 digits
        except InvalidPhone:
            return None

    def verify_credentials(self, login: str, password: str) -> VerifiedAccount | None:
        mailbox = db.session.get(FaxMailbox, login)
        if mailbox is not None and mailbox.disconnected_at is not None:
            mailbox = None
        if not verify_password(mailbox.password_hash if mailbox else None, password):
            return None
        return VerifiedAccount(mailbox.number, self.account_label(mailbox.number))

    def account_label(self, account: str) -> str:
        return display_phone(f"+{account}")

    def home_cards(self, profile, links) -> list[Card]:
        cards = []
        for link in links:
            card = Card(title=_("Fax %(number)s", number=link.label), value="", link_id=link.id)
            try:
                summary = read_backend(lambda account=link.account: mailbox_summary(account), "fax.mailbox")
            except BackendUnavailable:
                card.degraded = True
                card.lines = [_("The fax service is unavailable right now.")]
            else:
                card.value = summary["email"]
                card.status, card.status_text = (
                    ("off", _("Disconnected")) if summary["disconnected"] else ("ok", _("Delivers to e-mail"))
                )
            cards.append(card)
        return cards

    def claims(self, link) -> dict:
        return {"fax_number": f"+{link.account}"}

    def disconnect(self, account: str) -> None:
        """``idp services disconnect fax <number>``: the number stops receiving faxes."""
        mailbox = db.session.get(FaxMailbox, account)
        if mailbox is None:
            raise LookupError(account)
        mailbox.disconnected_at = utcnow()
        db.session.commit()

    def encrypted_values(self) -> list:
        return []  # the only secret is a one-way password hash


connector = FaxConnector()
