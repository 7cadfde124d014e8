"""How long a revoked access token keeps passing introspection (J8: "at once", under one second).

Not a test: it starts Business ID under gunicorn on loopback and prints figures. Usage:

    .venv/bin/python benchmarks/revocation_bench.py [--rounds 20] [--via page|service]
                                                    [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Set-up: a fresh database (SQLite in test-artifacts/bench/revocation-db/; with ``--database-url``, a
PostgreSQL database ``idp_revocation_bench`` of its own, created and dropped through that URL, so no
other database is touched); ``idp db upgrade``, ``idp keys ensure``, a first-party client with a
back-channel logout URI (``idp clients create``); then, through the services in this process, an
organisation whose owner owns a MultiFon account, and an employee. gunicorn serves the app on
127.0.0.1. The owner signs in over HTTP.

Each round: the employee is given ``user`` access to the account, signs in over HTTP and runs the
authorization code flow with PKCE; introspection says the access token is active. A poller thread
then introspects it without pause while the owner takes the access away: by default on the
organisation page (POST /org/<id>/access/<link>/revoke with the reason and the owner's password,
as the browser sends it), or with ``--via service`` by ``revoke_access`` in this process. The figure
of the round is the time from the start of the revocation to the answer of the first introspection
that says ``active: false``; userinfo and the refresh token are checked to be refused as well.
Median and worst of the rounds are printed, and every figure is written as JSON to test-artifacts/bench/.
"""

# ruff: noqa: S603, S607 - this script exists to start local programs
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ARTIFACTS = REPO / "test-artifacts" / "bench"
BIN = Path(sys.executable).parent
PG_DATABASE = "idp_revocation_bench"
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never contacted: the code is read from the redirect
BACKCHANNEL_URI = "http://127.0.0.1:9/backchannel-logout"  # queued with each revocation, like a real RP's
NUMBER = "+79260250730"
PASSWORD = "Bench" + secrets.token_hex(6) + "A1"  # fresh each run; the database is thrown away
OWNER = ("+380501110001", "owner@example.com")
EMPLOYEE = ("+380501110002", "employee@example.com")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TIMEOUT = 30


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- the server -----------------------------------------------------------------------------


def settings(args, data_dir: Path) -> dict[str, str]:
    return {
        "IDP_ENV": "development",
        "IDP_ISSUER": f"http://127.0.0.1:{args.port}",
        "IDP_SECRET_KEY": secrets.token_urlsafe(32),
        "IDP_LOG_LEVEL": "WARNING",
        "IDP_DATA_DIR": str(data_dir),
        "IDP_DATABASE_URL": pg_url(args.database_url, PG_DATABASE) if args.database_url else "",
        "IDP_ACCESS_TOKEN_MINUTES": "60",
        "IDP_SIGNIN_LIMIT_IP": "1000/minute",  # one sign-in a round from one address
    }


