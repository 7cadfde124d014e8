"""Real protocol peers on loopback: an SMSC (node-smpp's server) and an SMTP server (aiosmtpd);
and the app itself served on loopback (``live_server``) for browsers and foreign OpenID clients.

Neither is a mock: the product talks SMPP 3.4 and SMTP to them over TCP, and the tests read what
arrived. The SMSC needs ``npm ci`` in ``tests/peers/smsc`` (``make test`` runs it).

Test processes run side by side (``pytest -n``), so a port a test has chosen stays held by it: the
live server listens from the moment its URL is known, and a stopped peer keeps its port reserved
until it starts again. Another process asking the system for a free port never gets one of them.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import subprocess
import threading
import time
from contextlib import suppress
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from werkzeug.serving import ThreadedWSGIServer

SMSC_DIR = Path(__file__).parent / "smsc"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PortHold:
    """A loopback port held by a bound socket that does not listen: connecting to it is refused,
    as to a stopped server, and the system gives the port to nobody else until ``release``."""

    def __init__(self, port: int = 0):
        self.socket: socket.socket | None = socket.socket()
        # The peer that used the port may leave connections in TIME_WAIT on it.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind(("127.0.0.1", port))
        except OSError:
            self.socket.close()
            raise
        self.port = self.socket.getsockname()[1]

    def release(self) -> None:
        """Free the port for the peer about to listen on it."""
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    @classmethod
    def again(cls, port: int) -> PortHold | None:
        """Hold ``port`` again after its peer stopped (None if something else took it meanwhile)."""
        try:
            return cls(port)
        except OSError:
            return None


def wait_until(predicate, timeout: float = 10, step: float = 0.05):
    """Return the first truthy value of ``predicate()`` within ``timeout`` seconds, or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


class Peer:
    """A protocol peer on a loopback port that stays reserved for it while it is stopped."""

    def __init__(self):
        self.hold: PortHold | None = PortHold()
        self.port = self.hold.port

    def stop(self) -> None:
        raise NotImplementedError

    def _take_port(self) -> None:
        """Free the held port just before the peer listens on it."""
        if self.hold is not None:
            self.hold.release()
            self.hold = None

    def _keep_port(self) -> None:
        """Hold the port again once the peer stopped, so no other test takes it meanwhile."""
        if self.hold is None:
            self.hold = PortHold.again(self.port)

    def close(self) -> None:
        """Stop for good at the end of the test, giving the port back."""
        self.stop()
        if self.hold is not None:
            self.hold.release()


