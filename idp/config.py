"""Configuration: every setting is an ``IDP_*`` environment variable, documented and checked here.

``SETTINGS`` is the one list of what can be configured. ``load_config`` reads the environment,
converts and validates each value, and refuses to start a production instance on an insecure
development default. The README's configuration table is printed by ``idp config docs``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet

# Fixed, public development values. A production start with any of them is refused.
DEV_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105 - public by design
DEV_SECRETS_KEY = "ZGV2ZWxvcG1lbnQtb25seS1rZXktbm90LTQtcHJvZCE="  # 32 public bytes

LANGUAGES = ("uk", "ru", "en")


class ConfigError(ValueError):
    """Raised when the environment holds an invalid or insecure configuration."""


@dataclass(frozen=True)
class Setting:
    """One ``IDP_*`` variable: its default, how to read it and what it means."""

    name: str
    default: Any
    doc: str
    parse: Callable[[str], Any] = str
    secret: bool = False


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def positive_int(value: str) -> int:
    """Parse a setting that is a whole number above zero."""
    number = int(value)
    if number <= 0:
        raise ValueError("must be a positive integer")
    return number


def rate_limits(value: str) -> str:
    """A Flask-Limiter rate limit string such as ``5/hour;10/day``, checked here."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"not a rate limit such as 5/hour;10/day: {value!r}") from exc
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def phone_region(value: str) -> str:
    """Parse a country whose phone numbers people type without its code (ISO 3166, e.g. UA, RU)."""
    import phonenumbers

    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"not a country of phone numbers (ISO 3166, e.g. UA or RU): {value!r}")
    return code


def auto_or_bool(value: str) -> bool | str:
    """Parse a switch that is ``auto`` (decided by IDP_ENV) or true/false."""
    return "auto" if value.strip().lower() == "auto" else _bool(value)


def choice(*allowed: str) -> Callable[[str], str]:
    """A parser of a setting that must be one of ``allowed``."""

    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return parse


