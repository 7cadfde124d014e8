"""Throughput and latency of Business ID's machine endpoints beside the peer oidc-provider.

Not a test: it starts servers, loads them with wrk and prints a table. Usage (see benchmarks/README.md):

    .venv/bin/python benchmarks/oidc_bench.py [--seconds 15] [--connections 16] [--alg ES256]
                                              [--database sqlite|postgresql] [--no-peer]

Steps: a fresh database (SQLite file, or a PostgreSQL database of its own), ``idp db upgrade``, the
signing keys, one client and one profile through the ``idp`` CLI; gunicorn pinned to one core; a user
access token through the real sign-in and code flow over HTTP. The peer (node oidc-provider in
../shared/peers/oidc-provider, started and stopped with its own scripts) is started pinned to the
same core. Then wrk, pinned to the other core, times each endpoint on Business ID and right after
on the peer, with the same wrk script: POST /token (client_credentials, client_secret_basic),
GET /userinfo (Bearer; Business ID only), the JWKS and discovery. The figures are printed as a table
and written as JSON to test-artifacts/bench/.
"""

# ruff: noqa: S603, S607 - this script exists to start local programs
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

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
PROFILE_PHONE = "+380501112233"
PROFILE_EMAIL = "bench@example.com"
PROFILE_PASSWORD = "Bench" + secrets.token_hex(6)  # fresh each run; the database is thrown away
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TIMEOUT = 30

ENDPOINTS = ("token", "userinfo", "jwks", "discovery")
LABELS = {
    "token": "token (client_credentials)",
    "userinfo": "userinfo (Bearer)",
    "jwks": "JWKS",
    "discovery": "discovery",
}


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


