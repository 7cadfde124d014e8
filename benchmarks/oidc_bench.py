"""Throughput and latency of Business ID's machine endpoints beside the peer oidc-provider.

Not a test: it starts servers, loads them with wrk and prints a table. Usage (see benchmarks/README.md):

    .venv/bin/python benchmarks/oidc_bench.py [--seconds 15] [--connections 16] [--alg ES256]
                                              [--server granian|gunicorn] [--database sqlite|postgresql]
                                              [--compare-databases] [--instances 2] [--no-peer]

Steps: a fresh database (SQLite file, or a PostgreSQL database of its own), ``idp db upgrade``, the
signing keys, one client and a few profiles; the server (Granian or gunicorn) pinned to one core; a
user access token through the real sign-in and code flow over HTTP. The peer (node oidc-provider in
../shared/peers/oidc-provider, started and stopped with its own scripts) is started pinned to the
same core. Then wrk, pinned to the other core, times each endpoint on Business ID and right after
on the peer, with the same wrk script: POST /token (client_credentials), GET /userinfo, POST
/introspect, the refresh grant with rotation (a pool of refresh token families in the wrk script),
the JWKS, discovery and password sign-in (beside the Argon2id limit of the same core). The
signed-in code flow is timed from Python, one flow after the other. The figures are printed as a
table beside the targets of issue 18 and written as JSON to test-artifacts/bench/.
"""

# ruff: noqa: S603, S607 - this script exists to start local programs
from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

REPO = Path(__file__).resolve().parent.parent
WRK_SCRIPT = REPO / "benchmarks" / "wrk" / "request.lua"
ARTIFACTS = REPO / "test-artifacts" / "bench"
BIN = Path(sys.executable).parent
PEER_DIR = (REPO / ".." / "shared" / "peers" / "oidc-provider").resolve()
PEER_URL = "http://127.0.0.1:3000"
PEER_CLIENT = ("bench", "bench-secret-0123456789abcdef")  # the peer's own fixed test client
PEER_SCOPE = "api:read"
OUR_SCOPE = "pbx.read"  # a non-identity scope, as client_credentials requires
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never contacted: the code is read from the redirect
PEER_REDIRECT_URI = "http://127.0.0.1:8080/cb"  # the peer client's own
PROFILE_PHONE = "+380501112233"
PROFILE_EMAIL = "bench@example.com"
PROFILE_PASSWORD = "Bench" + secrets.token_hex(6)  # fresh each run; the database is thrown away
# Sign-in profiles beside the first one: each attempt counts on its profile's throttle until it
# succeeds, so requests in flight at once must name different profiles.
SIGNIN_PROFILES = 32
FAMILIES = 64  # refresh token families (code flows) behind each wrk run of the refresh grant
CODE_FLOW_WARMUP = 20
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TIMEOUT = 30
FAST_SIGNIN_LIMIT = "1000000/minute"  # one load generator is one client address (IDP_SIGNIN_LIMIT_IP)

ENDPOINTS = ("token", "userinfo", "introspect", "refresh", "jwks", "discovery", "codeflow", "signin")
LABELS = {
    "token": "token (client_credentials)",
    "userinfo": "userinfo (Bearer)",
    "introspect": "introspect (access token)",
    "refresh": "refresh (rotation)",
    "jwks": "JWKS",
    "discovery": "discovery",
    "codeflow": "code flow (sequential)",
    "signin": "password sign-in",
}
NOTES = {
    "introspect": "the peer introspects its refresh token: its JWT access tokens cannot be introspected",
    "refresh": "the peer does not rotate a confidential client's refresh token (its default)",
    "codeflow": "req/s here is flows per second, one after the other; the peer's session and grant are kept",
    "signin": "ratio: sign-ins per second / Argon2id hashes per second of the same core (same run)",
}


def _at_least(share: float) -> Callable[[dict, dict | None], bool | None]:
    return lambda ours, peer: None if peer is None else ours["rps"] >= share * peer["rps"]


def _rps(floor: float) -> Callable[[dict, dict | None], bool | None]:
    return lambda ours, peer: ours["rps"] >= floor


# Issue 18's targets per core: what each row is held to (ours, the peer's figures or None).
TARGETS: dict[str, tuple[str, Callable[[dict, dict | None], bool | None]]] = {
    "token": ("2x peer", _at_least(2)),
    "userinfo": (">= 2000/s", _rps(2000)),
    "introspect": (">= 2000/s", _rps(2000)),
    "refresh": (">= 1000/s", _rps(1000)),
    "jwks": (">= peer", _at_least(1)),
    "discovery": (">= peer", _at_least(1)),
    "codeflow": ("p99 < 20 ms", lambda ours, peer: ours["latency_ms"]["p99"] < 20),
    "signin": (">= 0.8 limit", lambda ours, peer: ours["rps"] >= 0.8 * ours["hash_limit"]["hashes_per_s"]),
}
DATABASE_TARGET = 0.8  # on PostgreSQL, no endpoint below 0.8x its SQLite figure


# --- small utilities ------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def jwt_header(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def port_free(port: int) -> bool:
    try:
        requests.get(f"http://127.0.0.1:{port}/", timeout=1)
    except requests.ConnectionError:
        return True
    except requests.RequestException:
        return False
    return False


def cpu_ticks(root_pid: int) -> int:
    """User + system clock ticks of a process and its direct children (gunicorn's workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == root_pid or ppid == root_pid:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def rss_kb(root_pid: int) -> int:
    """Resident memory of a process and its direct children, in KiB."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", text, re.M)
        rss = re.search(r"^VmRSS:\s+(\d+)", text, re.M)
        if rss and (int(status.parent.name) == root_pid or (ppid and int(ppid.group(1)) == root_pid)):
            total += int(rss.group(1))
    return total


def database_ticks(database: str) -> dict[int, int]:
    """Clock ticks of each PostgreSQL backend serving ``database`` (its title names the database)."""
    ticks = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not title.startswith("postgres: ") or f" {database} " not in title:
                continue
            fields = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[int(cmdline.parent.name)] = int(fields[11]) + int(fields[12])
    return ticks


def core_busy() -> dict[str, tuple[int, int, int]]:
    """(busy, total, stolen) jiffies of each CPU core from /proc/stat (stolen: by the hypervisor)."""
    cores = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if re.fullmatch(r"cpu\d+", name):
            numbers = [int(v) for v in values[:8]]
            idle = numbers[3] + numbers[4]
            cores[name] = (sum(numbers) - idle, sum(numbers), numbers[7])
    return cores