class Smsc(Peer):
    """The test SMSC process: start, stop, command it and read the PDUs it received."""

    def __init__(self, system_id: str = "idp", password: str = "secret"):
        super().__init__()
        self.system_id, self.password = system_id, password
        self.events: list[dict] = []
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if not (SMSC_DIR / "node_modules" / "smpp").exists():
            pytest.fail("the test SMSC is not installed: run `npm ci` in tests/peers/smsc")
        self._take_port()
        self.process = subprocess.Popen(
            [
                "node",
                str(SMSC_DIR / "smsc.js"),
                f"--port={self.port}",
                f"--system-id={self.system_id}",
                f"--password={self.password}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        wait_until(
            lambda: (
                self.process.poll() is None
                and any(e["event"] == "listening" and e.get("_process") is self.process for e in self.events)
            )
        )

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
        self._keep_port()

    def command(self, **command) -> None:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def received(self, kind: str = "submit_sm") -> list[dict]:
        return [e for e in self.events if e["event"] == kind]

    def settings(self) -> dict:
        """The IDP_* settings that point the product at this SMSC."""
        return {
            "IDP_SMS_TRANSPORT": "smpp",
            "IDP_SMPP_HOST": "127.0.0.1",
            "IDP_SMPP_PORT": self.port,
            "IDP_SMPP_SYSTEM_ID": self.system_id,
            "IDP_SMPP_PASSWORD": self.password,
        }


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


class SmtpServer(Peer):
    """An aiosmtpd server on loopback that keeps every mail it accepts; stoppable and restartable."""

    def __init__(self):
        super().__init__()
        self.refuse: set[str] = set()
        self.collector = _Collector(self.refuse)
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages

    def start(self) -> None:
        self._take_port()
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        self._keep_port()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def settings(self) -> dict:
        return {
            "IDP_MAIL_TRANSPORT": "smtp",
            "IDP_MAIL_SERVER": "127.0.0.1",
            "IDP_MAIL_PORT": self.port,
            "IDP_MAIL_SENDER": "Business ID <id@example.com>",
        }


class RedisServer(Peer):
    """A redis-server of the test's own on a loopback port, stoppable and restartable."""

    def __init__(self):
        super().__init__()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._take_port()
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def keys(self) -> int:
        """How many keys the server holds (the shared limits have reached it)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"DBSIZE\r\n")
            return int(sock.recv(32).decode().strip().lstrip(":"))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(5)
        self._keep_port()


class TcpProxy(Peer):
    """Forwards a loopback port to another one, so a test can take a server away and bring it
    back: ``stop`` cuts every connection and refuses new ones, as a server that went down."""

    def __init__(self, target_port: int):
        super().__init__()
        self.target_port = target_port
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        self._take_port()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                downstream, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                downstream.close()
                continue
            with self.lock:
                self.connections += [downstream, upstream]
            for source, target in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.listener is not None:
            with suppress(OSError):  # wakes the thread blocked in accept(), which close would not
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            connections, self.connections = self.connections, []
        for sock in connections:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._keep_port()


@pytest.fixture
def redis_server():
    """A Redis of the test's own, which the test may stop and start under a running app."""
    server = RedisServer()
    server.start()
    yield server
    server.close()


def _serve(server, settings):
    """Start a peer, point the app's settings at it, and stop it after the test."""
    server.start()
    settings.update(server.settings())
    settings["IDP_DELIVERY_MAX_RETRY_SECONDS"] = 2
    yield server
    server.close()


@pytest.fixture
def smsc(settings):
    """A running SMSC; the app under test sends through it (name it before ``app``)."""
    yield from _serve(Smsc(), settings)


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server; the app under test sends through it (name it before ``app``)."""
    yield from _serve(SmtpServer(), settings)


class _Server(ThreadedWSGIServer):
    """Werkzeug's threaded server, knowing the connections its request threads serve."""

    def __init__(self, *args, **kwargs):
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request_thread(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.discard(request)

    def end_reading(self) -> None:
        """Make every open connection read end-of-file: a request being served still gets its
        answer, and a thread waiting on a connection the browser opened ahead (a preconnect,
        idle until a page uses it) ends instead of waiting for a request."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with suppress(OSError):  # the client may have gone already
                connection.shutdown(socket.SHUT_RD)


class LiveServer:
    """A WSGI app served on a loopback port in threads.

    The port is bound from the start, so its URL can go into the app's settings before the app
    exists and no other process can take the port meanwhile (connections are refused until
    ``serve``). ``stop`` returns only when every request thread has ended: nothing may use an app
    after its test has torn it down (a request still running then would open database
    connections nobody closes).
    """

    STOP_SECONDS = 30

    def __init__(self):
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: _Server | None = None
        self.thread: threading.Thread | None = None

    def serve(self, app) -> None:
        self.socket.listen(128)
        self.server = _Server("127.0.0.1", self.port, app, fd=self.socket.fileno())
        self.thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name=f"live-server-{self.port}"
        )
        self.thread.start()

    def stop(self) -> None:
        try:
            if self.server is not None:
                self.server.shutdown()  # no new connections
                self.server.end_reading()
                # Werkzeug's serve_forever closes the server, which joins the request threads.
                self.thread.join(self.STOP_SECONDS)
                if self.thread.is_alive():
                    pytest.fail(
                        f"{self.url} still served a request {self.STOP_SECONDS} s after the test ended"
                    )
        finally:
            self.socket.close()


@pytest.fixture
def live_address():
    """The held loopback port the app will be served at (see ``LiveServer``)."""
    server = LiveServer()
    yield server
    server.socket.close()


@pytest.fixture
def base_url(settings, live_address) -> str:
    """The loopback URL the app will be served at (also its IDP_ISSUER, for links and tokens)."""
    settings["IDP_ISSUER"] = live_address.url
    return live_address.url


@pytest.fixture
def live_server(base_url, live_address, app):
    """Serve ``app`` on ``base_url`` in threads for the duration of a test."""
    live_address.serve(app)
    yield base_url
    live_address.stop()
