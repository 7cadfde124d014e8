"""Link service accounts to profiles, remember the account being linked, and the active account.

A browser works in one account per service at a time (seed 004 §2): the active account of each
service lives in the session under ``service_accounts``.

An account proven by its own credentials but not linked yet waits under ``service_link`` for
thirty minutes, time enough to register a profile. It belongs to the flow its service login began:
the flow's id is in the links of the page that offers signing in or registering, and only a
sign-in or a registration that carries it can link the account. Any other sign-in in that browser,
and a sign-in by somebody else than a person who was signed in when the account was proven, drops
it; so does signing out. The person then confirms which account is being linked.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

from blinker import Namespace
from flask import Flask, current_app, flash, session, url_for
from flask_babel import gettext as _

from idp.audit.services import record
from idp.connectors import registry
from idp.connectors.contract import VerifiedAccount
from idp.connectors.models import OWNER, ServiceLink
from idp.extensions import db
from idp.profiles.models import Profile
from idp.sessions.flows import Flow
from idp.sessions.services import carry_through_sign_in
from idp.sessions.signals import profile_registered
from idp.timeutil import utcnow

PENDING = Flow("service_link", minutes=30)
# The page of a service a person was going to when the service asked them to sign in (a deep link
# such as /services/iptel/forwarding): the service's login, the linking, a sign-in or a
# registration in between, and the account chooser all end there instead of the cabinet's start.
TARGET = Flow("service_target", minutes=60)
ACTIVE = "service_accounts"
# Sent with ``link`` (the new ServiceLink, committed) when a profile links an account by its own
# credentials; organisations make its holder a member (idp.orgs.services).
account_linked = Namespace().signal("account-linked")


class LinkRefused(Exception):
    """The account already belongs to another profile."""


def links_of(profile_id: int, connector_id: str | None = None) -> list[ServiceLink]:
    """The profile's links, of one connector or all, oldest first."""
    query = db.select(ServiceLink).where(ServiceLink.profile_id == profile_id)
    if connector_id:
        query = query.where(ServiceLink.connector == connector_id)
    return list(db.session.scalars(query.order_by(ServiceLink.id)))


def find_link(profile_id: int, connector_id: str, account: str) -> ServiceLink | None:
    """The profile's link to this account, or None."""
    return db.session.scalar(
        db.select(ServiceLink).where(
            ServiceLink.profile_id == profile_id,
            ServiceLink.connector == connector_id,
            ServiceLink.account == account,
        )
    )


def posted_link(profile_id: int, link_id: str | None, connector_id: str | None = None) -> ServiceLink | None:
    """The profile's own link whose id a form posted (of ``connector_id``, if given), or None."""
    valid = link_id is not None and link_id.isdigit() and len(link_id) <= 9  # fits an INTEGER
    row = db.session.get(ServiceLink, int(link_id)) if valid else None
    if (
        row is None
        or row.profile_id != profile_id
        or (connector_id is not None and row.connector != connector_id)
    ):
        return None
    return row


def account_links(connector_id: str, account: str) -> list[ServiceLink]:
    """Every profile's link to this account, oldest first."""
    return list(
        db.session.scalars(
            db.select(ServiceLink)
            .where(ServiceLink.connector == connector_id, ServiceLink.account == account)
            .order_by(ServiceLink.id)
        )
    )


def owner_of(connector_id: str, account: str) -> ServiceLink | None:
    """The owner's link to this account, or None when nobody has linked it."""
    return db.session.scalar(
        db.select(ServiceLink).where(
            ServiceLink.connector == connector_id, ServiceLink.account == account, ServiceLink.role == OWNER
        )
    )


def link(profile: Profile, connector_id: str, verified: VerifiedAccount) -> ServiceLink:
    """Link the account to ``profile`` as its owner; refuse if another profile owns it."""
    existing = find_link(profile.id, connector_id, verified.account)
    if existing is not None:
        return existing
    if owner_of(connector_id, verified.account) is not None:
        record("service.link_refused", profile.id, connector=connector_id, account=verified.account)
        db.session.commit()
        raise LinkRefused
    created = ServiceLink(
        profile_id=profile.id,
        connector=connector_id,
        account=verified.account,
        label=verified.label,
        role=OWNER,
    )
    db.session.add(created)
    record("service.linked", profile.id, connector=connector_id, account=verified.account)
    db.session.commit()
    account_linked.send(current_app._get_current_object(), link=created)  # type: ignore[attr-defined]
    return created


def unlink(link_row: ServiceLink, actor_id: int | None, reason: str) -> None:
    """End a link: the connector is told, the event audited."""
    connector = registry.get(link_row.connector)
    if connector is not None:
        connector.link_revoked(link_row)
    record(
        "service.unlinked",
        link_row.profile_id,
        actor_id,
        connector=link_row.connector,
        account=link_row.account,
        reason=reason,
    )
    db.session.delete(link_row)
    db.session.commit()


def hold_pending(connector_id: str, verified: VerifiedAccount, holder_id: int | None) -> str:
    """Remember an account proven by its own credentials until the person has a profile; return
    the id of the flow it belongs to. ``holder_id`` is the profile signed in at the time, if any."""
    flow = secrets.token_urlsafe(16)
    PENDING.start(
        connector=connector_id, account=verified.account, label=verified.label, flow=flow, holder=holder_id
    )
    return flow


def pending(connector_id: str | None = None, flow: str | None = None) -> VerifiedAccount | None:
    """The account waiting to be linked (of ``connector_id`` and in ``flow``, if given), or None."""
    held = PENDING.get()
    if (
        held is None
        or (connector_id is not None and held["connector"] != connector_id)
        or (flow is not None and held.get("flow") != flow)
    ):
        return None
    return VerifiedAccount(held["account"], held["label"])