def wait_until_quiet(limit: float, threshold: float = 0.15) -> float:
    """Wait (up to ``limit`` s) for a second in which all cores together are busy < ``threshold``.

    Returns the busy fraction (in cores) of the last second sampled, so a noisy start is recorded.
    """
    deadline = time.monotonic() + limit
    while True:
        before = core_busy()
        time.sleep(1)
        after = core_busy()
        busy = sum((after[n][0] - before[n][0]) / max(1, after[n][1] - before[n][1]) for n in after)
        if busy < threshold or time.monotonic() >= deadline:
            if busy >= threshold:
                say(f"  warning: the machine is still busy ({busy:.2f} cores) - figures will be low")
            return round(busy, 2)


# --- wrk ------------------------------------------------------------------------------------


@dataclass
class Load:
    """What wrk sends to one endpoint: the URLs (one wrk process each, run at once) and the request.

    ``pool`` makes the entries for one wrk run of ``seconds`` (refresh tokens, sign-in sessions), or
    is None; with several URLs each wrk process gets its share."""

    urls: list[str]
    method: str = "GET"
    body: str = ""
    authorization: str = ""
    pool: Callable[[int], tuple[str, list[str]]] | None = None
    expect: int = 200


def wrk_command(args, url: str, seconds: int, connections: int, pinned: bool) -> list[str]:
    command = ["taskset", "-c", args.wrk_core] if pinned else []
    return [
        *command,
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        url,
    ]


