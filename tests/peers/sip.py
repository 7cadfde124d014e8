"""A small SIP digest client over UDP (standard library only): REGISTER and un-REGISTER.

It answers a 401 challenge with MD5 or SHA-256 (RFC 8760), whichever the challenge names, with
``qop=auth`` when offered. sipp does MD5 only, so the SHA-256 registrar is driven with this; it
also registers a "phone" whose Contact points at the port of a sipp UAS.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import socket
import time

_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def _challenge(header: str) -> dict[str, str]:
    """The parameters of a ``WWW-Authenticate: Digest ...`` value."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise ValueError(f"not a digest challenge: {header!r}")
    return {k.lower(): v1 if v1 else v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^\s,]+))', rest)}


def _headers(message: str) -> tuple[int, dict[str, list[str]]]:
    head = message.split("\r\n\r\n", 1)[0].split("\r\n")
    status = int(head[0].split()[1])
    headers: dict[str, list[str]] = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status, headers


def digest_response(
    challenge: dict[str, str], method: str, uri: str, user: str, password: str, nc: int = 1
) -> str:
    """The ``Authorization`` header value answering ``challenge``."""
    algorithm = challenge.get("algorithm", "MD5").upper()
    if algorithm not in _HASHES:
        raise ValueError(f"unsupported digest algorithm {algorithm}")

    def h(text: str) -> str:
        return _HASHES[algorithm](text.encode()).hexdigest()

    realm, nonce = challenge["realm"], challenge["nonce"]
    ha1 = h(f"{user}:{realm}:{password}")
    ha2 = h(f"{method}:{uri}")
    fields = [
        f'username="{user}"',
        f'realm="{realm}"',
        f'nonce="{nonce}"',
        f'uri="{uri}"',
        f"algorithm={algorithm}",
    ]
    qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    if "auth" in qops:
        cnonce = secrets.token_hex(8)
        response = h(f"{ha1}:{nonce}:{nc:08x}:{cnonce}:auth:{ha2}")
        fields += ["qop=auth", f"nc={nc:08x}", f'cnonce="{cnonce}"']
    else:
        response = h(f"{ha1}:{nonce}:{ha2}")
    fields.append(f'response="{response}"')
    if "opaque" in challenge:
        fields.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(fields)


def register(
    server: tuple[str, int],
    user: str,
    password: str,
    realm_domain: str,
    contact_port: int | None = None,
    expires: int = 300,
    timeout: float = 5.0,
) -> int:
    """REGISTER ``user`` at ``server`` and return the final status code (200, 403, ...).

    The Contact is ``sip:user@127.0.0.1:contact_port`` (the client's own port when None);
    ``expires=0`` removes that binding.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        local_port = sock.getsockname()[1]
        contact = f"<sip:{user}@127.0.0.1:{contact_port or local_port}>"
        uri = f"sip:{realm_domain}"
        call_id = f"{secrets.token_hex(8)}@127.0.0.1"
        tag = secrets.token_hex(4)
        authorization = None
        for cseq in (1, 2, 3):
            lines = [
                f"REGISTER {uri} SIP/2.0",
                f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK{secrets.token_hex(8)};rport",
                "Max-Forwards: 70",
                f"From: <sip:{user}@{realm_domain}>;tag={tag}",
                f"To: <sip:{user}@{realm_domain}>",
                f"Call-ID: {call_id}",
                f"CSeq: {cseq} REGISTER",
                f"Contact: {contact}",
                f"Expires: {expires}",
            ]
            if authorization:
                lines.append(f"Authorization: {authorization}")
            request = ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()
            status, headers = _transaction(sock, server, request, cseq, timeout)
            if status != 401 or cseq == 3:  # a second 401: a stale nonce, answered once more
                return status
            challenge = _challenge(headers["www-authenticate"][0])
            authorization = digest_response(challenge, "REGISTER", uri, user, password)
        return status


def unregister(
    server: tuple[str, int], user: str, password: str, realm_domain: str, contact_port: int
) -> int:
    """Remove the binding of ``user`` to ``contact_port``; return the final status code."""
    return register(server, user, password, realm_domain, contact_port=contact_port, expires=0)


def options(server: tuple[str, int], timeout: float = 5.0) -> int:
    """An OPTIONS keepalive to the server itself (no user in the URI); the final status code."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        local_port = sock.getsockname()[1]
        lines = [
            f"OPTIONS sip:{server[0]}:{server[1]} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK{secrets.token_hex(8)};rport",
            "Max-Forwards: 70",
            f"From: <sip:keepalive@127.0.0.1:{local_port}>;tag={secrets.token_hex(4)}",
            f"To: <sip:{server[0]}:{server[1]}>",
            f"Call-ID: {secrets.token_hex(8)}@127.0.0.1",
            "CSeq: 1 OPTIONS",
        ]
        request = ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()
        return _transaction(sock, server, request, 1, timeout)[0]


def _transaction(
    sock: socket.socket, server: tuple[str, int], request: bytes, cseq: int, timeout: float
) -> tuple[int, dict[str, list[str]]]:
    """Send ``request`` (retransmitted as RFC 3261 timer E would) until a final response."""
    deadline = time.monotonic() + timeout
    interval = 0.5
    sock.sendto(request, server)
    next_send = time.monotonic() + interval
    while True:
        now = time.monotonic()
        if now >= deadline:
            raise TimeoutError(f"no final response from {server} within {timeout} s")
        sock.settimeout(max(0.01, min(next_send, deadline) - now))
        try:
            data = sock.recv(65535)
        except TimeoutError:
            interval = min(interval * 2, 4)
            next_send = time.monotonic() + interval
            sock.sendto(request, server)
            continue
        status, headers = _headers(data.decode(errors="replace"))
        if status >= 200 and headers.get("cseq", [""])[0].startswith(f"{cseq} "):
            return status, headers
