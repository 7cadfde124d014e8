"""Real protocol peers on loopback: an SMSC (node-smpp's server) and an SMTP server (aiosmtpd);
and the app itself served on loopback (``live_server``) for browsers and foreign OpenID clients.

Neither is a mock: the product talks SMPP 3.4 and SMTP to them over TCP, and the tests read what
arrived. The SMSC needs ``npm ci`` in ``tests/peers/smsc`` (``make test`` runs it).
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import subprocess
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from werkzeug.serving import make_server

SMSC_DIR = Path(__file__).parent / "smsc"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 10, step: float = 0.05):
    """Return the first truthy value of ``predicate()`` within ``timeout`` seconds, or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


class Smsc:
    """The test SMSC process: start, stop, command it and read the PDUs it received."""

    def __init__(self, port: int, system_id: str = "idp", password: str = "secret"):
        self.port, self.system_id, self.password = port, system_id, password
        self.events: list[dict] = []
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if not (SMSC_DIR / "node_modules" / "smpp").exists():
            pytest.fail("the test SMSC is not installed: run `npm ci` in tests/peers/smsc")
        self.process = subprocess.Popen(
            ["node", str(SMSC_DIR / "smsc.js"), f"--port={self.port}",
             f"--system-id={self.system_id}", f"--password={self.password}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        wait_until(lambda: self.process.poll() is None and any(
            e["event"] == "listening" and e.get("_process") is self.process for e in self.events))

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            event = json.loads(line)
            event["_process"] = process
            self.events.append(event)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(5)
            self.process.stdin.close()
            self.process.stdout.close()

    def command(self, **command) -> None:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def received(self, kind: str = "submit_sm") -> list[dict]:
        return [e for e in self.events if e["event"] == kind]

    def settings(self) -> dict:
        """The IDP_* settings that point the product at this SMSC."""
        return {"IDP_SMS_TRANSPORT": "smpp", "IDP_SMPP_HOST": "127.0.0.1",
                "IDP_SMPP_PORT": self.port, "IDP_SMPP_SYSTEM_ID": self.system_id,
                "IDP_SMPP_PASSWORD": self.password}


class _Collector:
    def __init__(self, refuse: set[str]):
        self.messages: list[EmailMessage] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd server on loopback that keeps every mail it accepts; stoppable and restartable."""

    def __init__(self, port: int):
        self.port = port
        self.refuse: set[str] = set()
        self.collector = _Collector(self.refuse)
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages

    def start(self) -> None:
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def settings(self) -> dict:
        return {"IDP_MAIL_TRANSPORT": "smtp", "IDP_MAIL_SERVER": "127.0.0.1",
                "IDP_MAIL_PORT": self.port, "IDP_MAIL_SENDER": "Business ID <id@example.com>"}


def _serve(server, settings):
    """Start a peer, point the app's settings at it, and stop it after the test."""
    server.start()
    settings.update(server.settings())
    settings["IDP_DELIVERY_MAX_RETRY_SECONDS"] = 2
    yield server
    server.stop()


@pytest.fixture
def smsc(settings):
    """A running SMSC; the app under test sends through it (name it before ``app``)."""
    yield from _serve(Smsc(free_port()), settings)


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server; the app under test sends through it (name it before ``app``)."""
    yield from _serve(SmtpServer(free_port()), settings)


@pytest.fixture
def base_url(settings) -> str:
    """The loopback URL the app will be served at (also its IDP_ISSUER, for links and tokens)."""
    url = f"http://127.0.0.1:{free_port()}"
    settings["IDP_ISSUER"] = url
    return url


@pytest.fixture
def live_server(base_url, app):
    """Serve ``app`` on ``base_url`` in a thread for the duration of a test."""
    port = int(base_url.rsplit(":", 1)[1])
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join(5)