def wrk_once(load: Load, args, seconds: int, at_start: Callable[[], None] = lambda: None) -> list[dict]:
    """One wrk process per URL, all at once; the figures of each. ``at_start`` is called once the
    pool is made, just before wrk starts (the CPU figures' window begins there)."""
    env = {
        **os.environ,
        "BENCH_METHOD": load.method,
        "BENCH_BODY": load.body,
        "BENCH_AUTHORIZATION": load.authorization,
        "BENCH_EXPECT": str(load.expect),
    }
    kind, entries = load.pool(seconds) if load.pool else ("", [])
    pinned = len(load.urls) == 1 and not args.instances
    connections = max(1, args.connections // len(load.urls))
    environments = []
    for index in range(len(load.urls)):
        own = dict(env)
        if load.pool:
            path = ARTIFACTS / f"pool_{index}.txt"
            path.write_text("\n".join(entries[index :: len(load.urls)]) + "\n")
            own.update(BENCH_POOL=str(path), BENCH_POOL_KIND=kind)
        environments.append(own)
    at_start()
    processes = []
    for url, own in zip(load.urls, environments, strict=True):
        command = wrk_command(args, url, seconds, connections, pinned)
        processes.append(subprocess.Popen(command, env=own, stdout=subprocess.PIPE, text=True))
    figures = []
    for url, process in zip(load.urls, processes, strict=True):
        output, _ = process.communicate()
        line = next((ln for ln in output.splitlines() if ln.startswith("BENCH_JSON ")), None)
        if process.returncode or line is None:
            raise RuntimeError(f"wrk printed no figures for {url}:\n{output}")
        figures.append(json.loads(line.removeprefix("BENCH_JSON ")))
    for path in ARTIFACTS.glob("pool_*.txt"):
        path.unlink()  # spent tokens and sessions
    return figures


def combined(parts: list[dict]) -> dict:
    """The figures of wrk processes run at once: req/s and counts added, the worst percentiles."""
    if len(parts) == 1:
        return parts[0]
    return {
        "requests": sum(p["requests"] for p in parts),
        "duration_s": max(p["duration_s"] for p in parts),
        "rps": round(sum(p["rps"] for p in parts), 1),
        "bytes": sum(p["bytes"] for p in parts),
        "latency_ms": {k: max(p["latency_ms"][k] for p in parts) for k in parts[0]["latency_ms"]},
        "errors": {k: sum(p["errors"][k] for p in parts) for k in parts[0]["errors"]},
        "unexpected_status": sum(p["unexpected_status"] for p in parts),
        "unexpected_statuses": " ".join(p["unexpected_statuses"] for p in parts).strip(),
        "pool_exhausted": any(p["pool_exhausted"] for p in parts),
        "parts": parts,
    }


def run_wrk(
    load: Load,
    args,
    *,
    server_pids: list[int] | None = None,
    database_load: bool = False,
) -> dict:
    """Warm up, then time ``load`` with wrk (pinned to the load core when alone); return the figures."""
    busy_before = wait_until_quiet(args.quiet_wait) if args.quiet_wait else None
    if args.warmup:
        wrk_once(load, args, args.warmup)
    hz = os.sysconf("SC_CLK_TCK")
    database = args.pg_database if args.database == "postgresql" and database_load else None
    pids = server_pids or []
    start: dict = {}

    def started() -> None:  # the pool is made (a sign-in's takes seconds of requests): wrk starts
        start.update(db0=database_ticks(database) if database else {}, cores0=core_busy())
        start.update(ticks0=sum(map(cpu_ticks, pids)), t0=time.monotonic())

    figures = combined(wrk_once(load, args, args.seconds, started))
    ticks1, cores1, t1 = sum(map(cpu_ticks, pids)), core_busy(), time.monotonic()
    db0, cores0, ticks0, t0 = start["db0"], start["cores0"], start["ticks0"], start["t0"]
    db1 = database_ticks(database) if database else {}
    if pids:
        figures["server_rss_mb"] = round(sum(map(rss_kb, pids)) / 1024, 1)
        figures["server_cpu_cores"] = round((ticks1 - ticks0) / hz / (t1 - t0), 2)
    figures["busy_before_cores"] = busy_before
    if database:
        # PostgreSQL is not pinned: its backends run on either core, part of the server's work.
        figures["database_cpu_cores"] = round(
            sum(db1[pid] - db0.get(pid, 0) for pid in db1) / hz / (t1 - t0), 2
        )
    figures["core_busy"] = {
        name: round((cores1[name][0] - cores0[name][0]) / max(1, cores1[name][1] - cores0[name][1]), 2)
        for name in cores1
    }
    # A virtual machine's host may run other guests on the same physical core: "steal" time.
    figures["core_steal"] = {
        name: round((cores1[name][2] - cores0[name][2]) / max(1, cores1[name][1] - cores0[name][1]), 2)
        for name in cores1
    }
    if max(figures["core_steal"].values()) > 0.05:
        say(f"  warning: the hypervisor took CPU time from this machine ({figures['core_steal']})")
    if pids and args.server_cores.isdigit() and args.instances == 1:
        # CPU time spent on the servers' core by anything but the timed server: other programs.
        other = (
            figures["core_busy"][f"cpu{args.server_cores}"]
            - figures["server_cpu_cores"]
            - figures.get("database_cpu_cores", 0)
        )
        figures["other_load_on_server_core"] = round(max(0.0, other), 2)
        if other > 0.15:
            say(f"  warning: {other:.2f} of core {args.server_cores} went to other programs")
    warn_failures(figures)
    return figures


def warn_failures(figures: dict) -> None:
    failures = sum(figures["errors"].values())
    if failures:
        say(f"  warning: {failures} failed requests ({figures['errors']})")
    if figures.get("unexpected_status"):
        say(
            f"  warning: {figures['unexpected_status']} answers not the expected status "
            f"(first: {figures['unexpected_statuses']})"
        )
    if figures.get("pool_exhausted"):
        say("  warning: the pool ran out before the end (the run stopped early)")


def show(name: str, figures: dict) -> None:
    lat = figures["latency_ms"]
    say(
        f"  {name:10} {figures['rps']:9.1f} req/s  p50 {lat['p50']:.2f} ms  p99 {lat['p99']:.2f} ms"
        + (
            f"  server CPU {figures['server_cpu_cores']} cores, RSS {figures['server_rss_mb']} MB"
            if "server_cpu_cores" in figures
            else ""
        )
        + (f" + PostgreSQL {figures['database_cpu_cores']}" if "database_cpu_cores" in figures else "")
    )


# --- Business ID ----------------------------------------------------------------------------


def idp_env(args, data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
    env.update(
        {
            "IDP_ENV": "development",
            "IDP_ISSUER": f"http://127.0.0.1:{args.port}",
            "IDP_SIGNING_ALG": args.alg,
            "IDP_ACCESS_TOKEN_MINUTES": "60",
            "IDP_SECRET_KEY": secrets.token_urlsafe(32),
            "IDP_LOG_LEVEL": "WARNING",
            "IDP_SIGNIN_LIMIT_IP": FAST_SIGNIN_LIMIT,
            "IDP_DATA_DIR": str(data_dir),
            "IDP_DATABASE_URL": "",
        }
    )
    if args.database == "postgresql":
        env["IDP_DATABASE_URL"] = pg_url(args.pg_url, args.pg_database)
    return env


def pg_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/" + database).geturl()


def fresh_postgres_database(args) -> None:
    """Drop and create the benchmark's own database (never the tests' database)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{args.pg_database}" WITH (FORCE)'))
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{args.pg_database}"'))
    engine.dispose()


def drop_postgres_database(args) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{args.pg_database}" WITH (FORCE)'))
    engine.dispose()


def idp(env: dict[str, str], *arguments: str) -> str:
    done = subprocess.run([str(BIN / "idp"), *arguments], env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"idp {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def prepare_database(args, env: dict[str, str]) -> dict:
    """Migrate, create the signing keys, the client and the profile; return the client."""
    idp(env, "db", "upgrade")
    idp(env, "keys", "ensure")
    client = json.loads(
        idp(
            env,
            "clients",
            "create",
            "--name",
            "bench",
            "--first-party",
            "--grant",
            "client_credentials",
            "--grant",
            "authorization_code",
            "--grant",
            "refresh_token",
            "--redirect-uri",
            REDIRECT_URI,
            "--scope",
            f"openid profile email phone {OUR_SCOPE}",
            "--json",
        )
    )
    idp(
        env,
        "profiles",
        "create",
        "--phone",
        PROFILE_PHONE,
        "--email",
        PROFILE_EMAIL,
        "--first-name",
        "Bench",
        "--last-name",
        "User",
        "--password",
        PROFILE_PASSWORD,
        "--locale",
        "en",
    )
    seed_signin_profiles(env)
    return client


SEED_PROFILES = """
import sys
from idp import create_app
from idp.profiles.services import create_profile
with create_app().app_context():
    for phone in sys.argv[2:]:
        create_profile(phone, phone[1:] + "@bench.example.com", "Bench", "User", sys.argv[1], "en",
                       email_verified=True)
"""


def signin_phones() -> list[str]:
    """The phones of the sign-in profiles (not the first profile, whose session the flows use)."""
    return [f"+3805012{n:05d}" for n in range(SIGNIN_PROFILES)]


def seed_signin_profiles(env: dict[str, str]) -> None:
    """More profiles with the same password, in one process (``idp profiles create`` starts the app
    once per profile)."""
    command = [str(BIN / "python"), "-c", SEED_PROFILES, PROFILE_PASSWORD, *signin_phones()]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"seeding the sign-in profiles failed:\n{done.stdout}{done.stderr}")


def gunicorn_command(args, port: int) -> list[str]:
    command = [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--log-level",
        "warning",
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    return [*command, "idp.wsgi:app"]


def granian_command(args, port: int) -> list[str]:
    return [
        str(BIN / "granian"),
        "--interface",
        "wsgi",
        "--workers",
        str(args.workers),
        "--blocking-threads",
        str(args.blocking_threads),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "idp.wsgi:app",
    ]


def scheduled(args, command: list[str]) -> list[str]:
    """``command`` under the servers' scheduling policy (``--sched``): both servers and the hashing
    limit alike. Under SCHED_BATCH a thread that wakes (the server's network thread, when a request
    or an answer is ready) waits for the running one to block or use its slice, instead of
    preempting it at once."""
    return ["chrt", "--batch", "0", *command] if args.sched == "batch" else command


def start_server(args, env: dict[str, str], port: int, cores: str) -> subprocess.Popen:
    """Start ``args.server`` on ``port`` pinned to ``cores``; return once it answers."""
    command = granian_command(args, port) if args.server == "granian" else gunicorn_command(args, port)
    log = (ARTIFACTS / f"{args.server}_{port}.log").open("w")
    process = subprocess.Popen(
        scheduled(args, ["taskset", "-c", cores, *command]),
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/.well-known/openid-configuration")
    except RuntimeError:
        stop_server(process)
        raise
    return process


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def signin_form(browser: requests.Session, base: str) -> str:
    """GET /signin in ``browser``: its CSRF token (the session cookie stays in the browser)."""
    form = browser.get(base + "/signin", timeout=TIMEOUT)
    csrf = CSRF.search(form.text)
    if not csrf:
        raise RuntimeError(f"no sign-in form ({form.status_code})")
    return csrf.group(1)


def signed_in_browser(base: str) -> requests.Session:
    """A browser session signed in with the first profile's password."""
    browser = requests.Session()
    csrf = signin_form(browser, base)
    signed_in = browser.post(
        base + "/signin",
        timeout=TIMEOUT,
        allow_redirects=False,
        data={"csrf_token": csrf, "identifier": PROFILE_PHONE, "password": PROFILE_PASSWORD},
    )
    if signed_in.status_code != 302:
        raise RuntimeError(f"sign-in failed ({signed_in.status_code})")
    return browser


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def authorize_query(client_id: str, redirect_uri: str, scope: str, challenge: str, **extra: str) -> str:
    return urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
    )


def code_from(answer: requests.Response, redirect_uri: str) -> str:
    location = answer.headers.get("Location", "")
    if answer.status_code not in (302, 303) or not location.startswith(redirect_uri):
        raise RuntimeError(f"authorization failed ({answer.status_code} {location})")
    return parse_qs(urlsplit(location).query)["code"][0]


def code_flow(browser: requests.Session, service: requests.Session, base: str, client: dict) -> dict:
    """The signed-in authorization code flow with PKCE: GET /authorize, then POST /token."""
    verifier, challenge = pkce()
    query = authorize_query(client["client_id"], REDIRECT_URI, "openid profile email phone", challenge)
    code = code_from(
        browser.get(f"{base}/authorize?{query}", timeout=TIMEOUT, allow_redirects=False), REDIRECT_URI
    )
    tokens = service.post(
        base + "/token",
        timeout=TIMEOUT,
        headers={"Authorization": basic(client["client_id"], client["client_secret"])},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
    )
    return check(tokens, "authorization_code").json()


def refresh_families(flow: Callable[[], dict]) -> Callable[[int], tuple[str, list[str]]]:
    """A wrk pool of FAMILIES fresh refresh tokens, each from its own code flow (made per wrk run:
    the tokens a run leaves are in wrk's memory only)."""
    return lambda seconds: ("refresh", [flow()["refresh_token"] for _ in range(FAMILIES)])


def signin_sessions(base: str, rate: Callable[[], float], connections: int):
    """A wrk pool of fresh browser sessions, one per sign-in: the session cookie and the form with
    its CSRF token, the profiles taken in turn. Sized from ``rate`` (the hashing limit)."""

    def pool(seconds: int) -> tuple[str, list[str]]:
        phones = signin_phones()
        count = int(rate() * seconds * 2) + 4 * connections
        browser, entries = requests.Session(), []
        for n in range(count):
            browser.cookies.clear()
            csrf = signin_form(browser, base)
            cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
            form = urlencode(
                {"csrf_token": csrf, "identifier": phones[n % len(phones)], "password": PROFILE_PASSWORD}
            )
            entries.append(f"{cookie}\t{form}")
        return "signin", entries

    return pool


def check(response: requests.Response, what: str) -> requests.Response:
    if response.status_code != 200:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")
    return response


HASH_LIMIT = """
import json, sys, time
from idp.config import SETTINGS
from idp.security.passwords import _hasher_with  # the product's own hasher (Argon2id, 1 lane)
import os
defaults = {setting.name: setting.default for setting in SETTINGS}
memory = int(os.environ.get("IDP_PASSWORD_HASH_MEMORY_KIB") or defaults["IDP_PASSWORD_HASH_MEMORY_KIB"])
passes = int(os.environ.get("IDP_PASSWORD_HASH_ITERATIONS") or defaults["IDP_PASSWORD_HASH_ITERATIONS"])
hasher = _hasher_with(memory, passes)
hasher.hash("warm-up")
count, start = 0, time.perf_counter()
while time.perf_counter() - start < float(sys.argv[1]):
    hasher.hash("Bench-password-1")
    count += 1
seconds = time.perf_counter() - start
print(json.dumps({"hashes_per_s": round(count / seconds, 1), "hashes": count, "seconds": round(seconds, 2),
                  "memory_kib": memory, "iterations": passes, "parallelism": 1}))
"""


def hash_limit(args, env: dict[str, str]) -> dict:
    """Argon2id hashes per second of one process pinned to the server's core, with the product's
    parameters (the server's environment)."""
    core = args.server_cores.split(",")[0]
    seconds = str(max(2, min(5, args.seconds)))
    command = scheduled(args, ["taskset", "-c", core, str(BIN / "python"), "-c", HASH_LIMIT, seconds])
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=True)
    return {**json.loads(done.stdout), "core": core}


