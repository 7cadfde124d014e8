"""What a connector's cabinet pages build on: the active account, stale-tab refusal, backend guards.

Cabinet views are decorated with ``cabinet_view``: it sends strangers to the service login, picks
the browser's active account, and refuses a form that was rendered for another account (a stale
tab) with a clear message, before the view can change anything. Every cabinet form carries the
account it was rendered for: ``{{ service_account_field() }}`` in the template.

Backends are somebody else's systems: ``read_backend`` runs a read with a time limit and turns a
failure or a timeout into ``BackendUnavailable``, so the page can show that one panel as
unavailable while the profile and the other services keep working.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait as wait_for_futures
from functools import wraps
from typing import TypeVar

from flask import (
    Flask,
    copy_current_request_context,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup

from idp.audit.services import record
from idp.auth.guards import return_path
from idp.connectors import registry
from idp.connectors.links import active_link, leave, owner_of
from idp.connectors.models import OWNER, USER, VIEWER, role_allows
from idp.extensions import db
from idp.profiles.models import Profile
from idp.sessions.services import current_profile

log = logging.getLogger("idp.connectors")

ACCOUNT_FIELD = "service_account"
T = TypeVar("T")

_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="idp-backend")


class BackendUnavailable(Exception):
    """The service's backend failed or did not answer in time."""


class BackendReads:
    """The backend reads of one app still running, those whose page gave up waiting included: a
    read that outlived its request may still open a database connection, so the app waits for
    them before its engine is disposed (``finish_backend_reads``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: set[Future] = set()

    def submit(self, call: Callable[[], T]) -> Future:
        future = _executor.submit(call)
        with self.lock:
            self.running.add(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: Future) -> None:
        with self.lock:
            self.running.discard(future)

    def wait(self, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for the running reads; return how many still run."""
        with self.lock:
            running = list(self.running)
        _, not_done = wait_for_futures(running, timeout=timeout)
        return len(not_done)


def _reads_of(app: Flask) -> BackendReads:
    return app.extensions.setdefault("idp_backend_reads", BackendReads())


def finish_backend_reads(app: Flask, timeout: float = 30) -> int:
    """Before the app's engine goes: wait for its backend reads, timed-out ones included; return
    how many are still running after ``timeout`` seconds."""
    return _reads_of(app).wait(timeout)


def cabinet_view(view=None, *, role: str | None = None):
    """Run a cabinet view for the browser's active account of the blueprint's service.

    ``role`` is the least role on the account the view needs (``VIEWER``, ``USER`` or ``OWNER``);
    by default a page is open to every role and a form it posts needs ``USER``. A profile whose
    role is too low is sent to the cabinet, told why and who can change it, with nothing changed.
    Use it bare (``@cabinet_view``) or with the role (``@cabinet_view(role=OWNER)``).
    """
    if view is None:
        return lambda function: cabinet_view(function, role=role)

    @wraps(view)
    def wrapped(*args, **kwargs):
        connector = registry.get(request.blueprint)
        profile = current_profile()
        # The login, and every way on from it, ends at this page (its start: no need to say).
        here = None if request.endpoint == f"{connector.id}.cabinet" else return_path()
        if profile is None:
            return redirect(url_for("services.login", connector_id=connector.id, next=here))
        link = active_link(profile.id, connector.id)
        if link is None:
            _tell_if_unlinked(connector)
            return redirect(url_for("services.entry", connector_id=connector.id, next=here))
        if request.method == "POST" and request.form.get(ACCOUNT_FIELD) != link.account:
            flash(
                _(
                    "This page was opened for another account of %(service)s. Account %(account)s "
                    "is now active in this browser; nothing was changed. Check the page and try "
                    "again.",
                    service=connector.name(_locale()),
                    account=link.label,
                ),
                "error",
            )
            return redirect(url_for(f"{connector.id}.cabinet"))
        g.service_link = link
        needed = role or (USER if request.method == "POST" else VIEWER)
        if not role_allows(link.role, needed):
            record(
                "service.role_refused",
                profile.id,
                connector=connector.id,
                account=link.account,
                role=link.role,
                needed=needed,
                endpoint=request.endpoint,
            )
            db.session.commit()
            flash(role_refusal(needed), "error")
            return redirect(url_for(f"{connector.id}.cabinet"))
        return view(link, *args, **kwargs)

    return wrapped


