"""The connector contract: what a service connector package gives Business ID.

A connector is an object, published by its package under the entry point group ``idp.connectors``:

    [project.entry-points."idp.connectors"]
    multifon = "connectors.multifon:connector"

It subclasses ``Connector`` and fills in what its service needs. Business ID then

- mounts ``blueprint`` under ``/services/<id>`` (the cabinet's own pages),
- runs the generic service login (``/services/<id>/login``: the account's own credentials, checked
  by ``verify_credentials``), the linking to the business profile and the account chooser,
- shows ``home_cards`` on the profile's home and adds ``claims`` to the ``services`` scope,
- adds ``migrations`` to the one Alembic history, ``translations`` to the catalogues and
  ``settings`` to the configuration (``idp config docs`` lists them),
- calls ``link_revoked`` when a link ends and ``disconnect`` when the operator disconnects an
  account (``idp services disconnect``),
- offers ``provisioning`` (a Pydantic model of a new account's fields) to the provisioning API,
  which checks a request with ``check_provisioning`` and stores it with ``provision``,
- keeps the SIP registrar in step with ``sip_accounts`` and ``sip_account`` (which accounts may
  register, with which login and password, and their call settings); the connector calls
  ``registrar_changed`` whenever one of them changes.

The built-in connectors in ``connectors/`` use nothing else; see README "Writing a connector".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask

if TYPE_CHECKING:
    from pydantic import BaseModel

    from idp.config import Setting
    from idp.connectors.models import ServiceLink
    from idp.profiles.models import Profile


#: The grammatical cases a service name is declared in (``Connector.name_forms``) and asked for.
NAME_CASES = ("nominative", "genitive", "dative", "accusative", "instrumental", "locative")
CASE_ALIASES = {"prepositional": "locative"}
#: The word "service" in each case, put before a name that has no declared form of that case.
SERVICE_NOUN = {
    "uk": {
        "genitive": "послуги",
        "dative": "послузі",
        "accusative": "послугу",
        "instrumental": "послугою",
        "locative": "послузі",
    },
    "ru": {
        "genitive": "услуги",
        "dative": "услуге",
        "accusative": "услугу",
        "instrumental": "услугой",
        "locative": "услуге",
    },
}


class ProvisioningRefused(ValueError):
    """The values cannot make (or update) an account of the service: ``message`` says why, for
    people, in the current language; ``field`` names the refused field of ``provisioning``, if one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class SipAccount:
    """What the SIP registrar must know of one account (``Connector.sip_account``).

    ``may_register`` False refuses every REGISTER and call (not yet active, disconnected); the
    other fields then do not matter. A forwarding target is a number in E.164, None when off.
    """

    login: str  # the SIP user name (digits, no "+")
    password: str  # the plaintext SIP password; only its digest HA1s leave the process
    may_register: bool = True
    routing: str = "SIP"  # incoming calls: "SIP" (the phone), "GSM" or "SIP+GSM" (both at once)
    trunk_lines: int = 0  # simultaneous outgoing calls allowed; 0: no limit
    forward_all: str | None = None
    forward_busy: str | None = None
    forward_no_answer: str | None = None
    no_answer_seconds: int = 20
    forward_unreachable: str | None = None


@dataclass(frozen=True)
class VerifiedAccount:
    """A service account whose own credentials were just checked."""

    account: str  # the connector's stable id of the account (e.g. the number in E.164)
    label: str  # how people recognise it (e.g. "+7 (926) 025-07-30")


@dataclass
class Card:
    """One card on the profile's home: a linked account, or a panel its backend could not fill."""

    title: str
    value: str
    link_id: int | None = None  # the card opens this linked account's cabinet
    lines: list[str] = field(default_factory=list)
    status: str | None = None  # "ok", "warn" or "off": the badge colour
    status_text: str | None = None
    degraded: bool = False