def timed_flows(args, flow: Callable[[], object]) -> dict:
    """``args.flows`` flows one after the other (after a few unrecorded), from a process pinned to
    the load core; their rate and latency percentiles in the shape of wrk's figures."""
    for _ in range(CODE_FLOW_WARMUP):
        flow()
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(args.wrk_core)})
    times, failures = [], 0
    try:
        for _ in range(args.flows):
            started = time.perf_counter()
            try:
                flow()
            except (RuntimeError, requests.RequestException) as error:
                failures += 1
                say(f"  a flow failed: {error}")
                continue
            times.append((time.perf_counter() - started) * 1000)
    finally:
        os.sched_setaffinity(0, affinity)
    if not times:
        raise RuntimeError("every code flow failed")
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return {
        "requests": len(times),
        "duration_s": round(sum(times) / 1000, 3),
        "rps": round(len(times) / (sum(times) / 1000), 1),
        "latency_ms": {
            "p50": round(cuts[49], 3),
            "p90": round(cuts[89], 3),
            "p99": round(cuts[98], 3),
            "max": round(max(times), 3),
            "mean": round(statistics.fmean(times), 3),
            "stdev": round(statistics.pstdev(times), 3),
        },
        "errors": {"flow": failures},
    }


Measurement = Callable[[argparse.Namespace], dict]