def pending_connector() -> str | None:
    """The connector of the account waiting to be linked, or None."""
    held = PENDING.get()
    return held["connector"] if held else None


def pending_flow(connector_id: str) -> str | None:
    """The id of the linking flow of the account of ``connector_id`` waiting to be linked."""
    held = PENDING.get()
    return held.get("flow") if held and held["connector"] == connector_id else None


def flow_of(next_url: str | None) -> str | None:
    """The linking flow that a sign-in or registration going on to ``next_url`` continues, if any:
    the held account's flow, when ``next_url`` is its service's "link complete" page with its id."""
    held = PENDING.get()
    if held is None or not next_url:
        return None
    parts = urlsplit(next_url)
    expected = url_for("services.link_complete", connector_id=held["connector"])
    flow = parse_qs(parts.query).get("flow", [None])[0]
    return flow if parts.path == expected and flow == held.get("flow") else None


def account_to_link(next_url: str | None) -> tuple[str, str] | None:
    """(service name, account) of the account a sign-in or registration going on to ``next_url``
    would link, to name it on the page; None when it continues no linking flow."""
    from idp.i18n import current_locale

    flow = flow_of(next_url)
    waiting = pending(flow=flow) if flow else None
    connector = registry.get(pending_connector() or "") if waiting else None
    return (connector.name(current_locale()), waiting.label) if connector else None


def carried_through_sign_in(next_url: str | None, profile_id: int) -> dict:
    """What of the session a sign-in keeps: the account waiting to be linked, when the sign-in
    continues its flow and is not somebody else's than the person who proved it signed in."""
    held = PENDING.get()
    if held is None or flow_of(next_url) is None or held.get("holder") not in (None, profile_id):
        return {}
    return {PENDING.key: held}


def link_pending(profile: Profile, flow: str | None) -> ServiceLink | None:
    """Link the account waiting in ``flow`` to ``profile`` and make it active; None if nothing
    waits there."""
    connector_id = pending_connector()
    verified = pending(flow=flow) if flow else None
    if verified is None or connector_id is None:
        return None
    PENDING.end()
    created = link(profile, connector_id, verified)
    activate(created)
    return created


def remember_target(connector_id: str, path: str | None) -> None:
    """Remember ``path`` as the page of the service ``connector_id`` to end at once the person is
    in: only a path of that service on this site (``safe_next``); anything else is ignored."""
    from idp.i18n import safe_next

    prefix = url_for("services.entry", connector_id=connector_id)  # /services/<id>/
    target = safe_next(path, "")
    if target.startswith(prefix) and target != prefix and len(target) <= 2000:
        TARGET.start(connector=connector_id, path=target)


def take_target(connector_id: str) -> str | None:
    """The remembered page of ``connector_id``'s service, forgotten now; None if there is none."""
    held = TARGET.get()
    if held is None or held["connector"] != connector_id:
        return None
    TARGET.end()
    return str(held["path"])


def drop_target() -> None:
    """Forget the remembered page (the person chose another way in)."""
    TARGET.end()


def carried_target(next_url: str | None, profile_id: int) -> dict:
    """What of the session a sign-in keeps for the remembered page: all of it, when the sign-in
    goes on to a page of that service (its entry, the linking's completion)."""
    held = TARGET.get()
    if held is None or not next_url:
        return {}
    prefix = url_for("services.entry", connector_id=held["connector"])
    return {TARGET.key: held} if urlsplit(next_url).path.startswith(prefix) else {}


def drop_pending() -> None:
    """Forget the account waiting to be linked (the person declined)."""
    PENDING.end()


def activate(link_row: ServiceLink) -> None:
    """Make this account the browser's active account of its service."""
    active = dict(session.get(ACTIVE) or {})
    active[link_row.connector] = link_row.account
    session[ACTIVE] = active
    link_row.last_used_at = utcnow()
    db.session.commit()


def active_link(profile_id: int, connector_id: str) -> ServiceLink | None:
    """The link of the browser's active account of this service, if it is still linked."""
    account = (session.get(ACTIVE) or {}).get(connector_id)
    return find_link(profile_id, connector_id, account) if account else None


def leave(connector_id: str) -> str | None:
    """Forget the browser's active account of this service; return it (None when there was none)."""
    active = dict(session.get(ACTIVE) or {})
    account = active.pop(connector_id, None)
    if account is not None:
        session[ACTIVE] = active
    return account


def _after_registration(app, profile: Profile, next_url: str | None, link_account: bool) -> None:
    """A registration begun at a service's login: link the account it proved, if ticked."""
    if not link_account:
        if flow_of(next_url) is not None:
            drop_pending()  # declined: the sign-in by the e-mail link does not offer it again
        return
    try:
        linked = link_pending(profile, flow_of(next_url))
    except LinkRefused:
        flash(
            _(
                "The service account you signed in with already belongs to another business "
                "profile; it was not linked."
            ),
            "error",
        )
        return
    if linked is not None:
        flash(_("Account %(account)s is linked to your new profile.", account=linked.label), "success")


def init_app(app: Flask) -> None:
    """Let the account waiting to be linked follow its flow through a sign-in or a registration,
    and name it on their pages (the template global ``account_to_link``)."""
    carry_through_sign_in(app, carried_through_sign_in)
    carry_through_sign_in(app, carried_target)
    profile_registered.connect(_after_registration, sender=app, weak=False)
    app.add_template_global(account_to_link)