def address_networks(value: str) -> str:
    """A comma-separated list of addresses or networks (``127.0.0.1,10.0.0.0/8,::1``), checked here."""
    import ipaddress

    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ValueError(f"not an address or network such as 10.0.0.0/8: {item!r}") from exc
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "IDP_ENV",
        "development",
        "`development` or `production`. Production refuses the "
        "insecure development defaults and requires HTTPS.",
        choice("development", "production"),
    ),
    Setting(
        "IDP_ISSUER",
        "http://127.0.0.1:5000",
        "Public base URL of the provider; e-mail links "
        "are built from it, never from the request's Host header.",
    ),
    Setting(
        "IDP_DATABASE_URL",
        "",
        "SQLAlchemy URL. Empty: a SQLite file in the instance folder. "
        "Production: `postgresql+psycopg://user:pass@host/db`.",
    ),
    Setting(
        "IDP_REDIS_URL",
        "",
        "Redis URL for rate limits and budgets shared by all instances. "
        "Empty: in-process memory (development only).",
    ),
    Setting(
        "IDP_SECRET_KEY",
        DEV_SECRET_KEY,
        "Signs cookies, CSRF tokens and e-mail links. At least 32 random characters in production.",
        secret=True,
    ),
    Setting(
        "IDP_SECRETS_KEY",
        DEV_SECRETS_KEY,
        "Comma-separated Fernet keys that encrypt secrets at "
        "rest (TOTP seeds, queued message bodies). The first encrypts; all decrypt, so a new key "
        "is put first to rotate. Make one with `idp keys new-secrets-key`.",
        secret=True,
    ),
    Setting(
        "IDP_DATA_DIR",
        "",
        "Folder for the SQLite database in the embedded default. Empty: "
        "`instance/` in the working directory.",
    ),
    Setting(
        "IDP_DEFAULT_REGION",
        "UA",
        "Region for phone numbers typed without a country code (ISO 3166 code, e.g. UA or RU).",
        phone_region,
    ),
    Setting(
        "IDP_DEFAULT_LOCALE",
        "uk",
        "Language when the browser asks for none of uk, ru, en.",
        choice(*LANGUAGES),
    ),
    Setting("IDP_TIMEZONE", "Europe/Kyiv", "Time zone in which pages and e-mails show times.", _timezone),
    Setting("IDP_PRODUCT_NAME", "Business ID", "Product name shown on pages, SMS and e-mails."),
    Setting("IDP_OPERATOR_NAME", "Telecom Operator", "Operator name shown in the footer and e-mails."),
    Setting(
        "IDP_OFFER_VERSION",
        "2026-01",
        "Version of the public offer a new profile accepts; stored with each profile.",
    ),
    Setting(
        "IDP_PASSWORD_COMPOSITION",
        True,
        "Require upper- and lower-case Latin letters and digits in passwords (the operator's rule).",
        _bool,
    ),
    Setting("IDP_PASSWORD_MIN_LENGTH", 8, "Minimum password length.", positive_int),
    Setting(
        "IDP_PASSWORD_HASH_MEMORY_KIB",
        19456,
        "Argon2id memory per password hash, in KiB (OWASP's minimum, 19456, is the "
        "least production accepts). Stored hashes are redone at the next sign-in when it changes.",
        positive_int,
    ),
    Setting(
        "IDP_PASSWORD_HASH_ITERATIONS",
        2,
        "Argon2id passes per password hash (production accepts no fewer than 2).",
        positive_int,
    ),
    Setting(
        "IDP_SESSION_IDLE_MINUTES", 30, "A signed-in session ends after this much inactivity.", positive_int
    ),
    Setting("IDP_SESSION_MAX_HOURS", 12, "A signed-in session ends this long after sign-in.", positive_int),
    Setting("IDP_OTP_TTL_SECONDS", 300, "Lifetime of an SMS code.", positive_int),
    Setting("IDP_OTP_MAX_ATTEMPTS", 5, "Wrong entries allowed per SMS code flow.", positive_int),
    Setting("IDP_OTP_RESEND_SECONDS", 60, "Wait before an SMS code may be sent again.", positive_int),
    Setting(
        "IDP_SMS_BUDGET_NUMBER",
        "5/hour;10/day",
        "SMS anyone may start to one number "
        "(registration, password recovery, a new number's code). Past it, and past the two "
        "budgets below, the browser must solve a proof of work first.",
        rate_limits,
    ),
    Setting(
        "IDP_SMS_BUDGET_IP",
        "20/hour;100/day",
        "SMS anyone may start from one client address "
        "(an office behind one address shares it); past it, a proof of work.",
        rate_limits,
    ),
    Setting(
        "IDP_SMS_BUDGET_PREFIX",
        "60/hour",
        "SMS anyone may start to one number prefix "
        "(country and operator code), against SMS pumping; past it, a proof of work.",
        rate_limits,
    ),
    Setting(
        "IDP_SMS_LIMIT_NUMBER",
        "10/hour;20/day",
        "Most SMS anyone may start to one number, proofs of work included.",
        rate_limits,
    ),
    Setting(
        "IDP_SMS_LIMIT_PREFIX",
        "1000/hour",
        "Most SMS anyone may start to one number prefix, proofs of work included.",
        rate_limits,
    ),
    Setting(
        "IDP_SMS_BUDGET_PROFILE",
        "10/hour;30/day",
        "SMS a person who just gave the right "
        "password may ask for (the second factor at sign-in, a confirmation code): the "
        "profile's own budget, which nothing a stranger does can spend.",
        rate_limits,
    ),
    Setting(
        "IDP_POW_MAX_NUMBER",
        100000,
        "Difficulty of the proof of work: the largest number a "
        "browser may have to try (about 0.1 s of a phone's time per 100000).",
        positive_int,
    ),
    Setting("IDP_SMS_PREFIX_DIGITS", 6, "Digits of the E.164 number that make its prefix.", positive_int),
    Setting(
        "IDP_SIGNIN_LIMIT_IP", "30/minute;300/hour", "Sign-in attempts allowed per client IP.", rate_limits
    ),
    Setting(
        "IDP_CODE_LIMIT_IP",
        "30/minute;300/hour",
        "SMS codes that may be entered per client "
        "IP (registration, recovery, phone change), on top of each code's own tries.",
        rate_limits,
    ),
    Setting(
        "IDP_EMAIL_SEND_LIMIT",
        "5/hour;20/day",
        "Letters one profile may have sent to an "
        "address it typed (a confirmation sent again, a corrected or a new address).",
        rate_limits,
    ),
    Setting(
        "IDP_MACHINE_INVITATION_BUDGET",
        "300/hour;2000/day",
        "Invitations the provisioning API and SCIM may send for one organisation (SMS and letters).",
        rate_limits,
    ),
    Setting(
        "IDP_API_LIMIT_CLIENT",
        "600/minute;20000/hour",
        "Calls one client may make to the provisioning API (/api/v1); more get 429 with Retry-After.",
        rate_limits,
    ),
    Setting(
        "IDP_SIGNIN_FREE_FAILURES", 3, "Failed sign-ins to one account before delays begin.", positive_int
    ),
    Setting("IDP_SIGNIN_MAX_DELAY_SECONDS", 900, "Longest delay between sign-in attempts.", positive_int),
    Setting(
        "IDP_SIGNIN_LOCK_FAILURES",
        100,
        "Consecutive failures that lock an account until its password is restored.",
        positive_int,
    ),
    Setting("IDP_EMAIL_LINK_HOURS", 24, "Lifetime of e-mail confirmation links.", positive_int),
    Setting(
        "IDP_INVITATION_DAYS",
        7,
        "Lifetime of an invitation to a colleague (J7), from its last sending.",
        positive_int,
    ),
    Setting(
        "IDP_STAFF_CONFIRM_MINUTES",
        15,
        "How long a staff member's re-confirmation (password and second factor) lets them act in /staff.",
        positive_int,
    ),
    Setting(
        "IDP_TRUSTED_PROXIES",
        0,
        "Number of reverse proxies in front whose X-Forwarded-* headers are trusted.",
        int,
    ),
    Setting(
        "IDP_METRICS_ALLOW",
        "127.0.0.1,::1",
        "Comma-separated client addresses or networks that may read /metrics (the address "
        "after IDP_TRUSTED_PROXIES); anyone else gets 404 unless they present IDP_METRICS_TOKEN.",
        address_networks,
    ),
    Setting(
        "IDP_METRICS_TOKEN",
        "",
        "Bearer token that also admits a scraper to /metrics (`Authorization: Bearer ...`) "
        "from any address; empty: addresses only.",
        secret=True,
    ),
    Setting(
        "IDP_SMS_TRANSPORT",
        "outbox",
        "How SMS leave: `outbox` (development outbox) or `smpp`.",
        choice("outbox", "smpp"),
    ),
    Setting("IDP_SMPP_HOST", "127.0.0.1", "SMSC host for `smpp`."),
    Setting("IDP_SMPP_PORT", 2775, "SMSC port.", positive_int),
    Setting("IDP_SMPP_SYSTEM_ID", "", "SMPP system_id of the transceiver bind."),
    Setting("IDP_SMPP_PASSWORD", "", "SMPP password of the bind.", secret=True),
    Setting("IDP_SMPP_ENQUIRE_SECONDS", 30, "Idle seconds between enquire_link keep-alives.", positive_int),
    Setting(
        "IDP_SMS_SENDER",
        "BusinessID",
        "Sender of SMS: up to 11 letters/digits (alphanumeric "
        "id) or a number; its TON/NPI are chosen to match.",
    ),
    Setting(
        "IDP_MAIL_TRANSPORT",
        "outbox",
        "How e-mails leave: `outbox` (development outbox) or `smtp`.",
        choice("outbox", "smtp"),
    ),
    Setting("IDP_MAIL_SERVER", "127.0.0.1", "SMTP relay host for `smtp`."),
    Setting("IDP_MAIL_PORT", 25, "SMTP relay port.", positive_int),
    Setting("IDP_MAIL_USE_TLS", False, "Upgrade the connection with STARTTLS.", _bool),
    Setting("IDP_MAIL_USE_SSL", False, "Connect with implicit TLS (usually port 465).", _bool),
    Setting("IDP_MAIL_USERNAME", "", "SMTP user name (empty: no authentication)."),
    Setting("IDP_MAIL_PASSWORD", "", "SMTP password.", secret=True),
    Setting("IDP_MAIL_SENDER", "Business ID <no-reply@business-id.example>", "From address of e-mails."),
    Setting(
        "IDP_DELIVERY_GIVE_UP_MINUTES",
        60,
        "A message not handed over within this time is "
        "given up with its reason (SMS codes give up when the code expires).",
        positive_int,
    ),
    Setting(
        "IDP_DELIVERY_MAX_RETRY_SECONDS",
        300,
        "Longest wait between two tries of a message (the wait doubles from 2 s up to this).",
        positive_int,
    ),
    Setting(
        "IDP_WORKER_IN_PROCESS",
        False,
        "Run the delivery worker in a thread of each app process "
        "(handy with `idp run`); otherwise run `idp worker`.",
        _bool,
    ),
    Setting(
        "IDP_REGISTRAR_DATABASE_URL",
        "",
        "Database the SIP registrar (Kamailio) reads: the accounts that may register, with their "
        "digest HA1s and call settings (`sqlite:////abs/path.sqlite3` or `postgresql://…`); "
        "empty: no registrar is kept in step.",
    ),
    Setting(
        "IDP_SIP_REALM",
        "business-id.test",
        "SIP digest realm of the registrar; it is part of every HA1, so after a change run "
        "`idp registrar sync`.",
    ),
    Setting(
        "IDP_REGISTRAR_RPC",
        "",
        "Kamailio's JSON-RPC datagram socket (`unix:/run/kamailio/kamailio_rpc.sock`), used to drop "
        "an account's registrations at once when its password changes or it is disconnected; "
        "empty: they last until they expire.",
    ),
    Setting(
        "IDP_SIGNING_ALG",
        "ES256",
        "Algorithm of the provider's signing key: ES256 or RS256.",
        choice("ES256", "RS256"),
    ),
    Setting(
        "IDP_KEY_RETIRE_HOURS",
        24,
        "How long a rotated-out signing key stays published, so "
        "tokens it signed still verify; keep it above the longest token lifetime.",
        positive_int,
    ),
    Setting("IDP_AUTH_CODE_SECONDS", 60, "Lifetime of an authorization code (single use).", positive_int),
    Setting("IDP_ACCESS_TOKEN_MINUTES", 10, "Lifetime of access tokens and ID tokens.", positive_int),
    Setting(
        "IDP_REFRESH_TOKEN_DAYS",
        30,
        "Lifetime of an `offline_access` refresh token (rotated at "
        "each use); other refresh tokens end with the browser session.",
        positive_int,
    ),
    Setting(
        "IDP_BACKCHANNEL_TIMEOUT_SECONDS",
        5,
        "How long a relying service's back-channel logout "
        "endpoint may take to answer before the notice is retried.",
        positive_int,
    ),
    Setting(
        "IDP_DEMO_RP_URL",
        "http://127.0.0.1:5001",
        "Where the demo relying party (the virtual "
        "PBX portal of `make run`) listens; `idp demo` registers its client with this address.",
    ),
    Setting(
        "IDP_CONNECTORS",
        "",
        "Comma-separated ids of the service connectors to enable "
        "(empty: every installed one, e.g. `multifon`).",
    ),
    Setting(
        "IDP_CONNECTOR_TIMEOUT_SECONDS",
        3,
        "How long a service's backend may take to answer a read before its panel shows as unavailable.",
        positive_int,
    ),
    Setting("IDP_LOG_LEVEL", "INFO", "Logging level.", choice("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting(
        "IDP_LOG_FORMAT",
        "auto",
        "`text` (one human line per record) or `json` (one JSON object per line: time, level, "
        "logger, message, request_id and extra fields). `auto`: json in production, text otherwise.",
        choice("auto", "text", "json"),
    ),
    Setting(
        "IDP_REQUEST_LOG",
        "auto",
        "Log one line per request (logger `idp.request`: method, redacted path, endpoint, status, "
        "duration, client address, request id). `auto`: on in production, off in development and tests.",
        auto_or_bool,
    ),
)


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read every setting from ``environ``; raise ConfigError naming each bad one."""
    values, problems = read_settings(SETTINGS, environ)
    problems += validate_config(values)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return values


def read_settings(
    settings: tuple[Setting, ...], environ: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Read ``settings`` from ``environ`` (default: the process's); return values and problems."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for setting in settings:
        raw = environ.get(setting.name)
        if raw is None or raw == "":
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            problems.append(f"{setting.name}: {exc}")
    return values, problems


def validate_config(values: Mapping[str, Any]) -> list[str]:
    """Return the problems of a complete configuration (empty when it is sound)."""
    problems = []
    for key in values.get("IDP_SECRETS_KEY", "").split(","):
        try:
            Fernet(key.strip())
        except ValueError:
            problems.append("IDP_SECRETS_KEY: each key must be a url-safe base64 32-byte Fernet key")
            break
    if not str(values.get("IDP_ISSUER", "")).startswith(("http://", "https://")):
        problems.append("IDP_ISSUER: must be an http(s) URL")
    if values.get("IDP_SMS_TRANSPORT") == "smpp" and not values.get("IDP_SMPP_SYSTEM_ID"):
        problems.append("IDP_SMPP_SYSTEM_ID: required with IDP_SMS_TRANSPORT=smpp")
    if values.get("IDP_MAIL_USE_TLS") and values.get("IDP_MAIL_USE_SSL"):
        problems.append("IDP_MAIL_USE_TLS/IDP_MAIL_USE_SSL: choose one")
    try:
        address_networks(str(values.get("IDP_METRICS_ALLOW", "")))
    except ValueError as exc:
        problems.append(f"IDP_METRICS_ALLOW: {exc}")
    if values.get("IDP_ENV") == "production":
        problems += _production_problems(values)
    return problems


def _production_problems(values: Mapping[str, Any]) -> list[str]:
    problems = []
    if values["IDP_SECRET_KEY"] == DEV_SECRET_KEY or len(values["IDP_SECRET_KEY"]) < 32:
        problems.append("IDP_SECRET_KEY: set a random value of at least 32 characters")
    if DEV_SECRETS_KEY in values["IDP_SECRETS_KEY"]:
        problems.append("IDP_SECRETS_KEY: the development key is public; make a new one")
    if not values["IDP_ISSUER"].startswith("https://"):
        problems.append("IDP_ISSUER: production requires https")
    if values["IDP_PASSWORD_HASH_MEMORY_KIB"] < 19456 or values["IDP_PASSWORD_HASH_ITERATIONS"] < 2:
        problems.append("IDP_PASSWORD_HASH_*: production requires at least OWASP's 19456 KiB and 2 passes")
    if not values["IDP_DATABASE_URL"] or values["IDP_DATABASE_URL"].startswith("sqlite"):
        problems.append("IDP_DATABASE_URL: production requires PostgreSQL")
    if not values["IDP_REDIS_URL"]:
        problems.append("IDP_REDIS_URL: production requires Redis for limits shared by instances")
    if values["IDP_SMS_TRANSPORT"] == "outbox" or values["IDP_MAIL_TRANSPORT"] == "outbox":
        problems.append(
            "IDP_SMS_TRANSPORT/IDP_MAIL_TRANSPORT: the development outbox delivers "
            "nothing; configure `smpp` and `smtp`"
        )
    return problems


def describe_settings(settings: tuple[Setting, ...] = SETTINGS) -> str:
    """Render the settings as a Markdown table (for the README and ``idp config docs``)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for setting in settings:
        default = "(development value)" if setting.secret else f"`{setting.default}`"
        rows.append(f"| `{setting.name}` | {default} | {setting.doc} |")
    return "\n".join(rows)