@dataclass
class Server:
    """Started server(s): the processes (for CPU use), how to time each endpoint, how to stop."""

    key: str
    pids: list[int]
    plan: dict[str, Measurement]  # endpoint -> a measurement returning its figures
    stop: Callable[[], None]


def wrk_measurement(load: Load, pids: list[int], database_load: bool) -> Measurement:
    return lambda args: run_wrk(load, args, server_pids=pids, database_load=database_load)


def signin_measurement(bases: list[str], env: dict[str, str], pids: list[int]) -> Measurement:
    """Password sign-in beside the Argon2id limit of the same core, measured just before and after."""

    def measure_signin(args) -> dict:
        limit = hash_limit(args, env)
        say(f"  Argon2id limit of core {limit['core']}: {limit['hashes_per_s']} hashes/s")
        cores = len(set(bases))  # one instance per core
        pool = signin_sessions(bases[0], lambda: limit["hashes_per_s"] * cores, args.connections)
        load = Load([base + "/signin" for base in bases], method="POST", pool=pool, expect=302)
        figures = run_wrk(load, args, server_pids=pids, database_load=True)
        # Again after it, the better of the two: other programs' load only ever lowers the limit.
        limit = max(limit, hash_limit(args, env), key=lambda found: found["hashes_per_s"])
        figures["hash_limit"] = limit
        figures["ratio_to_hash_limit"] = round(figures["rps"] / limit["hashes_per_s"] / cores, 2)
        return figures

    return measure_signin


@dataclass
class Deployment:
    """What the endpoints need of a running Business ID (made once, used by every instance)."""

    env: dict[str, str]
    client: dict
    bearer: str
    user_access_token: str
    browser: requests.Session


def business_id_plan(deployment: Deployment, bases: list[str], pids: list[int]) -> dict[str, Measurement]:
    """The measurements of Business ID with wrk spread over ``bases`` (one wrk process each)."""
    client, base = deployment.client, bases[0]
    cc_auth = basic(client["client_id"], client["client_secret"])
    service = requests.Session()

    def flow() -> dict:
        return code_flow(deployment.browser, service, base, client)

    def load(path: str, **request) -> Measurement:
        return wrk_measurement(Load([b + path for b in bases], **request), pids, database_load=True)

    plan = {
        "token": load(
            "/token",
            method="POST",
            body=urlencode({"grant_type": "client_credentials", "scope": OUR_SCOPE}),
            authorization=cc_auth,
        ),
        "userinfo": load("/userinfo", authorization=deployment.bearer),
        "introspect": load(
            "/introspect",
            method="POST",
            body=urlencode({"token": deployment.user_access_token}),
            authorization=cc_auth,
        ),
        "refresh": load(
            "/token",
            method="POST",
            body="grant_type=refresh_token&refresh_token=",
            authorization=cc_auth,
            pool=refresh_families(flow),
        ),
        "jwks": load("/jwks.json"),
        "discovery": load("/.well-known/openid-configuration"),
        "signin": signin_measurement(bases, deployment.env, pids),
    }
    if len(bases) == 1:
        plan["codeflow"] = lambda args: timed_flows(args, flow)
    return plan


def start_business_id(args, run: dict) -> list[Server]:
    """Business ID on a fresh database: one server, or with ``--instances 2`` two servers on
    two cores (then two Server entries: wrk on the first alone, and wrk spread over both)."""
    data_dir = ARTIFACTS / "db"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if args.database == "postgresql":
        fresh_postgres_database(args)
    env = idp_env(args, data_dir)
    base = env["IDP_ISSUER"]
    say(f"Business ID: fresh {args.database} database, client and {SIGNIN_PROFILES + 1} profiles")
    client = prepare_database(args, env)
    placements = [(args.port, args.server_cores)]
    if args.instances == 2:
        placements = [(args.port, "0"), (args.port + 1, "1")]
    processes: list[subprocess.Popen] = []

    def stop() -> None:
        for process in processes:
            stop_server(process)
        if args.database == "postgresql" and not args.keep_database:
            drop_postgres_database(args)

    try:
        for port, cores in placements:
            server = run["business_id"]["server"]
            say(f"Business ID: {server}, on core(s) {cores}, port {port}, SCHED_{args.sched.upper()}")
            processes.append(start_server(args, env, port, cores))
        deployment = ready_deployment(base, env, client, run)
    except Exception:
        stop()
        raise
    pids = [process.pid for process in processes]
    if args.instances == 1:
        return [Server("business_id", pids, business_id_plan(deployment, [base], pids), stop)]
    second = f"http://127.0.0.1:{args.port + 1}"
    return [
        Server("one_instance", pids[:1], business_id_plan(deployment, [base, base], pids[:1]), lambda: None),
        Server("two_instances", pids, business_id_plan(deployment, [base, second], pids), stop),
    ]


def ready_deployment(base: str, env: dict[str, str], client: dict, run: dict) -> Deployment:
    """Check the client's token and a user's token over HTTP; what the measurements need."""
    cc_auth = basic(client["client_id"], client["client_secret"])
    sample = check(
        requests.post(
            base + "/token",
            data={"grant_type": "client_credentials", "scope": OUR_SCOPE},
            timeout=TIMEOUT,
            headers={"Authorization": cc_auth},
        ),
        "client_credentials",
    ).json()
    browser = signed_in_browser(base)
    tokens = code_flow(browser, requests.Session(), base, client)
    if "refresh_token" not in tokens:
        raise RuntimeError("the code flow gave no refresh token")
    bearer = "Bearer " + tokens["access_token"]
    check(requests.get(base + "/userinfo", headers={"Authorization": bearer}, timeout=TIMEOUT), "userinfo")
    introspected = check(
        requests.post(
            base + "/introspect",
            data={"token": tokens["access_token"]},
            headers={"Authorization": cc_auth},
            timeout=TIMEOUT,
        ),
        "introspect",
    ).json()
    if not introspected.get("active"):
        raise RuntimeError(f"introspection: {introspected}")
    run["business_id"]["access_token"] = {
        "header": jwt_header(sample["access_token"]),
        "length": len(sample["access_token"]),
    }
    return Deployment(env, client, bearer, tokens["access_token"], browser)


# --- the peer -------------------------------------------------------------------------------


def peer_version() -> str | None:
    package = PEER_DIR / "node_modules" / "oidc-provider" / "package.json"
    return json.loads(package.read_text())["version"] if package.exists() else None