def run_wrk(
    url: str,
    args,
    *,
    method: str = "GET",
    body: str = "",
    authorization: str = "",
    server_pid: int | None = None,
    database_load: bool = False,
) -> dict:
    """Warm up, then time ``url`` with wrk pinned to the load core; return the figures."""
    env = {**os.environ, "BENCH_METHOD": method, "BENCH_BODY": body, "BENCH_AUTHORIZATION": authorization}

    def wrk(seconds: int) -> str:
        command = [
            "taskset",
            "-c",
            args.wrk_core,
            "wrk",
            "-t1",
            f"-c{args.connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPT),
            url,
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        return done.stdout

    busy_before = wait_until_quiet(args.quiet_wait) if args.quiet_wait else None
    if args.warmup:
        wrk(args.warmup)
    hz = os.sysconf("SC_CLK_TCK")
    database = args.pg_database if args.database == "postgresql" and database_load else None
    db0 = database_ticks(database) if database else {}
    ticks0, cores0, t0 = cpu_ticks(server_pid) if server_pid else 0, core_busy(), time.monotonic()
    output = wrk(args.seconds)
    ticks1, cores1, t1 = cpu_ticks(server_pid) if server_pid else 0, core_busy(), time.monotonic()
    db1 = database_ticks(database) if database else {}
    line = next((ln for ln in output.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures for {url}:\n{output}")
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    if server_pid:
        figures["server_rss_mb"] = round(rss_kb(server_pid) / 1024, 1)
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
    if server_pid and args.server_cores.isdigit():
        # CPU time spent on the servers' core by anything but the timed server: other programs.
        other = (
            figures["core_busy"][f"cpu{args.server_cores}"]
            - figures["server_cpu_cores"]
            - figures.get("database_cpu_cores", 0)
        )
        figures["other_load_on_server_core"] = round(max(0.0, other), 2)
        if other > 0.15:
            say(f"  warning: {other:.2f} of core {args.server_cores} went to other programs")
    failures = sum(figures["errors"].values())
    if failures:
        say(f"  warning: {failures} failed requests ({figures['errors']})")
    return figures


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
    return client


def start_gunicorn(args, env: dict[str, str]) -> subprocess.Popen:
    command = [
        "taskset",
        "-c",
        args.server_cores,
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--log-level",
        "warning",
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    command.append("idp.wsgi:app")
    log = (ARTIFACTS / "gunicorn.log").open("w")
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_for(f"http://127.0.0.1:{args.port}/.well-known/openid-configuration")
    except RuntimeError:
        stop_gunicorn(process)
        raise
    return process


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def user_access_token(base: str, client: dict) -> str:
    """Sign in and run the authorization code flow with PKCE over HTTP; return the access token."""
    browser = requests.Session()
    form = browser.get(base + "/signin", timeout=TIMEOUT)
    csrf = CSRF.search(form.text)
    if not csrf:
        raise RuntimeError(f"no sign-in form ({form.status_code})")
    signed_in = browser.post(
        base + "/signin",
        timeout=TIMEOUT,
        allow_redirects=False,
        data={"csrf_token": csrf.group(1), "identifier": PROFILE_PHONE, "password": PROFILE_PASSWORD},
    )
    if signed_in.status_code != 302:
        raise RuntimeError(f"sign-in failed ({signed_in.status_code})")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile email phone",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        }
    )
    authorized = browser.get(f"{base}/authorize?{query}", timeout=TIMEOUT, allow_redirects=False)
    location = authorized.headers.get("Location", "")
    if authorized.status_code != 302 or not location.startswith(REDIRECT_URI):
        raise RuntimeError(f"authorization failed ({authorized.status_code} {location})")
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = requests.post(
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
    tokens.raise_for_status()
    return tokens.json()["access_token"]


def check(response: requests.Response, what: str) -> requests.Response:
    if response.status_code != 200:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")
    return response


@dataclass
class Server:
    """A started server: its process (for CPU use), what to time on it and how to stop it."""

    key: str
    pid: int
    plan: dict[str, dict]  # endpoint -> url, method, body, authorization of the wrk request
    stop: Callable[[], None]


def start_business_id(args, run: dict) -> Server:
    data_dir = ARTIFACTS / "db"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if args.database == "postgresql":
        fresh_postgres_database(args)
    env = idp_env(args, data_dir)
    base = env["IDP_ISSUER"]
    say(f"Business ID: fresh {args.database} database, client and profile")
    client = prepare_database(args, env)
    say(f"Business ID: {run['business_id']['server']}, on core(s) {args.server_cores}, port {args.port}")
    process = start_gunicorn(args, env)

    def stop() -> None:
        stop_gunicorn(process)
        if args.database == "postgresql" and not args.keep_database:
            drop_postgres_database(args)

    try:
        cc_auth = basic(client["client_id"], client["client_secret"])
        cc_body = urlencode({"grant_type": "client_credentials", "scope": OUR_SCOPE})
        sample = check(
            requests.post(
                base + "/token",
                data=cc_body,
                timeout=TIMEOUT,
                headers={"Authorization": cc_auth, "Content-Type": "application/x-www-form-urlencoded"},
            ),
            "client_credentials",
        ).json()
        bearer = "Bearer " + user_access_token(base, client)
        check(
            requests.get(base + "/userinfo", headers={"Authorization": bearer}, timeout=TIMEOUT), "userinfo"
        )
    except Exception:
        stop()
        raise
    run["business_id"]["access_token"] = {
        "header": jwt_header(sample["access_token"]),
        "length": len(sample["access_token"]),
    }
    return Server(
        "business_id",
        process.pid,
        {
            "token": dict(url=base + "/token", method="POST", body=cc_body, authorization=cc_auth),
            "userinfo": dict(url=base + "/userinfo", authorization=bearer),
            "jwks": dict(url=base + "/jwks.json"),
            "discovery": dict(url=base + "/.well-known/openid-configuration"),
        },
        stop,
    )


# --- the peer -------------------------------------------------------------------------------


def peer_version() -> str | None:
    package = PEER_DIR / "node_modules" / "oidc-provider" / "package.json"
    return json.loads(package.read_text())["version"] if package.exists() else None


def start_peer(args, run: dict) -> Server:
    """Start the peer with its own script (pinned like gunicorn); its fixed client is used."""
    if not (PEER_DIR / "node_modules").exists():
        raise RuntimeError(f"run `npm install` in {PEER_DIR} first")
    env = {**os.environ, "ALG": args.alg, "AT_FORMAT": "jwt"}
    say(f"oidc-provider {peer_version()}: ALG={args.alg} AT_FORMAT=jwt on core(s) {args.server_cores}")
    subprocess.run(
        ["./start_provider.sh", args.server_cores],
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
    except Exception:
        stop()
        raise
    run["oidc_provider"]["access_token"] = {
        "header": jwt_header(sample["access_token"]),
        "length": len(sample["access_token"]),
    }
    # No userinfo: its client_credentials tokens have no user, and its code-flow tokens are
    # audience-restricted JWTs for the benchmark resource, which its userinfo refuses.
    return Server(
        "oidc_provider",
        pid,
        {
            "token": dict(url=PEER_URL + "/token", method="POST", body=cc_body, authorization=cc_auth),
            "jwks": dict(url=PEER_URL + "/jwks"),
            "discovery": dict(url=PEER_URL + "/.well-known/openid-configuration"),
        },
        stop,
    )


# --- measuring ------------------------------------------------------------------------------


def measure(server: Server, endpoint: str, args, rounds: dict) -> None:
    spec = server.plan.get(endpoint)
    if spec is None:
        return
    spec = dict(spec)
    figures = run_wrk(
        spec.pop("url"), args, server_pid=server.pid, database_load=server.key == "business_id", **spec
    )
    rounds[server.key][endpoint].append(figures)
    show(f"{'BID' if server.key == 'business_id' else 'peer'} {endpoint}", figures)


def median_round(figures: list[dict]) -> dict | None:
    """The round of median throughput (its own percentiles), or None when nothing was measured."""
    if not figures:
        return None
    ordered = sorted(figures, key=lambda f: f["rps"])
    return {**ordered[(len(ordered) - 1) // 2], "rounds": len(figures)}


# --- report ---------------------------------------------------------------------------------


def cell(figures: dict | None, measured: bool) -> str:
    if figures is None:
        return f"{'n/a' if measured else 'skipped':>9} {'':>8} {'':>8}"
    lat = figures["latency_ms"]
    return f"{figures['rps']:9.0f} {lat['p50']:8.2f} {lat['p99']:8.2f}"


def table(run: dict) -> str:
    ours, peer = run["business_id"]["results"], run["oidc_provider"]["results"]
    measured = run["oidc_provider"]["measured"]
    width = 27
    peer_name = f"oidc-provider {run['oidc_provider'].get('version') or ''}".strip()
    lines = [
        args_line(run),
        f"{'endpoint':{width}} | {'Business ID':^27} | {peer_name:^27} | req/s",
        f"{'':{width}} | {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} | {'req/s':>9} {'p50 ms':>8} "
        f"{'p99 ms':>8} | ratio",
        "-" * (width + 70),
    ]
    for name in run["parameters"]["endpoints"]:
        ratio = (
            f"{ours[name]['rps'] / peer[name]['rps']:5.2f}"
            if ours.get(name) and peer.get(name)
            else f"{'':5}"
        )
        lines.append(
            f"{LABELS[name]:{width}} | {cell(ours.get(name), True)} | "
            f"{cell(peer.get(name), measured)} | {ratio}"
        )
    return "\n".join(lines)


def args_line(run: dict) -> str:
    p = run["parameters"]
    return (
        f"{p['alg']}, {p['database']}, wrk -t1 -c{p['connections']}, {p['seconds']} s per endpoint "
        f"(+{p['warmup']} s warm-up), {p['rounds']} round(s), {p['order']}; servers on core "
        f"{p['server_cores']}, wrk on core {p['wrk_core']}"
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
    parser.add_argument("--port", type=int, default=8055, help="gunicorn's port")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
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
    args = parser.parse_args(argv)
    args.endpoints = [e for e in ENDPOINTS if e in args.endpoints.split(",")]
    if not args.endpoints:
        parser.error(f"--endpoints: choose among {','.join(ENDPOINTS)}")
    if args.threads is None:
        args.threads = 2 if args.database == "postgresql" else 1
    args.order = "sequential" if args.sequential or args.no_peer else "interleaved"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing (apt-get install -y wrk util-linux)")
    if not port_free(args.port):
        sys.exit(f"port {args.port} is in use")
    if not args.no_peer and not port_free(3000):
        sys.exit("port 3000 (the peer) is in use")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    gunicorn = f"gunicorn idp.wsgi:app, {args.worker_class}, {args.workers} worker(s)" + (
        f" x {args.threads} threads" if args.worker_class == "gthread" else ""
    )
    run = {
        "started_at": started.isoformat(timespec="seconds"),
        "command": " ".join(
            [".venv/bin/python", "benchmarks/oidc_bench.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "parameters": {key: value for key, value in vars(args).items() if key != "pg_url"},
        "machine": machine(),
        "business_id": {"server": gunicorn},
        "oidc_provider": {
            "version": peer_version(),
            "measured": not args.no_peer,
            "server": "node provider.mjs (one process), AT_FORMAT=jwt",
        },
    }
    rounds = {key: {e: [] for e in ENDPOINTS} for key in ("business_id", "oidc_provider")}
    servers: list[Server] = []
    try:
        servers.append(start_business_id(args, run))
        if args.order == "sequential":
            for _ in range(args.rounds):
                for endpoint in args.endpoints:
                    measure(servers[0], endpoint, args, rounds)
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
    for key in rounds:
        run[key]["results"] = {e: median_round(rounds[key][e]) for e in args.endpoints}
        run[key]["all_rounds"] = {e: rounds[key][e] for e in args.endpoints}
    run["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(table(run))
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = ARTIFACTS / f"oidc_bench_{args.alg}_{args.database}_{stamp}.json"
    path.write_text(json.dumps(run, indent=2) + "\n")
    print(f"\nJSON: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
