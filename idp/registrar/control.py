"""Kamailio's JSON-RPC over its datagram socket (the ``jsonrpcs`` module's ``dgram_socket``).

Used to drop an account's registrations at once (``ul.rm``) and to read them (``ul.lookup``).
Each call binds a reply socket of its own in a private directory, sends one request and waits
for its answer, at most ``TIMEOUT`` seconds.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from typing import Any

from flask import current_app

TIMEOUT = 2.0
LOCATION = "location"  # the usrloc table the configuration saves registrations in


class ControlError(Exception):
    """The registrar's control socket could not be reached, or refused the call."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


def configured() -> bool:
    return bool(current_app.config["IDP_REGISTRAR_RPC"])


def call(method: str, *params: Any, address: str | None = None) -> Any:
    """Call ``method`` and return its ``result``; raise ``ControlError``."""
    address = address or current_app.config["IDP_REGISTRAR_RPC"]
    if not address.startswith("unix:"):
        raise ControlError(f"unsupported registrar control address {address!r} (expected unix:/path)")
    request = json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}).encode()
    with tempfile.TemporaryDirectory(prefix="idp-rpc-") as private:
        reply_path = os.path.join(private, "reply.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(reply_path)
            # Kamailio, running as its own user, must reach the reply socket: the directory's
            # name is random and unlistable, and the socket only ever receives this one answer.
            os.chmod(private, 0o711)  # noqa: S103
            os.chmod(reply_path, 0o666)  # noqa: S103
            sock.settimeout(TIMEOUT)
            try:
                sock.sendto(request, address[len("unix:") :])
                answer = json.loads(sock.recv(65536))
            except (OSError, ValueError) as exc:
                raise ControlError(f"registrar control socket: {type(exc).__name__}: {exc}") from exc
    error = answer.get("error")
    if error:
        raise ControlError(str(error.get("message", error)), error.get("code"))
    return answer.get("result")


def _not_found(exc: ControlError) -> bool:
    return exc.code == 404 or "not found" in str(exc).lower()


def drop_registrations(login: str) -> None:
    """Drop every registration of ``login`` (nothing to drop is no failure)."""
    try:
        call("ul.rm", LOCATION, login)
    except ControlError as exc:
        if not _not_found(exc):
            raise


def registrations(login: str) -> list[str]:
    """The current registrations of ``login``: each contact's address and seconds left."""
    try:
        result = call("ul.lookup", LOCATION, login)
    except ControlError as exc:
        if _not_found(exc):
            return []
        raise
    contacts = [entry.get("Contact", {}) for entry in (result or {}).get("Contacts", [])]
    return [f"{contact.get('Address')} (expires in {contact.get('Expires')} s)" for contact in contacts]