def start_peer(args, run: dict) -> Server:
    """Start the peer with its own script (pinned like Business ID); its fixed client is used."""
    if not (PEER_DIR / "node_modules").exists():
        raise RuntimeError(f"run `npm install` in {PEER_DIR} first")
    env = {**os.environ, "ALG": args.alg, "AT_FORMAT": "jwt"}
    say(
        f"oidc-provider {peer_version()}: ALG={args.alg} AT_FORMAT=jwt on core(s) {args.server_cores}, "
        f"SCHED_{args.sched.upper()}"
    )
    subprocess.run(
        scheduled(args, ["./start_provider.sh", args.server_cores]),
        cwd=PEER_DIR,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )

    def stop() -> None:
        subprocess.run(["./stop_provider.sh"], cwd=PEER_DIR, stdout=subprocess.DEVNULL, check=False)

    try:
        wait_for(PEER_URL + "/.well-known/openid-configuration")
        pid = int((PEER_DIR / "provider.pid").read_text())
        cc_auth = basic(*PEER_CLIENT)
        cc_body = urlencode({"grant_type": "client_credentials", "scope": PEER_SCOPE})
        sample = check(
            requests.post(
                PEER_URL + "/token",
                data=cc_body,
                timeout=TIMEOUT,
                headers={"Authorization": cc_auth, "Content-Type": "application/x-www-form-urlencoded"},
            ),
            "peer client_credentials",
        ).json()
        browser, service = requests.Session(), requests.Session()
        refresh_token = peer_code_flow(browser, service, offline=True)["refresh_token"]
    except Exception:
        stop()
        raise
    run["oidc_provider"]["access_token"] = {
        "header": jwt_header(sample["access_token"]),
        "length": len(sample["access_token"]),
    }

    def load(path: str, **request) -> Measurement:
        return wrk_measurement(Load([PEER_URL + path], **request), [pid], database_load=False)

    # No userinfo: its client_credentials tokens have no user, and its code-flow tokens are
    # audience-restricted JWTs for the benchmark resource, which its userinfo refuses. Nor does its
    # introspection take those JWTs: it introspects a refresh token (looked up in its memory).
    plan = {
        "token": load("/token", method="POST", body=cc_body, authorization=cc_auth),
        "introspect": load(
            "/token/introspection",
            method="POST",
            body=urlencode({"token": refresh_token}),
            authorization=cc_auth,
        ),
        "refresh": load(
            "/token",
            method="POST",
            body="grant_type=refresh_token&refresh_token=",
            authorization=cc_auth,
            pool=refresh_families(lambda: peer_code_flow(browser, service, offline=True)),
        ),
        "jwks": load("/jwks"),
        "discovery": load("/.well-known/openid-configuration"),
        "codeflow": lambda args: timed_flows(args, lambda: peer_code_flow(browser, service)),
    }
    return Server("oidc_provider", [pid], plan, stop)


def peer_code_flow(browser: requests.Session, service: requests.Session, offline: bool = False) -> dict:
    """The peer's code flow with PKCE. Its dev interactions take any login; once signed in and
    consented, its /auth answers with the code at once. ``offline``: a refresh token, for which it
    asks for consent again (``prompt=consent``, as it requires for ``offline_access``)."""
    verifier, challenge = pkce()
    scope = "openid offline_access api:read" if offline else "openid api:read"
    extra = {"prompt": "consent"} if offline else {}
    query = authorize_query(PEER_CLIENT[0], PEER_REDIRECT_URI, scope, challenge, **extra)
    answer = browser.get(f"{PEER_URL}/auth?{query}", timeout=TIMEOUT, allow_redirects=False)
    for _ in range(8):  # login and consent pages, each a form to send
        location = answer.headers.get("Location", "")
        if answer.status_code in (302, 303) and location.startswith(PEER_REDIRECT_URI):
            break
        if answer.status_code in (302, 303):
            answer = browser.get(urljoin(PEER_URL, location), timeout=TIMEOUT, allow_redirects=False)
            continue
        action = re.search(r'action="([^"]+)"', answer.text)
        prompt = re.search(r'name="prompt" value="([^"]+)"', answer.text)
        if answer.status_code != 200 or not action or not prompt:
            raise RuntimeError(f"the peer's interaction: {answer.status_code} {answer.text[:200]}")
        form = {"prompt": prompt.group(1), "login": "bench-user", "password": "any"}
        answer = browser.post(
            urljoin(PEER_URL, action.group(1)), data=form, timeout=TIMEOUT, allow_redirects=False
        )
    code = code_from(answer, PEER_REDIRECT_URI)
    tokens = service.post(
        PEER_URL + "/token",
        timeout=TIMEOUT,
        headers={"Authorization": basic(*PEER_CLIENT)},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": PEER_REDIRECT_URI,
            "code_verifier": verifier,
        },
    )
    return check(tokens, "the peer's authorization_code").json()


# --- measuring ------------------------------------------------------------------------------


SHORT = {"business_id": "BID", "oidc_provider": "peer", "one_instance": "BID x1", "two_instances": "BID x2"}


def measure(server: Server, endpoint: str, args, rounds: dict) -> None:
    measurement = server.plan.get(endpoint)
    if measurement is None:
        return
    figures = measurement(args)
    rounds.setdefault(server.key, {e: [] for e in ENDPOINTS})[endpoint].append(figures)
    show(f"{SHORT[server.key]} {endpoint}", figures)