class Connector(ABC):
    """Base class of every service connector: implement the two abstract methods, override the rest
    as your service needs."""

    #: Short id, used in URLs (``/services/<id>``), the database and the ``services`` claim.
    id: str = ""
    #: The service's name in each language: {"uk": ..., "ru": ..., "en": ...}.
    names: dict[str, str] = {}
    #: The name in the other grammatical cases (``NAME_CASES``), per language, for the messages
    #: that inflect it: {"uk": {"genitive": "IP-телефонії", ...}, "ru": {...}}. A case left out
    #: reads "послуги «name»" / "услуги «name»" (the noun "service" in that case, the name in
    #: apposition), so a connector that declares none still reads correctly; English needs none.
    name_forms: dict[str, dict[str, str]] = {}
    #: Label and hint of the account field on the service login page, per language.
    login_labels: dict[str, str] = {}
    login_hints: dict[str, str] = {}
    #: What the service login says, per language, when ``normalise_login`` finds that the typed
    #: login cannot be an account of the service: name what its logins look like ("This is not a
    #: number of ...: type it as +7 926 ... or 8 926 ..."). Nothing is checked or counted then.
    login_errors: dict[str, str] = {}
    #: The Flask blueprint of the cabinet; its ``cabinet`` endpoint is the cabinet's first page.
    blueprint: Blueprint | None = None
    #: A directory of Alembic revisions (one branch labelled with the connector id), or None.
    migrations: Path | None = None
    #: The connector's own ``IDP_*`` settings (idp.config.Setting), read like the core ones.
    settings: tuple[Setting, ...] = ()
    #: A Babel translations directory (``<locale>/LC_MESSAGES/messages.mo``), or None.
    translations: Path | None = None
    #: The fields of a new account, for the provisioning API (its OpenAPI document is built from
    #: it), or None when the service cannot be provisioned by machine. A Pydantic v2 model that
    #: refuses unknown fields (``ConfigDict(extra="forbid")``) and bounds every value (lengths,
    #: ``Literal`` choices, ``ge``/``le``), each with ``Field(description=...)``; a secret is a
    #: ``Secret``/``SecretStr`` marked ``writeOnly``. Junk is refused by the model or by
    #: ``check_provisioning``, never by an exception of another kind.
    provisioning: type[BaseModel] | None = None

    def init_app(self, app: Flask) -> None:
        """Set the connector up on ``app`` (settings, CLI commands); the blueprint is mounted for you."""
        return  # optional: nothing to set up by default

    def name(self, locale: str, case: str = "nominative") -> str:
        """The service's name in ``locale`` (English when missing), in the grammatical ``case`` a
        message puts it in ("through %(service)s": accusative; "account of %(service)s":
        genitive): the declared ``name_forms``, else the noun "service" in that case followed by
        the name in quotes. A case name is one of ``NAME_CASES`` ("prepositional" = locative)."""
        case = CASE_ALIASES.get(case, case)
        if case not in NAME_CASES:
            raise ValueError(f"unknown grammatical case {case!r}; one of {', '.join(NAME_CASES)}")
        nominative = self.names.get(locale) or self.names.get("en") or self.id
        if case == "nominative":
            return nominative
        forms = self.name_forms.get(locale, {})
        declared = forms.get(case) or (forms.get("prepositional") if case == "locative" else None)
        if declared:
            return declared
        noun = SERVICE_NOUN.get(locale, {}).get(case)
        return f"{noun} «{nominative}»" if noun else nominative

    def normalise_login(self, login: str) -> str | None:
        """Return the canonical form of a typed account login, or None if it cannot be one (the
        login page then says ``login_error``, and no failed password is counted)."""
        login = login.strip()
        return login or None

    @abstractmethod
    def verify_credentials(self, login: str, password: str) -> VerifiedAccount | None:
        """Check the account's own credentials; return the account, or None when they are wrong."""

    def after_login(self, verified: VerifiedAccount) -> str | None:
        """A page of the connector the person must pass right after the service login, before the
        account is linked (e.g. replacing an initial password); its URL, or None to go on.

        That page calls ``idp.connectors.views.continue_service_login`` when it is done.
        """
        return None

    def login_error(self, locale: str) -> str:
        """Why a typed login cannot be an account of the service, in ``locale``."""
        custom = self.login_errors.get(locale) or self.login_errors.get("en")
        if custom:
            return custom
        from flask_babel import gettext

        return str(gettext("This is not an account of %(service)s.", service=self.name(locale, "genitive")))

    def forgot_password_url(self) -> str | None:
        """Where the service login's "Forgot password?" leads, or None for no such link."""
        return None

    def account_label(self, account: str) -> str:
        """How to show an account of this service."""
        return account

    def home_cards(self, profile: Profile, links: list[ServiceLink]) -> list[Card]:
        """The cards of this service on the profile's home, one per linked account by default.

        Read the backend through ``idp.connectors.cabinet.read_backend`` (it has a time limit) and
        show a card as ``degraded`` when it fails; an exception here degrades every card of the
        service, never the page.
        """
        return [Card(title=self.name(_locale()), value=link.label, link_id=link.id) for link in links]

    def claims(self, link: ServiceLink) -> dict[str, Any]:
        """Extra members of this account's entry in the ``services`` claim."""
        return {}

    def link_revoked(self, link: ServiceLink) -> None:
        """A link ended (unlinked by the profile, an administrator, or a disconnection)."""
        return  # optional: most services keep nothing per link

    def replace_password(self, account: str) -> bool:
        """Replace the account's SIP password after somebody's access to it was taken away, and
        deliver the new one (or a way to set it) to the account itself, never to the person who
        lost access (MultiFon: an SMS to the service number; IP telephony: a reset link to the
        account's address). Return False when the service cannot (the default)."""
        return False

    @abstractmethod
    def disconnect(self, account: str) -> None:
        """The operator disconnected the service for ``account``; record it in the backend.

        Raise ``LookupError`` when the service has no such account.
        """

    def check_provisioning(self, values: BaseModel) -> str:
        """The account key (``ServiceLink.account``) that ``provision`` would give these values of
        ``provisioning``, storing and sending nothing: the caller assigns the organisation first.
        Raise ``ProvisioningRefused`` when they are refused. Only a connector with ``provisioning``
        implements it; the default raises NotImplementedError."""
        raise NotImplementedError(f"connector {self.id!r} cannot be provisioned by machine")

    def provision(self, values: BaseModel) -> str:
        """Create the account from these values of ``provisioning`` (or update it, as the service's
        own command does), deliver what the command delivers, and return its account key. Raise
        ``ProvisioningRefused`` (nothing stored) when they are refused. Only a connector with
        ``provisioning`` implements it; the default raises NotImplementedError."""
        raise NotImplementedError(f"connector {self.id!r} cannot be provisioned by machine")

    def sip_accounts(self) -> list[str]:
        """The keys of every account of the service the SIP registrar may know (``idp registrar
        sync`` asks ``sip_account`` of each). The default, none: a service without SIP phones."""
        return []

    def sip_account(self, account: str) -> SipAccount | None:
        """What the registrar must hold for ``account`` now, or None when the service has no
        such account. Read at the time the registrar is updated, never remembered."""
        return None

    def demo(self, profile: Profile) -> list[str]:
        """Create demo accounts for the embedded default (idempotent, keeping what people changed),
        linking some to the demo ``profile``; return the lines ``idp demo`` prints about them."""
        return []

    def encrypted_values(self) -> list[tuple[Any, str, Any]]:
        """(model, column name, context function) of every sealed column, for key rotation."""
        return []


def _locale() -> str:
    from idp.i18n import current_locale

    return current_locale()
