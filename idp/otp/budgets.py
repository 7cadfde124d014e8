"""SMS send budgets: what a stranger can start, apart from what a person who proved a password needs.

*Stranger* sends (registration, password recovery, the code to a new phone number) can be started
by anyone who types a number: they are what SMS pumping and harassment use. They draw on budgets
per number, per client address and per number prefix (``IDP_SMS_BUDGET_*``). Past one of those the
send is not refused but asks for a proof of work first (``idp.otp.pow``): pumping then costs
CPU for every SMS, while an office behind one address, or people in a prefix that others spend,
still get their codes after a moment's check. Ceilings per number and per prefix
(``IDP_SMS_LIMIT_*``) hold even with proofs.

*Proven* sends (the second factor at sign-in, a confirmation code in a cabinet) follow a right
password. They draw on the profile's own budget (``IDP_SMS_BUDGET_PROFILE``) and on nothing a
stranger can spend, so nobody can lock a person out of signing in by spending a shared budget.

Each budget is counted with an atomic hit of the rate-limit storage (a fixed window of ``limits``,
the library under Flask-Limiter): a hit that goes past the limit says so, and every hit of a send
that does not go out is given back. The storage is Redis when ``IDP_REDIS_URL`` is set, so every
instance draws from the same budgets; if it cannot be reached no SMS is sent (``BudgetUnavailable``):
budgets fail closed.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from idp.extensions import client_ip
from idp.metrics.counters import count_throttled
from idp.otp import pow
from idp.otp.errors import BudgetExceeded, BudgetUnavailable, ProofRequired
from idp.security.phones import number_prefix

STRANGER, PROVEN = "stranger", "proven"

Budget = tuple[RateLimitItem, str, str]  # (limit, scope, key)


def code_limit() -> str:
    """Per-address limit of SMS code entries (on top of each code's own tries)."""
    return current_app.config["IDP_CODE_LIMIT_IP"]


def init_app(app: Flask) -> None:
    """Give ``app`` its budget limiter over the rate-limit storage. It raises when the storage is
    unreachable: Flask-Limiter's own limiter falls back to memory instead, which budgets must not."""
    storage = storage_from_string(
        app.config["RATELIMIT_STORAGE_URI"], wrap_exceptions=True, **app.config["RATELIMIT_STORAGE_OPTIONS"]
    )
    app.extensions["idp_budgets"] = FixedWindowRateLimiter(storage)


def budget_limiter() -> FixedWindowRateLimiter:
    """The current app's budget limiter (see ``init_app``)."""
    return current_app.extensions["idp_budgets"]


def _budgets(specs: Iterable[tuple[str, str, str]]) -> list[Budget]:
    config = current_app.config
    return [(item, scope, key) for setting, scope, key in specs for item in parse_many(config[setting])]


def _stranger_budgets(phone: str) -> tuple[list[Budget], list[Budget]]:
    """(ceilings, budgets that a proof of work may pass) of a stranger's SMS to ``phone``."""
    prefix = number_prefix(phone, current_app.config["IDP_SMS_PREFIX_DIGITS"])
    ceilings = _budgets(
        [
            ("IDP_SMS_LIMIT_NUMBER", "sms-number-max", phone),
            ("IDP_SMS_LIMIT_PREFIX", "sms-prefix-max", prefix),
        ]
    )
    soft = _budgets(
        [
            ("IDP_SMS_BUDGET_IP", "sms-ip", client_ip()),
            ("IDP_SMS_BUDGET_NUMBER", "sms-number", phone),
            ("IDP_SMS_BUDGET_PREFIX", "sms-prefix", prefix),
        ]
    )
    return ceilings, soft


def _hit_all(budgets: list[Budget]) -> bool:
    """Count one send against every budget, or against none (all hits given back) if one is spent."""
    limiter = budget_limiter()
    counted: list[Budget] = []
    for budget in budgets:
        item, scope, key = budget
        counted.append(budget)
        if not limiter.hit(item, scope, key):
            give_back(counted)
            return False
    return True


def _room_in(budgets: list[Budget]) -> bool:
    """Tell whether every budget has room left now (a hint only: a hit decides)."""
    limiter = budget_limiter()
    return all(limiter.test(item, scope, key) for item, scope, key in budgets)


def give_back(budgets: list[Budget]) -> None:
    """Undo hits (a fixed window's counter takes a negative cost)."""
    limiter = budget_limiter()
    for item, scope, key in budgets:
        limiter.hit(item, scope, key, cost=-1)


def spend(phone: str, kind: str, profile_id: int | None = None, proof: str | None = None) -> None:
    """Count one SMS to ``phone`` against the budgets of its kind.

    ``kind`` is STRANGER or PROVEN (then ``profile_id`` names the profile). Raises BudgetExceeded
    when a ceiling is reached, ProofRequired when a stranger's budget is spent and ``proof`` is no
    valid proof of work (the browser is then asked for one), BudgetUnavailable when the storage
    cannot be reached.
    """
    try:
        if kind == PROVEN:
            budgets = _budgets([("IDP_SMS_BUDGET_PROFILE", "sms-profile", str(profile_id))])
            if not _hit_all(budgets):
                count_throttled("sms_profile")
                raise BudgetExceeded()
            return
        ceilings, soft = _stranger_budgets(phone)
        # The budgets a proof may pass come first: a proof is asked for only when one is spent,
        # and the ceilings count only sends that are otherwise allowed.
        within_budgets = _hit_all(soft)
        if not within_budgets and not pow.redeem(proof):
            if not _room_in(ceilings):  # no proof would help: say so now
                count_throttled("sms_ceiling")
                raise BudgetExceeded()
            pow.ask()
            count_throttled("sms_proof_required")
            raise ProofRequired()
        if not _hit_all(ceilings):
            if within_budgets:
                give_back(soft)
            count_throttled("sms_ceiling")
            raise BudgetExceeded()
    except StorageError as exc:
        raise BudgetUnavailable() from exc


def spend_machine_invitation(org_id: int) -> bool:
    """Count one invitation a machine (the provisioning API, SCIM) sends for an organisation
    against IDP_MACHINE_INVITATION_BUDGET; False, counting nothing, when it is spent."""
    try:
        allowed = _hit_all(_budgets([("IDP_MACHINE_INVITATION_BUDGET", "invitations-org", str(org_id))]))
    except StorageError as exc:
        raise BudgetUnavailable() from exc
    if not allowed:
        count_throttled("invitation_budget")
    return allowed


def spend_letter_budget(key: str) -> bool:
    """Count one letter to an address the person typed (a confirmation sent again, a corrected or
    new address) against IDP_EMAIL_SEND_LIMIT for ``key`` (a profile, an account); return False,
    counting nothing, when it is spent. Raises BudgetUnavailable when the storage is unreachable."""
    try:
        allowed = _hit_all(_budgets([("IDP_EMAIL_SEND_LIMIT", "letters", key)]))
    except StorageError as exc:
        raise BudgetUnavailable() from exc
    if not allowed:
        count_throttled("letter_budget")
    return allowed