def median_round(figures: list[dict]) -> dict | None:
    """The round of median throughput (its own percentiles), or None when nothing was measured."""
    if not figures:
        return None
    ordered = sorted(figures, key=lambda f: f["rps"])
    return {**ordered[(len(ordered) - 1) // 2], "rounds": len(figures)}


def measure_all(args, run: dict) -> dict[str, dict[str, list[dict]]]:
    """Start the servers and time every endpoint, interleaved (or one server after the other)."""
    rounds: dict[str, dict[str, list[dict]]] = {}
    servers: list[Server] = []
    try:
        servers += start_business_id(args, run)
        if args.order == "sequential":
            for _ in range(args.rounds):
                for endpoint in args.endpoints:
                    for server in servers:  # with --instances 2: one instance, then two
                        measure(server, endpoint, args, rounds)
            while servers:
                servers.pop().stop()
        if not args.no_peer:
            servers.append(start_peer(args, run))
        for _ in range(args.rounds):
            for endpoint in args.endpoints:
                for server in servers if args.order == "interleaved" else servers[-1:]:
                    measure(server, endpoint, args, rounds)
    finally:
        for server in reversed(servers):
            server.stop()
    return rounds


def run_set(args) -> dict:
    """Measure the whole set on one database; the run's record (parameters, machine, figures)."""
    run = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": {key: value for key, value in vars(args).items() if key != "pg_url"},
        "machine": machine(),
        "business_id": {"server": server_description(args), "server_name": args.server},
        "oidc_provider": {
            "version": peer_version(),
            "measured": not args.no_peer,
            "server": "node provider.mjs (one process), AT_FORMAT=jwt",
        },
    }
    rounds = measure_all(args, run)
    for key in rounds:
        run.setdefault(key, {})["results"] = {e: median_round(rounds[key][e]) for e in args.endpoints}
        run[key]["all_rounds"] = {e: rounds[key][e] for e in args.endpoints}
    for key in ("business_id", "oidc_provider"):
        run[key].setdefault("results", {})
    run["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return run


# --- report ---------------------------------------------------------------------------------


def cell(figures: dict | None, measured: bool) -> str:
    if figures is None:
        return f"{'n/a' if measured else 'skipped':>9} {'':>8} {'':>8}"
    lat = figures["latency_ms"]
    return f"{figures['rps']:9.0f} {lat['p50']:8.2f} {lat['p99']:8.2f}"


def verdict(name: str, ours: dict | None, peer: dict | None) -> tuple[str, str]:
    """The target of an endpoint and PASS, FAIL or ? (its peer figure is missing)."""
    text, holds = TARGETS[name]
    if ours is None:
        return text, ""
    passed = holds(ours, peer)
    return text, "?" if passed is None else "PASS" if passed else "FAIL"


def ratio_cell(name: str, ours: dict | None, peer: dict | None) -> str:
    if ours and name == "signin" and "ratio_to_hash_limit" in ours:
        return f"{ours['ratio_to_hash_limit']:5.2f}*"
    return f"{ours['rps'] / peer['rps']:5.2f} " if ours and peer else f"{'':6}"


def table(run: dict) -> str:
    ours, peer = run["business_id"]["results"], run["oidc_provider"]["results"]
    measured = run["oidc_provider"]["measured"]
    width = 27
    peer_name = f"oidc-provider {run['oidc_provider'].get('version') or ''}".strip()
    lines = [
        args_line(run),
        f"{'endpoint':{width}} | {'Business ID':^27} | {peer_name:^27} | req/s  | target",
        f"{'':{width}} | {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} | {'req/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} | ratio  |",
        "-" * (width + 95),
    ]
    for name in run["parameters"]["endpoints"]:
        target, passed = verdict(name, ours.get(name), peer.get(name))
        lines.append(
            f"{LABELS[name]:{width}} | {cell(ours.get(name), True)} | "
            f"{cell(peer.get(name), measured)} | {ratio_cell(name, ours.get(name), peer.get(name))} | "
            f"{target:13} {passed}"
        )
    lines += notes(run, ours)
    return "\n".join(lines)


def notes(run: dict, ours: dict) -> list[str]:
    lines = [f"  {name}: {NOTES[name]}" for name in run["parameters"]["endpoints"] if name in NOTES]
    signin = ours.get("signin")
    if signin and "hash_limit" in signin:
        limit = signin["hash_limit"]
        lines.append(
            f"  * Argon2id limit of core {limit['core']}: {limit['hashes_per_s']} hashes/s "
            f"(m={limit['memory_kib']} KiB, t={limit['iterations']}, p=1), sign-in "
            f"{signin['rps']:.1f}/s = {signin['ratio_to_hash_limit']:.2f} of it"
        )
    return lines


def database_table(sqlite: dict, postgresql: dict) -> str:
    """Each endpoint on SQLite and on PostgreSQL, and PostgreSQL's share of SQLite's req/s."""
    width = 27
    first, second = sqlite["business_id"]["results"], postgresql["business_id"]["results"]
    lines = [
        f"Business ID on SQLite and on PostgreSQL ({server_description_of(postgresql)})",
        f"{'endpoint':{width}} | {'SQLite':^27} | {'PostgreSQL':^27} | PG/SQLite | target",
        f"{'':{width}} | {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} | {'req/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} |           |",
        "-" * (width + 90),
    ]
    for name in sqlite["parameters"]["endpoints"]:
        a, b = first.get(name), second.get(name)
        share = b["rps"] / a["rps"] if a and b else None
        passed = "" if share is None else "PASS" if share >= DATABASE_TARGET else "FAIL"
        lines.append(
            f"{LABELS[name]:{width}} | {cell(a, True)} | {cell(b, True)} | "
            f"{'' if share is None else f'{share:9.2f}'} | >= {DATABASE_TARGET} {passed}"
        )
    return "\n".join(lines)


def instances_table(run: dict) -> str:
    """Each endpoint on one instance and on two, with wrk spread over them the same way."""
    width = 27
    one, two = run["one_instance"]["results"], run["two_instances"]["results"]
    lines = [
        args_line(run),
        "Two instances on cores 0 and 1 against one on core 0; in both cases two wrk processes, "
        "not pinned: on this 2-core machine the load generator shares the cores with the servers.",
        f"{'endpoint':{width}} | {'1 instance':^27} | {'2 instances':^27} | 2/1",
        f"{'':{width}} | {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} | {'req/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} |",
        "-" * (width + 70),
    ]
    for name in run["parameters"]["endpoints"]:
        a, b = one.get(name), two.get(name)
        if a is None and b is None:
            continue
        ratio = f"{b['rps'] / a['rps']:5.2f}" if a and b else ""
        lines.append(f"{LABELS[name]:{width}} | {cell(a, True)} | {cell(b, True)} | {ratio}")
    return "\n".join(lines)


def server_description(args) -> str:
    if args.server == "granian":
        return (
            f"granian --interface wsgi idp.wsgi:app, {args.workers} worker(s) x "
            f"{args.blocking_threads} blocking thread(s)"
        )
    return f"gunicorn idp.wsgi:app, {args.worker_class}, {args.workers} worker(s)" + (
        f" x {args.threads} threads" if args.worker_class == "gthread" else ""
    )


def server_description_of(run: dict) -> str:
    return run["business_id"]["server"]


def args_line(run: dict) -> str:
    p = run["parameters"]
    if p.get("instances") == 2:
        order, placement = "1 and 2 instances interleaved", "servers on cores 0 and 1, wrk not pinned"
    else:
        order, placement = p["order"], f"servers on core {p['server_cores']}, wrk on core {p['wrk_core']}"
    return (
        f"{p['alg']}, {p['database']}, {server_description_of(run)}, wrk -t1 -c{p['connections']}, "
        f"{p['seconds']} s per endpoint (+{p['warmup']} s warm-up), {p['flows']} code flows, "
        f"{p['rounds']} round(s), {order}; {placement}; servers SCHED_{p.get('sched', 'other').upper()}"
    )


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "",
    )

    def version(*command: str) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=10)
        except OSError:
            return ""
        text = (done.stdout or done.stderr).strip()
        return text.splitlines()[0] if text else ""

    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "gunicorn": version(str(BIN / "gunicorn"), "--version"),
        "granian": version(str(BIN / "granian"), "--version"),
        "node": version("node", "--version"),
        "wrk": version("wrk", "--version"),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=int, default=3, help="unrecorded warm-up seconds per endpoint")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (one wrk thread)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every endpoint this often; the round of median req/s is shown",
    )
    parser.add_argument(
        "--endpoints", default=",".join(ENDPOINTS), help=f"comma-separated subset of {','.join(ENDPOINTS)}"
    )
    parser.add_argument("--alg", choices=["ES256", "RS256"], default="ES256")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="an existing database to connect to while creating --pg-database",
    )
    parser.add_argument(
        "--pg-database",
        default="idp_bench",
        help="database dropped and created for the run (default idp_bench)",
    )
    parser.add_argument("--keep-database", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--no-peer", action="store_true", help="time Business ID only")
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="all of Business ID, stop it, then all of the peer (default: both "
        "servers up, each endpoint timed on one right after the other)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="before each endpoint wait up to this many seconds for the machine to be "
        "idle (other programs' load skews the figures); 0 does not wait",
    )
    parser.add_argument(
        "--compare-databases",
        action="store_true",
        help="the whole set on SQLite, then on PostgreSQL (the peer in the first only); both tables "
        "and PostgreSQL's share of SQLite's req/s",
    )
    parser.add_argument(
        "--instances",
        type=int,
        choices=[1, 2],
        default=1,
        help="2: two Business ID servers on cores 0 and 1 (ports --port and the next), wrk spread "
        "over both and over one the same way, the ratio printed; no peer",
    )
    parser.add_argument("--flows", type=int, default=300, help="code flows timed one after the other")
    parser.add_argument("--port", type=int, default=8055, help="Business ID's port")
    parser.add_argument("--server", choices=["granian", "gunicorn"], default="granian")
    parser.add_argument(
        "--workers", type=int, default=None, help="server processes (default 1 for granian, 4 for gunicorn)"
    )
    parser.add_argument(
        "--blocking-threads",
        type=int,
        default=None,
        help="granian's threads per worker (default 1 on SQLite, 2 on PostgreSQL)",
    )
    parser.add_argument(
        "--worker-class",
        default="gthread",
        choices=["gthread", "sync"],
        help="gthread (default) keeps connections alive; sync closes each one",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads per gthread worker (default 1 on SQLite, 2 on PostgreSQL)",
    )
    parser.add_argument("--server-cores", default="0", help="taskset cores of both servers")
    parser.add_argument("--wrk-core", default="1", help="taskset core of wrk")
    parser.add_argument(
        "--sched",
        choices=["batch", "other"],
        default="batch",
        help="both servers' (and the hashing limit's) scheduling policy: batch (default, as deploy/ "
        "runs Business ID) or other, Linux's default",
    )
    args = parser.parse_args(argv)
    args.endpoints = [e for e in ENDPOINTS if e in args.endpoints.split(",")]
    if not args.endpoints:
        parser.error(f"--endpoints: choose among {','.join(ENDPOINTS)}")
    if args.compare_databases and args.instances == 2:
        parser.error("--compare-databases and --instances 2 are separate runs")
    if args.instances == 2:
        args.no_peer = True
    if args.workers is None:
        args.workers = 1 if args.server == "granian" else 4
    args.threads_given, args.blocking_threads_given = args.threads, args.blocking_threads
    return on_database(args, args.database)