def may(needed: str) -> bool:
    """In a cabinet page: tell whether the profile's role on the active account allows ``needed``."""
    link = g.get("service_link")
    return link is not None and role_allows(link.role, needed)


def role_refusal(needed: str) -> str:
    """Why the profile's role on the active account does not allow what needs ``needed``, and who
    can change that (for a refused form, and beside a control the role may not use)."""
    link = g.get("service_link")
    held = ROLE_NAMES[link.role]() if link is not None and link.role in ROLE_NAMES else ""
    owner = owner_of(link.connector, link.account) if link is not None else None
    owner_profile = db.session.get(Profile, owner.profile_id) if owner is not None else None
    if needed == OWNER:
        text = _("Only the owner of this account can do this.")
    else:
        text = _(
            "Your role on this account is %(role)s: you can see its settings but not change them.", role=held
        )
    if owner_profile is not None and (link is None or owner_profile.id != link.profile_id):
        return " ".join(
            (
                text,
                _(
                    "Its owner, %(name)s, or your organisation's administrator can change your role.",
                    name=owner_profile.full_name,
                ),
            )
        )
    return " ".join((text, _("Your organisation's administrator can change your role.")))


ROLE_NAMES = {
    VIEWER: lambda: _("viewer"),
    USER: lambda: _("user"),
    OWNER: lambda: _("owner"),
}


def role_name(role: str) -> str:
    """A role on an account, in the page's language."""
    return ROLE_NAMES[role]() if role in ROLE_NAMES else role


def _tell_if_unlinked(connector) -> None:
    """The browser's active account was unlinked meanwhile (by an operator, a password reset):
    say so, and that a form sent for it changed nothing."""
    account = leave(connector.id)
    if account is None:
        return
    label = connector.account_label(account)
    if request.method == "POST":
        flash(
            _(
                "Account %(account)s is no longer linked to your business profile, so nothing was changed.",
                account=label,
            ),
            "error",
        )
    else:
        flash(_("Account %(account)s is no longer linked to your business profile.", account=label), "error")


def service_account_field() -> Markup:
    """The hidden field that tells a cabinet form which account it was rendered for."""
    link = g.get("service_link")
    value = link.account if link is not None else ""
    return Markup('<input type="hidden" name="{}" value="{}">').format(ACCOUNT_FIELD, value)


def read_backend(call: Callable[[], T], what: str) -> T:
    """Run a backend read within IDP_CONNECTOR_TIMEOUT_SECONDS; raise BackendUnavailable otherwise.

    The read runs in a worker thread with its own app context and database session: pass it plain
    values (the account id), never ORM objects of the request's session.
    """
    timeout = current_app.config["IDP_CONNECTOR_TIMEOUT_SECONDS"]
    app = current_app._get_current_object()
    task = copy_current_request_context(call) if has_request_context() else call

    def in_app_context():
        with app.app_context():
            return task()

    future = _reads_of(app).submit(in_app_context)
    try:
        return future.result(timeout=timeout)
    except FutureTimeout as exc:
        log.warning("backend read %s took longer than %ss", what, timeout)
        raise BackendUnavailable(what) from exc
    except BackendUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001  (any failure of a foreign system degrades one panel)
        log.warning("backend read %s failed: %s", what, type(exc).__name__)
        raise BackendUnavailable(what) from exc


def write_backend(call: Callable[[], T], what: str) -> T:
    """Run a backend change; any failure becomes BackendUnavailable (the caller tells the person)."""
    try:
        return call()
    except BackendUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001
        log.warning("backend change %s failed: %s", what, type(exc).__name__)
        raise BackendUnavailable(what) from exc


def connector_name(connector_id: str) -> str:
    """The name of an installed service in the page's language."""
    connector = registry.get(connector_id)
    return connector.name(_locale()) if connector else connector_id


def register_template_helpers(app: Flask) -> None:
    """Make ``service_account_field``, ``connector_name`` and ``service_sections`` (the profile's
    services on its home) available to every template."""
    from idp.connectors.home import service_sections

    app.add_template_global(service_account_field)
    app.add_template_global(may)
    app.add_template_global(role_refusal)
    app.add_template_global(role_name)
    app.add_template_global(connector_name)
    app.add_template_global(service_sections)


def _locale() -> str:
    from idp.i18n import current_locale

    return current_locale()
