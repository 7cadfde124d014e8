"""Kamailio with the shipped configuration, and sipp endpoints, on loopback for the tests.

``Kamailio`` runs ``deploy/kamailio/kamailio.cfg`` unchanged, only its defines set on the
command line (database URL, realm, UDP port, gateways, run directory), in the foreground with its
log captured (capped: a runaway process is killed, not allowed to fill the disk) and its control
sockets in a temporary directory; ``rpc`` speaks JSON-RPC over the jsonrpcs Unix datagram socket.

``Sipp`` runs one sipp scenario of ``tests/peers/sipp`` (a UAS in the background, or a caller) with
its messages traced to a file, which tells which endpoint received what and what final response
a caller got.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
SCENARIOS = Path(__file__).parent / "sipp"
KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
SIPP = shutil.which("sipp") or "/usr/bin/sipp"
LOG_CAP = 64 * 1024 * 1024  # bytes of log after which Kamailio is taken for a runaway and killed


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(step)


class RpcError(Exception):
    pass


class Kamailio:
    """One Kamailio process running the shipped configuration."""

    def __init__(
        self,
        dburl: str,
        realm: str = "business-id.test",
        gsm_port: int | None = None,
        pstn_port: int | None = None,
        sha256: bool = False,
        children: int = 4,
    ):
        self.dburl, self.realm, self.sha256 = dburl, realm, sha256
        self.gsm_port = gsm_port or free_udp_port()
        self.pstn_port = pstn_port or free_udp_port()
        self.children = children
        self.port = 0
        self.dir = Path(tempfile.mkdtemp(prefix="kam-"))  # short: Unix socket paths are limited
        self.process: subprocess.Popen | None = None
        self.log_lines: collections.deque[str] = collections.deque(maxlen=4000)
        self.log_bytes = 0
        self._reader: threading.Thread | None = None
        self._ids = itertools.count(1)

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def command(self) -> list[str]:
        defines = {
            "DBURL": f'"{self.dburl}"',
            "REALM": f'"{self.realm}"',
            "LISTEN": f"udp:127.0.0.1:{self.port}",
            "GSM_GATEWAY": f'"127.0.0.1:{self.gsm_port}"',
            "PSTN_GATEWAY": f'"127.0.0.1:{self.pstn_port}"',
            "RUN_DIR": f'"{self.dir}"',
        }
        args = [KAMAILIO, "-DD", "-E", "-f", str(CONFIG), "-w", str(self.dir), "-Y", str(self.dir)]
        args += ["-P", str(self.dir / "kamailio.pid"), "-m", "48", "-M", "8", "-n", str(self.children)]
        for name, value in defines.items():
            args += ["-A", f"{name}={value}"]
        if self.sha256:
            args += ["-A", "WITH_SHA256"]
        return args

    def start(self, timeout: float = 15) -> None:
        self.port = free_udp_port()
        self.log_lines.clear()
        self.process = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self._reader = threading.Thread(target=self._read_log, args=(self.process,), daemon=True)
        self._reader.start()

        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"Kamailio exited with {self.process.returncode}:\n{self.log()}")
            if not (self.dir / "kamailio_rpc.sock").exists():
                return False
            try:
                return self.rpc("core.uptime")
            except (OSError, RpcError):
                return False

        try:
            wait_for(ready, timeout, "Kamailio answering core.uptime")
            # Every SIP worker must have started (a child that failed to initialise is fatal).
            workers = wait_for(
                lambda: [p for p in self.rpc("core.psx") if "udp receiver" in p.get("DSC", "")],
                timeout,
                "the SIP workers",
            )
            if len(workers) < self.children:
                raise AssertionError(f"only {len(workers)} of {self.children} SIP workers:\n{self.log()}")
        except BaseException:
            self.stop()
            raise

    def _read_log(self, process: subprocess.Popen) -> None:
        for raw in process.stdout:
            self.log_bytes += len(raw)
            self.log_lines.append(raw.decode(errors="replace").rstrip("\n"))
            if self.log_bytes > LOG_CAP and process.poll() is None:
                self.log_lines.append(f"[test] log over {LOG_CAP} bytes: Kamailio killed")
                with contextlib.suppress(ProcessLookupError):
                    process.kill()

    def log(self, lines: int = 200) -> str:
        """The last ``lines`` lines of Kamailio's log (for failure messages)."""
        return "\n".join(list(self.log_lines)[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if self._reader is not None:
            self._reader.join(5)
        process.stdout.close()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def rpc(self, method: str, *params, timeout: float = 5):
        """Call ``method`` over the JSON-RPC datagram socket; return its result or raise RpcError."""
        request_id = next(self._ids)
        request = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": request_id}
        reply_path = self.dir / f"rpc-{os.getpid()}-{threading.get_ident()}-{request_id}.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(reply_path))
            try:
                sock.settimeout(timeout)
                sock.sendto(json.dumps(request).encode(), str(self.dir / "kamailio_rpc.sock"))
                reply = json.loads(sock.recv(1 << 20))
            finally:
                reply_path.unlink(missing_ok=True)
        if "error" in reply:
            raise RpcError(f"{method}{params}: {reply['error']}")
        return reply.get("result")

    def bindings(self, number: str) -> list[str]:
        """The registered Contact URIs of ``number`` (ul.lookup), [] when none."""
        try:
            result = self.rpc("ul.lookup", "location", number)
        except RpcError:  # "AOR not found"
            return []
        return [c["Contact"]["Address"] for c in result.get("Contacts", [])] if result else []


_RECEIVED = re.compile(
    r"^-+ [^\n]*\n(?:UDP|TCP) message received \[\d+\] bytes :\n\n(.*?)(?=^-{20,} |\Z)", re.M | re.S
)


class Sipp:
    """One sipp process running a scenario of tests/peers/sipp on a loopback port."""

    def __init__(
        self, scenario: str, port: int | None = None, remote: tuple[str, int] | None = None, **options
    ):
        self.scenario = SCENARIOS / f"{scenario}.xml"
        self.port = port or free_udp_port()
        self.remote = remote
        self.options = options
        self.dir = Path(tempfile.mkdtemp(prefix="sipp-"))
        self.trace = self.dir / "messages.log"
        self.process: subprocess.Popen | None = None

    def start(
        self,
        calls: int = 1,
        service: str | None = None,
        hold_ms: int = 0,
        keys: dict | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float = 30,
    ) -> Sipp:
        args = [SIPP, "-sf", str(self.scenario), "-i", "127.0.0.1", "-p", str(self.port), "-t", "u1"]
        args += [
            "-m",
            str(calls),
            "-l",
            str(calls),
            "-nostdin",
            "-trace_msg",
            "-message_file",
            str(self.trace),
        ]
        args += ["-timeout", f"{int(timeout)}s", "-timeout_error", "-recv_timeout", str(int(timeout * 1000))]
        args += ["-default_behaviors", "all,-bye", "-d", str(hold_ms), "-max_retrans", "3"]
        if service:
            args += ["-s", service]
        if auth:
            args += ["-au", auth[0], "-ap", auth[1]]
        for name, value in (keys or {}).items():
            args += ["-key", name, str(value)]
        if self.remote:
            args.append(f"{self.remote[0]}:{self.remote[1]}")
        self.process = subprocess.Popen(
            args, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        return self

    def wait(self, timeout: float = 40) -> int:
        """Wait for sipp to finish; its exit code (0: every call went as the scenario says)."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"sipp {self.scenario.name} still running after {timeout} s") from None
        self._close_pipes()
        return self.process.returncode

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGUSR1)  # sipp's own graceful quit
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._close_pipes()

    def _close_pipes(self) -> None:
        if self.process and self.process.stderr and not self.process.stderr.closed:
            self.errors = self.process.stderr.read().decode(errors="replace")
            self.process.stderr.close()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def received(self) -> list[str]:
        """Every message received so far, in order, as text."""
        try:
            text = self.trace.read_text(errors="replace")
        except FileNotFoundError:
            return []
        return [m.strip() for m in _RECEIVED.findall(text)]

    def first_lines(self) -> list[str]:
        return [m.splitlines()[0] for m in self.received()]

    def invites(self) -> list[str]:
        """The request URIs of the INVITEs received."""
        return [line.split()[1] for line in self.first_lines() if line.startswith("INVITE ")]

    def final_status(self) -> int | None:
        """The last final response received to an INVITE (a caller's outcome), None if none."""
        status = None
        for message in self.received():
            lines = message.splitlines()
            if not lines[0].startswith("SIP/2.0 "):
                continue
            code = int(lines[0].split()[1])
            cseq = next((h for h in lines if h.lower().startswith("cseq:")), "")
            if code >= 200 and cseq.rstrip().endswith("INVITE"):
                status = code
        return status

    def __enter__(self) -> Sipp:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