def on_database(args, database: str) -> argparse.Namespace:
    """``args`` for a run on ``database``: the threads' defaults depend on it."""
    args = copy.copy(args)
    args.database = database
    threads = 2 if database == "postgresql" else 1
    args.threads = args.threads_given or threads
    args.blocking_threads = args.blocking_threads_given or threads
    args.order = "sequential" if args.sequential or args.no_peer else "interleaved"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for tool in ("wrk", "taskset", "chrt"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing (apt-get install -y wrk util-linux)")
    for port in range(args.port, args.port + args.instances):
        if not port_free(port):
            sys.exit(f"port {port} is in use")
    if not args.no_peer and not port_free(3000):
        sys.exit("port 3000 (the peer) is in use")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    command = " ".join(
        [".venv/bin/python", "benchmarks/oidc_bench.py", *(sys.argv[1:] if argv is None else argv)]
    )
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    if args.compare_databases:
        sqlite = run_set(on_database(args, "sqlite"))
        postgresql = run_set(replace_args(on_database(args, "postgresql"), no_peer=True))
        print(table(sqlite), table(postgresql), database_table(sqlite, postgresql), sep="\n\n")
        record = {"command": command, "sqlite": sqlite, "postgresql": postgresql}
        path = ARTIFACTS / f"oidc_bench_{args.alg}_compare_{stamp}.json"
    else:
        record = {"command": command, **run_set(args)}
        print(instances_table(record) if args.instances == 2 else table(record))
        kind = "_instances" if args.instances == 2 else ""
        path = ARTIFACTS / f"oidc_bench_{args.alg}_{args.database}{kind}_{stamp}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nJSON: {path.relative_to(REPO)}")
    return 0


def replace_args(args, **changes) -> argparse.Namespace:
    args = copy.copy(args)
    vars(args).update(changes)
    args.order = "sequential" if args.sequential or args.no_peer else "interleaved"
    return args


if __name__ == "__main__":
    sys.exit(main())
