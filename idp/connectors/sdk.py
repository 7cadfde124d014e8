"""The connector SDK: everything of Business ID a service connector may use, and nothing else.

A connector (``connectors/multifon``, ``connectors/iptel``, a third party's package) imports this
module alone of ``idp``; import-linter holds every built-in connector and the example connector
to it (``make lint``). What is here is public and kept compatible; what is not here may change.

**The contract.** ``Connector`` (subclass it; see its docstring for each member), ``Card`` (a card
on the profile's home), ``VerifiedAccount`` (what ``verify_credentials`` returns), ``ServiceLink``
(a profile's link to an account, with its ``role``; ``OWNER``), ``Setting`` with the parsers
``choice``, ``positive_int`` and ``rate_limits`` (a connector's own ``IDP_*`` settings),
``LANGUAGES`` (uk, ru, en: every name and text in all three).

**Roles on an account.** ``OWNER``, ``USER``, ``VIEWER`` (a link's ``role``), ``role_allows``
(whether a held role covers a needed one), ``may`` and ``role_refusal`` (in a cabinet page or
template: whether the active account's role allows an action, and why not and who can change it).
Declare what a view needs with ``cabinet_view(role=...)``.

**Organisations.** ``assign_to_organisation`` (a provisioning command's ``--org``: the account
belongs to that organisation) and ``OrgError`` (its refusal, for people).

**Provisioning by machine.** ``ProvisioningRefused``: what ``Connector.check_provisioning`` and
``Connector.provision`` raise when the values of ``Connector.provisioning`` are refused.

**The SIP registrar.** ``SipAccount`` (what ``Connector.sip_account`` returns: the login and
password a phone registers with, whether it may, and the call settings the proxy applies) and
``registrar_changed`` (call it, before your commit, whenever one of those changes; the registrar
is brought in step by the delivery worker, and a changed password drops the old registrations).

**Storage.** ``db`` (Flask-SQLAlchemy: a connector's own models and tables, ``db.session``),
``utcnow`` (naive UTC, as every table stores it), ``serialize_on`` (a per-key lock for a limit
that counts rows before it adds one), ``seal`` / ``unseal`` (AES-GCM bound to a context, for a
secret that must be read back, such as a SIP password; list the column in
``Connector.encrypted_values`` so ``idp keys rotate-secrets`` re-seals it), ``hash_password`` /
``verify_password`` (Argon2id), ``broken_rules`` (which password rules a value breaks).

**Pages.** ``cabinet_view`` (decorate every cabinet view: the active account's ``ServiceLink``,
stale tabs and too low a role refused), ``read_backend`` / ``write_backend`` and
``BackendUnavailable`` (a foreign system's call with a time limit; degrade that panel only),
``connector`` (an installed connector by id, e.g. for its name), ``current_profile``,
``current_locale``, ``external_url`` (an absolute URL for letters), ``record`` (an audit event;
never a password), ``limiter`` (Flask-Limiter, for a page's own per-address limit).

**Forms.** ``EmptyForm``, ``CodeForm``, ``NewPasswordForm``, ``REQUIRED``, ``PasswordPolicy``,
``PrintableAscii``, ``current_password_field``, ``email_field``; phone numbers with
``normalize_phone`` / ``read_phone`` (E.164, or None; both take the ``region`` whose people type
the number, read from a setting parsed by ``phone_region``), ``display_phone`` and
``InvalidPhone``; ``normalise_email``, the one form of an e-mail address (trimmed, lower case),
for every address a connector stores or compares.

**The service login and linking.** ``verify_service_login`` (an account's own credentials, under
the sign-in throttling; raises ``WrongCredentials``, ``Throttled``, ``Locked`` or
``BackendUnavailable``, told by ``credential_error``), ``continue_service_login`` (the page after a
connector's ``after_login`` step hands the proven account back with it), ``forget_login_failures``
(the account proved itself otherwise, e.g. by an e-mailed link), ``links_of``, ``account_links``,
``link``, ``unlink`` and ``LinkRefused``.

**Confirming an action.** ``password_confirmed`` (the profile's password again, throttled, the
error on the field) and ``SmsConfirmation`` (a code by SMS to the profile's phone instead).
``Flow`` keeps a few steps of one browser in its server-side session, with a lifetime (the first
login's forced password change, a page that names what was just sent).

**Single-use e-mail links.** ``SingleUseLinks`` (a signed link that names a row of the
connector's own table, works once, until its lifetime ends, the newest only) and ``LinkInvalid``.

**Messages and work for the worker.** ``send`` (an SMS or e-mail in the recipient's language,
stored encrypted, retried), ``register_kind`` (a connector's message kind; its template is
``messages/<kind>.txt`` / ``.html`` on its blueprint's template folder), ``letter_refusal`` (the
budget of letters to a typed address), ``register_job`` / ``enqueue`` (work for the delivery
worker, so that a page answers alike whatever it finds).
"""

