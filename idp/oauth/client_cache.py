"""Clients as the machine endpoints read them: a snapshot per client, kept in the process.

A snapshot holds what authenticating a client and issuing its tokens needs, copied from its row.
It is good while the clients' generation is unchanged (``idp.generations``): a client deleted,
rotated or changed anywhere stops being served from memory within a fraction of a second. A change
that bypasses the ORM's events (a row removed by the database's own cascade, or by hand in SQL)
is still seen within ``MAX_AGE_SECONDS``: no snapshot is older than that.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from idp import generations
from idp.oauth.models import Client

MAX_CLIENTS = 10_000  # a process forgets them all past this many (client ids come from requests)
MAX_AGE_SECONDS = 5.0  # a snapshot is read again after this long, whatever the generation says


@dataclass(frozen=True)
class ClientSnapshot:
    """A client's row as it was when read: enough to authenticate it and issue its tokens."""

    client_id: str
    secret_hash: str | None
    grant_types: frozenset[str]
    scopes: tuple[str, ...]
    org_id: int | None  # a provisioning client bound to one organisation

    @property
    def public(self) -> bool:
        return self.secret_hash is None

    @property
    def client_metadata(self) -> dict:
        """What Authlib's userinfo endpoint asks of a client: it never wants signed userinfo."""
        return {}


class ClientCache:
    """Snapshots of the clients one app has served, dropped when the clients' generation moves."""

    def __init__(self, app) -> None:
        self.app = app
        self.generation = -1
        self.clients: dict[str, tuple[ClientSnapshot, float]] = {}  # with the time it was read
        self.lock = threading.Lock()

    def get(self, client_id: str) -> ClientSnapshot | None:
        generation = generations.current(self.app, "clients")
        if generation != self.generation:
            with self.lock:
                if generation != self.generation:
                    self.clients, self.generation = {}, generation
        now = time.monotonic()
        kept = self.clients.get(client_id)
        if kept is not None and now - kept[1] < MAX_AGE_SECONDS:
            return kept[0]
        found = self._read(client_id)
        with self.lock:
            if found is None:
                self.clients.pop(client_id, None)
            elif self.generation == generation:
                if len(self.clients) >= MAX_CLIENTS:
                    self.clients = {}
                self.clients[client_id] = (found, now)
        return found

    def _read(self, client_id: str) -> ClientSnapshot | None:
        table = Client.__table__
        query = select(
            table.c.client_id, table.c.secret_hash, table.c.grant_types_json, table.c.scope, table.c.org_id
        )
        with generations.generations(self.app).reads.connect() as connection:
            row = connection.execute(query.where(table.c.client_id == client_id)).first()
        if row is None:
            return None
        return ClientSnapshot(
            row.client_id,
            row.secret_hash,
            frozenset(json.loads(row.grant_types_json)),
            tuple(row.scope.split()),
            row.org_id,
        )


def client_cache(app) -> ClientCache:
    """The app's cache of client snapshots (``app`` may be ``current_app``: the cache keeps the app
    itself, for the fast path reads it outside any app context)."""
    real = app._get_current_object() if hasattr(app, "_get_current_object") else app
    cache = real.extensions.get("idp_client_cache")
    if cache is None:
        cache = real.extensions.setdefault("idp_client_cache", ClientCache(real))
    return cache
