"""What ending a browser session means for relying services.

When sessions end (``idp.sessions.signals.sessions_ended``), the grants that began in them lose
their online tokens, and every client that registered a back-channel logout URI is told with a
signed logout token. The notices are stored as messages on the ``http`` channel of the delivery
service, so a client that is down is retried by the worker with the same back-off as SMS and
e-mail, and nothing is lost across restarts. The token is signed when it is sent (it is valid for
two minutes), so a late retry still carries a fresh one.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

from flask import Flask, current_app

from idp.delivery.models import QUEUED, Message
from idp.delivery.transports import ReceiptHandler, TransportError, register_transport
from idp.extensions import db
from idp.oauth.models import Grant, revoke_grant
from idp.oauth.tokens import new_logout_token
from idp.security.crypto import encrypt
from idp.sessions.signals import sessions_ended
from idp.timeutil import utcnow

log = logging.getLogger("idp.oauth")

CHANNEL = "http"
KIND = "backchannel_logout"


def connect(app: Flask) -> None:
    """Listen for ended sessions of ``app`` and deliver the notices on the ``http`` channel."""
    sessions_ended.connect(_on_sessions_ended, sender=app, weak=False)
    register_transport(
        CHANNEL, lambda config: BackchannelTransport(timeout=config["IDP_BACKCHANNEL_TIMEOUT_SECONDS"])
    )


def _on_sessions_ended(app: Flask, session_ids: list[int]) -> None:
    grants = list(
        db.session.scalars(
            db.select(Grant).where(Grant.web_session_id.in_(session_ids), Grant.revoked_at.is_(None))
        )
    )
    for grant in grants:
        if not grant.offline:
            revoke_grant(grant.id, "logout")
    notify_clients(grants)


def revoke_all(profile_id: int, reason: str, keep_session: int | None = None) -> None:
    """Revoke every grant of a profile (offline ones too), but those of the browser session
    ``keep_session``, and tell the clients. Revoked before the sessions end, the grants leave the
    sessions' own listener nothing to revoke or tell again."""
    query = db.select(Grant).where(Grant.profile_id == profile_id, Grant.revoked_at.is_(None))
    if keep_session is not None:
        query = query.where(db.or_(Grant.web_session_id.is_(None), Grant.web_session_id != keep_session))
    grants = list(db.session.scalars(query))
    for grant in grants:
        revoke_grant(grant.id, reason)
    notify_clients(grants)


def notify_clients(grants: list[Grant]) -> None:
    """Queue one back-channel logout per client and session among ``grants``."""
    seen: set[tuple[str, str | None]] = set()
    now = utcnow()
    give_up = timedelta(minutes=current_app.config["IDP_DELIVERY_GIVE_UP_MINUTES"])
    for grant in grants:
        uri = grant.client.backchannel_logout_uri
        if not uri or (grant.client_id, grant.sid) in seen:
            continue
        seen.add((grant.client_id, grant.sid))
        notice = {"client_id": grant.client_id, "sub": grant.profile.subject, "sid": grant.sid}
        db.session.add(
            Message(
                channel=CHANNEL,
                kind=KIND,
                locale="",
                recipient=uri,
                profile_id=grant.profile_id,
                body_encrypted=encrypt(json.dumps(notice)),
                state=QUEUED,
                next_attempt_at=now,
                expires_at=now + give_up,
            )
        )


class BackchannelTransport:
    """POSTs a logout token to a client's back-channel logout URI (OpenID Back-Channel Logout 1.0)."""

    name = "backchannel"
    inline = False

    def __init__(self, timeout: float):
        self.timeout = timeout

    def deliver(self, message: Message, text: str, html: str | None) -> list[str]:
        notice = json.loads(text)
        token = new_logout_token(notice["client_id"], notice["sub"], notice.get("sid"))
        body = urllib.parse.urlencode({"logout_token": token}).encode()
        request = urllib.request.Request(  # noqa: S310 - the URI was checked to be http(s) at registration
            message.recipient,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-store"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read(1024)
        except urllib.error.HTTPError as exc:
            # 400 means the client could not log the session out: a retry would not change that.
            raise TransportError(
                f"client answered HTTP {exc.code}", temporary=exc.code >= 500 or exc.code == 429
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise TransportError(f"client unreachable: {exc}") from exc
        log.info("back-channel logout delivered to client %s", notice["client_id"])
        return []

    def poll(self, on_receipt: ReceiptHandler) -> None:
        """Nothing arrives later."""

    def close(self) -> None:
        """No connection is kept."""