def environment(values: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
    env.update(values)
    return env


def pg_url(url: str, database: str) -> str:
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return urlsplit(url)._replace(path="/" + database).geturl()


def postgres(args, statement: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(
        args.database_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(statement))
    engine.dispose()


def idp(env: dict[str, str], *arguments: str) -> str:
    done = subprocess.run([str(BIN / "idp"), *arguments], env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"idp {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def start_gunicorn(args, env: dict[str, str]) -> subprocess.Popen:
    command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers)]
    command += ["--worker-class", "gthread", "--threads", str(args.threads), "--log-level", "warning"]
    log = (ARTIFACTS / "revocation-gunicorn.log").open("w")
    process = subprocess.Popen(
        [*command, "idp.wsgi:app"],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(env["IDP_ISSUER"] + "/.well-known/openid-configuration", timeout=2).ok:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(
        "gunicorn did not answer within 30 s (see test-artifacts/bench/revocation-gunicorn.log)"
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the organisation, in this process ------------------------------------------------------


class World:
    """The app in this process, on the same database as the server, for the set-up steps."""

    def __init__(self, values: dict[str, str]):
        from idp import create_app

        self.app = create_app(dict(values))
        self.org_id = 0
        self.ids: dict[str, int] = {}

    def build(self) -> None:
        from connectors.multifon.store import provision
        from idp.connectors.contract import VerifiedAccount
        from idp.connectors.links import link
        from idp.extensions import db
        from idp.orgs.models import ORG_OWNER
        from idp.orgs.services import add_member, assign_account, create_organisation
        from idp.profiles.services import create_profile

        with self.app.app_context():
            profiles = {}
            for name, (phone, email) in (("owner", OWNER), ("employee", EMPLOYEE)):
                profiles[name] = create_profile(phone, email, "Bench", name.title(), PASSWORD, "en", True)
                db.session.commit()
                self.ids[name] = profiles[name].id
            provision(NUMBER, "SipBench1Pass")
            org = create_organisation("UA", "32855961", "TOV Bench")
            self.org_id = org.id
            add_member(org, profiles["owner"], ORG_OWNER)
            assign_account(org, "multifon", NUMBER)
            link(profiles["owner"], "multifon", VerifiedAccount(NUMBER, NUMBER))
            add_member(org, profiles["employee"])

    def give_access(self) -> int:
        """The employee gets ``user`` access (as an accepted invitation gives it); the link's id."""
        from idp.connectors.models import USER, ServiceLink
        from idp.extensions import db

        with self.app.app_context():
            row = ServiceLink(
                profile_id=self.ids["employee"], connector="multifon", account=NUMBER, label=NUMBER, role=USER
            )
            db.session.add(row)
            db.session.commit()
            return row.id

    def revoke(self, link_id: int) -> None:
        from idp.connectors.models import ServiceLink
        from idp.extensions import db
        from idp.orgs.revocation import revoke_access
        from idp.orgs.services import Actor
        from idp.profiles.models import Profile

        with self.app.app_context():
            owner = db.session.get(Profile, self.ids["owner"])
            revoke_access(Actor.person(owner), db.session.get(ServiceLink, link_id), "Benchmark round")


# --- over HTTP ------------------------------------------------------------------------------


def csrf(browser: requests.Session, url: str) -> str:
    page = browser.get(url, timeout=TIMEOUT)
    found = CSRF.search(page.text)
    if not found:
        raise RuntimeError(f"no form on {url} ({page.status_code})")
    return found.group(1)


def signed_in(base: str, phone: str) -> requests.Session:
    browser = requests.Session()
    answer = browser.post(
        base + "/signin",
        data={"csrf_token": csrf(browser, base + "/signin"), "identifier": phone, "password": PASSWORD},
        timeout=TIMEOUT,
        allow_redirects=False,
    )
    if answer.status_code != 302 or answer.headers.get("Location") != "/":
        raise RuntimeError(
            f"sign-in of {phone} failed ({answer.status_code} {answer.headers.get('Location')})"
        )
    return browser


def tokens(base: str, browser: requests.Session, client: dict) -> dict:
    """The authorization code flow with PKCE for the signed-in ``browser``; the token response."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile services",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    authorized = browser.get(f"{base}/authorize?{query}", timeout=TIMEOUT, allow_redirects=False)
    location = authorized.headers.get("Location", "")
    if authorized.status_code != 302 or not location.startswith(REDIRECT_URI):
        raise RuntimeError(f"authorization failed ({authorized.status_code} {location})")
    answer = requests.post(
        base + "/token",
        auth=(client["client_id"], client["client_secret"]),
        data={
            "grant_type": "authorization_code",
            "code": parse_qs(urlsplit(location).query)["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        timeout=TIMEOUT,
    )
    answer.raise_for_status()
    return answer.json()


class Poller(threading.Thread):
    """Introspects one token without pause until an answer says ``active: false``."""

    def __init__(self, base: str, client: dict, token: str):
        super().__init__(daemon=True)
        self.http = requests.Session()  # one kept-alive connection, as a relying service has
        self.url, self.auth, self.token = (
            base + "/introspect",
            (client["client_id"], client["client_secret"]),
            token,
        )
        self.refused_at: float | None = None
        self.polls = 0
        self.stopping = threading.Event()

    def active(self) -> bool:
        answer = self.http.post(self.url, data={"token": self.token}, auth=self.auth, timeout=TIMEOUT)
        answer.raise_for_status()
        return bool(answer.json()["active"])

    def run(self) -> None:
        while not self.stopping.is_set():
            active = self.active()
            self.polls += 1
            if not active:
                self.refused_at = time.perf_counter()
                return


def revoke_on_page(base: str, owner: requests.Session, org_id: int, link_id: int) -> float:
    """Take the access away as the owner's browser does; return when the request started."""
    url = f"{base}/org/{org_id}/access/{link_id}/revoke"
    form = {"csrf_token": csrf(owner, url), "reason": "Benchmark round", "current_password": PASSWORD}
    started = time.perf_counter()
    answer = owner.post(url, data=form, timeout=TIMEOUT, allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"the revocation was refused ({answer.status_code})")
    return started


def one_round(base: str, world: World, owner: requests.Session, client: dict, via: str) -> dict:
    link_id = world.give_access()
    employee = signed_in(base, EMPLOYEE[0])
    issued = tokens(base, employee, client)
    poller = Poller(base, client, issued["access_token"])
    if not poller.active():
        raise RuntimeError("the fresh access token is not active")
    poller.start()
    time.sleep(0.05)  # the poller is at full speed when the revocation starts
    if via == "page":
        started = revoke_on_page(base, owner, world.org_id, link_id)
    else:
        started = time.perf_counter()
        world.revoke(link_id)
    done = time.perf_counter()
    poller.join(10)
    poller.stopping.set()
    if poller.refused_at is None:
        raise RuntimeError("introspection still said active 10 s after the revocation")
    userinfo = requests.get(
        base + "/userinfo", headers={"Authorization": "Bearer " + issued["access_token"]}, timeout=TIMEOUT
    )
    refreshed = requests.post(
        base + "/token",
        auth=(client["client_id"], client["client_secret"]),
        data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        timeout=TIMEOUT,
    )
    if userinfo.status_code != 401 or refreshed.status_code != 400:
        raise RuntimeError(
            f"after the revocation userinfo answered {userinfo.status_code}, refresh {refreshed.status_code}"
        )
    return {
        "to_refused_introspection_ms": round((poller.refused_at - started) * 1000, 2),
        "revocation_request_ms": round((done - started) * 1000, 2),
        "polls": poller.polls,
    }


# --- the run --------------------------------------------------------------------------------


def prepare(args, values: dict[str, str], data_dir: Path) -> tuple[World, dict]:
    env = environment(values)
    idp(env, "db", "upgrade")
    idp(env, "keys", "ensure")
    client = json.loads(
        idp(
            env,
            *("clients", "create", "--name", "Revocation bench", "--first-party", "--json"),
            *("--grant", "authorization_code", "--grant", "refresh_token", "--redirect-uri", REDIRECT_URI),
            *("--scope", "openid profile services", "--backchannel-logout-uri", BACKCHANNEL_URI),
        )
    )
    world = World(values)
    world.build()
    return world, client


def figures(rounds: list[dict]) -> dict:
    times = [r["to_refused_introspection_ms"] for r in rounds]
    requests_ms = [r["revocation_request_ms"] for r in rounds]
    return {
        "rounds": len(rounds),
        "median_ms": round(statistics.median(times), 1),
        "worst_ms": round(max(times), 1),
        "best_ms": round(min(times), 1),
        "revocation_request_median_ms": round(statistics.median(requests_ms), 1),
        "under_one_second": all(t < 1000 for t in times),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--via",
        choices=["page", "service"],
        default="page",
        help="take the access away on the organisation page over HTTP (default) or by the service",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server (any database on it) where the database "
        f"{PG_DATABASE} is created for the run and dropped after it; default SQLite",
    )
    parser.add_argument("--keep-database", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--port", type=int, default=8056)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    return parser.parse_args(argv)


def run(args, database: str) -> list[dict]:
    """Set everything up, time the rounds, and take everything down; the rounds' figures."""
    data_dir = ARTIFACTS / "revocation-db"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if args.database_url:
        postgres(args, f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        postgres(args, f'CREATE DATABASE "{PG_DATABASE}"')
    values = settings(args, data_dir)
    base = values["IDP_ISSUER"]
    process = None
    try:
        say(f"fresh {database} database, client, organisation, owner and employee")
        world, client = prepare(args, values, data_dir)
        process = start_gunicorn(args, environment(values))
        say(f"gunicorn idp.wsgi:app, {args.workers} worker(s) x {args.threads} threads on {base}")
        owner = signed_in(base, OWNER[0])
        rounds = []
        for n in range(args.rounds):
            rounds.append(one_round(base, world, owner, client, args.via))
            last = rounds[-1]
            say(f"  round {n + 1:2}: {last['to_refused_introspection_ms']:7.1f} ms ({last['polls']} polls)")
        return rounds
    finally:
        if process is not None:
            stop(process)
        if args.database_url and not args.keep_database:
            postgres(args, f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')


def report(run_info: dict, rounds: list[dict]) -> None:
    """Print the figures and write them, with every round, as JSON to test-artifacts/bench/."""
    result = figures(rounds)
    load = run_info["machine"]
    load["load_average_at_end"] = round(os.getloadavg()[0], 2)
    if max(load["load_average_at_start"], load["load_average_at_end"]) > (load["cpus"] or 1):
        say(f"warning: the load average was above the {load['cpus']} CPUs: other programs slowed the figures")
    print(
        f"revocation -> first refused introspection, {run_info['database']}, via {run_info['via']}, "
        f"{result['rounds']} rounds: median {result['median_ms']} ms, worst {result['worst_ms']} ms "
        f"(best {result['best_ms']} ms; the revocation request itself: median "
        f"{result['revocation_request_median_ms']} ms); load average {load['load_average_at_start']:.1f} "
        f"-> {load['load_average_at_end']:.1f} on {load['cpus']} CPUs"
    )
    stamp = run_info["started_at"].replace("-", "").replace(":", "").replace("+0000", "Z")
    path = ARTIFACTS / f"revocation_bench_{run_info['database']}_{run_info['via']}_{stamp}.json"
    path.write_text(json.dumps({**run_info, "results": result, "all_rounds": rounds}, indent=2) + "\n")
    print(f"JSON: {path.relative_to(REPO)}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    database = "postgresql" if args.database_url else "sqlite"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    run_info = {
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "command": " ".join(
            [".venv/bin/python", "benchmarks/revocation_bench.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "database": database,
        "via": args.via,
        "server": f"gunicorn gthread {args.workers}x{args.threads}",
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": round(os.getloadavg()[0], 2)},
    }
    report(run_info, run(args, database))
    return 0


if __name__ == "__main__":
    sys.exit(main())