from __future__ import annotations

from idp.atomic import serialize_on
from idp.audit.services import record
from idp.auth.errors import Locked, Throttled, WrongCredentials
from idp.auth.messages import credential_error
from idp.auth.step_up import SmsConfirmation, password_confirmed
from idp.config import LANGUAGES, Setting, choice, phone_region, positive_int, rate_limits
from idp.connectors.cabinet import (
    BackendUnavailable,
    cabinet_view,
    may,
    read_backend,
    role_refusal,
    write_backend,
)
from idp.connectors.contract import Card, Connector, ProvisioningRefused, SipAccount, VerifiedAccount
from idp.connectors.links import LinkRefused, account_links, link, links_of, unlink
from idp.connectors.models import OWNER, USER, VIEWER, ServiceLink, role_allows
from idp.connectors.registry import get as connector
from idp.connectors.views import (
    continue_service_login,
    forget_login_failures,
    verify_service_login,
)
from idp.delivery.jobs import enqueue, register_job
from idp.delivery.kinds import register_kind
from idp.delivery.services import send
from idp.email_links import LinkInvalid, SingleUseLinks
from idp.extensions import db, limiter
from idp.forms import (
    REQUIRED,
    CodeForm,
    EmptyForm,
    NewPasswordForm,
    PasswordPolicy,
    PrintableAscii,
    current_password_field,
    email_field,
)
from idp.i18n import current_locale
from idp.links import external_url
from idp.orgs.services import OrgError, assign_to_organisation
from idp.otp.messages import letter_refusal
from idp.registrar.sync import registrar_changed
from idp.security.crypto import seal, unseal
from idp.security.emails import normalise_email
from idp.security.passwords import broken_rules, hash_password, verify_password
from idp.security.phones import InvalidPhone, display_phone, normalize_phone, read_phone
from idp.sessions.flows import Flow
from idp.sessions.services import current_profile
from idp.timeutil import utcnow

__all__ = [
    "LANGUAGES",
    "OWNER",
    "USER",
    "VIEWER",
    "REQUIRED",
    "BackendUnavailable",
    "Card",
    "CodeForm",
    "Connector",
    "EmptyForm",
    "Flow",
    "InvalidPhone",
    "LinkInvalid",
    "LinkRefused",
    "Locked",
    "NewPasswordForm",
    "OrgError",
    "PasswordPolicy",
    "PrintableAscii",
    "ProvisioningRefused",
    "ServiceLink",
    "Setting",
    "SipAccount",
    "SingleUseLinks",
    "SmsConfirmation",
    "Throttled",
    "VerifiedAccount",
    "WrongCredentials",
    "account_links",
    "assign_to_organisation",
    "broken_rules",
    "cabinet_view",
    "choice",
    "connector",
    "continue_service_login",
    "credential_error",
    "current_locale",
    "current_password_field",
    "current_profile",
    "db",
    "display_phone",
    "email_field",
    "enqueue",
    "external_url",
    "forget_login_failures",
    "hash_password",
    "letter_refusal",
    "limiter",
    "link",
    "links_of",
    "may",
    "normalise_email",
    "normalize_phone",
    "password_confirmed",
    "phone_region",
    "positive_int",
    "rate_limits",
    "read_backend",
    "read_phone",
    "record",
    "register_job",
    "register_kind",
    "registrar_changed",
    "role_allows",
    "role_refusal",
    "seal",
    "send",
    "serialize_on",
    "unlink",
    "unseal",
    "utcnow",
    "verify_password",
    "verify_service_login",
    "write_backend",
]
