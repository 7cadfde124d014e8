"""Keeping the registrar in step with the accounts: one account through the queue, or all at once.

A connector calls ``registrar_changed`` (in the SDK) when an account's password, state or call
settings change. That stores a job in the same transaction as the change; the delivery worker
runs it (``apply``), retrying while the registrar's database is away, so nothing is lost. The job
carries only the account's key: it asks the connector what is true when it runs, so jobs that run
late or twice still leave the right row. When the login's password changed or the account may no
longer register, its current registrations are dropped (``drop`` job, over the control socket).
``reconcile`` compares every account with the registrar (``idp registrar sync``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from idp.connectors import registry
from idp.connectors.contract import SipAccount
from idp.delivery.jobs import enqueue, register_job
from idp.registrar import control, database
from idp.registrar.digest import ha1_md5, ha1_sha256
from idp.registrar.schema import CALL_SETTINGS, GSM, SIP, SIP_AND_GSM

log = logging.getLogger("idp.registrar")

APPLY_JOB, DROP_JOB = "registrar.apply", "registrar.drop"
ROUTINGS = (SIP, GSM, SIP_AND_GSM)
SETTINGS = CALL_SETTINGS


def register_jobs() -> None:
    register_job(APPLY_JOB, apply)
    register_job(DROP_JOB, drop)


def registrar_changed(service: str, account: str) -> None:
    """Bring the registrar's row of ``account`` of ``service`` in step with what the connector
    says now: a job in the caller's transaction (commit it), run by the delivery worker. Nothing
    happens when no registrar is configured."""
    if database.enabled():
        enqueue(APPLY_JOB, {"service": service, "account": account}, commit=False)


def desired_row(service: str, account: str, sip: SipAccount | None) -> database.Row | None:
    """The row the registrar must hold for an account, or None when it must hold none."""
    if sip is None or not sip.may_register:
        return None
    if sip.routing not in ROUTINGS:
        raise ValueError(f"{service} {account}: unknown routing {sip.routing!r}")
    realm = current_app.config["IDP_SIP_REALM"]
    return {
        "username": sip.login,
        "domain": realm,
        "ha1": ha1_md5(sip.login, realm, sip.password),
        "ha1_sha256": ha1_sha256(sip.login, realm, sip.password),
        "service": service,
        "account": account,
        "routing": sip.routing,
        "trunk_lines": max(0, sip.trunk_lines),
        "forward_all": _digits(sip.forward_all),
        "forward_busy": _digits(sip.forward_busy),
        "forward_no_answer": _digits(sip.forward_no_answer),
        "no_answer_seconds": sip.no_answer_seconds,
        "forward_unreachable": _digits(sip.forward_unreachable),
    }


def _digits(number: str | None) -> str:
    return (number or "").lstrip("+")


@dataclass
class Difference:
    """What differs between an account and the registrar's row of it."""

    service: str
    account: str
    what: str  # "added", "removed", "login", "realm", "password" or "settings"
    details: list[str] = field(default_factory=list)

    def line(self) -> str:
        extra = f" ({', '.join(self.details)})" if self.details else ""
        return f"{self.service} {self.account}: {self.what}{extra}"


def difference(held: database.Row | None, wanted: database.Row | None) -> Difference | None:
    if held is None:
        return None if wanted is None else Difference(wanted["service"], wanted["account"], "added")
    if wanted is None:
        return Difference(held["service"], held["account"], "removed")
    if held["username"] != wanted["username"]:
        return Difference(wanted["service"], wanted["account"], "login")
    if held["domain"] != wanted["domain"]:
        return Difference(wanted["service"], wanted["account"], "realm")
    if (held["ha1"], held["ha1_sha256"]) != (wanted["ha1"], wanted["ha1_sha256"]):
        return Difference(wanted["service"], wanted["account"], "password")
    changed = [name for name in SETTINGS if held[name] != wanted[name]]
    return Difference(wanted["service"], wanted["account"], "settings", changed) if changed else None


def _write(held: database.Row | None, wanted: database.Row | None, service: str, account: str) -> None:
    """Store ``wanted`` (or remove the row) and, when the old credentials stop working, queue
    the dropping of their registrations."""
    if wanted is None:
        database.remove(service, account)
    else:
        database.put(wanted)
    if held is None or not control.configured():
        return
    if wanted is None or _credentials(held) != _credentials(wanted):
        enqueue(DROP_JOB, {"login": held["username"]})


def _credentials(row: database.Row) -> tuple[str, str, str]:
    return row["username"], row["domain"], row["ha1"]


def apply(payload: dict[str, Any]) -> None:
    """The job: store what the connector says now of one account."""
    service, account = payload["service"], payload["account"]
    connector = registry.get(service)
    sip = connector.sip_account(account) if connector else None
    held = database.row_of(service, account)
    wanted = desired_row(service, account, sip)
    change = difference(held, wanted)
    if change is None:
        return
    _write(held, wanted, service, account)
    log.info("registrar: %s", change.line())


def drop(payload: dict[str, Any]) -> None:
    """The job: drop the registrations of a login whose credentials ended (retried while the
    control socket does not answer)."""
    control.drop_registrations(payload["login"])
    log.info("registrar: registrations of %s dropped", payload["login"])


def reconcile(apply_changes: bool = True) -> list[Difference]:
    """Compare every account of every connector with the registrar; store what differs unless
    ``apply_changes`` is False. Rows of accounts or services no longer known are removed."""
    differences: list[Difference] = []
    seen: set[tuple[str, str]] = set()
    for connector in registry.installed().values():
        held_rows = {row["account"]: row for row in database.rows(connector.id)}
        for account in connector.sip_accounts():
            seen.add((connector.id, account))
            held = held_rows.get(account)
            wanted = desired_row(connector.id, account, connector.sip_account(account))
            change = difference(held, wanted)
            if change is not None:
                differences.append(change)
                if apply_changes:
                    _write(held, wanted, connector.id, account)
    for row in database.rows():
        if (row["service"], row["account"]) not in seen:
            differences.append(Difference(row["service"], row["account"], "removed"))
            if apply_changes:
                _write(row, None, row["service"], row["account"])
    return differences
