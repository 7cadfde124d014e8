"""p50/p99 of sign-in, userinfo, the staff console's search and a large organisation's pages, on a
small and a big seeded database (benchmarks/seed_scale.py), side by side.

Not a test. Usage (see benchmarks/README.md):

    .venv/bin/python benchmarks/scale_bench.py                    # seeds both, then measures
    .venv/bin/python benchmarks/scale_bench.py --no-seed          # the databases seeded before
    .venv/bin/python benchmarks/scale_bench.py --sizes small --requests 50

Each size has a database of its own: ``idp_scale_small`` (``seed_scale.py --small``: 10,000
profiles, 50,000 audit events) and ``idp_scale`` (1,000,000 profiles and service links, 5,000,000
audit events). On each: ``idp keys ensure``, a first-party client, profile 1 made a support staff
member with SMS codes; gunicorn pinned to ``--server-cores`` (PostgreSQL is not pinned), this
script to ``--client-core``. Requests are sequential (one at a time, ``requests``), after a few
unrecorded ones:

- sign-in: ``POST /signin`` with a seeded profile's phone and password, a different profile each
  time (the form's GET is not timed); it includes one Argon2id verification at the app's default
  cost, whose time alone is measured in this process and printed beside it;
- userinfo: ``GET /userinfo`` with a user's access token (the real code flow with PKCE);
- the staff console's search (``GET /staff?q=``) for a phone (typed 0XX XXX XXXX), an e-mail
  address and part of an organisation's name, of a different profile or organisation each time;
- organisation 1 (``--large-members`` people, 20 accounts, its audit events): its own page
  ``/org/1`` (for an administrator) and the console's ``/staff/orgs/1``; and the page of a typical
  organisation (a few people, one to three accounts, few events) for its owner.

The table is printed and every figure written to ``test-artifacts/bench/scale_bench_<time>.json``.
"""

# ruff: noqa: S603, S607, S608 - it starts local programs; its SQL is made of its own integers
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import random
import re
import secrets
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import requests
import sqlalchemy

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed_scale  # noqa: E402
from seed_scale import REPO, idp  # noqa: E402

ARTIFACTS = REPO / "test-artifacts" / "bench"
BIN = Path(sys.executable).parent
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never contacted: the code is read from the redirect
TIMEOUT = 60
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CODE = re.compile(r"\b(\d{6})\b")
STAFF_ID, ADMIN_ID = 1, 2  # organisation 1's owner (made staff) and one of its administrators
ENDPOINTS = {
    "signin": "password sign-in (POST /signin)",
    "userinfo": "userinfo (Bearer)",
    "search_phone": "staff search: a phone",
    "search_email": "staff search: an e-mail",
    "search_name": "staff search: a name",
    "org_page": "organisation page /org/1",
    "org_page_typical": "a typical organisation's page",
    "staff_org": "staff console /staff/orgs/1",
}
SLOW = {"org_page", "staff_org"}  # a page of thousands of people: fewer requests


def say(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(samples: list[float]) -> dict:
    return {
        "requests": len(samples),
        "p50_ms": round(percentile(samples, 0.50), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
        "max_ms": round(max(samples), 2),
    }


def start_gunicorn(args, env: dict[str, str]) -> subprocess.Popen:
    """gunicorn (gthread, 2 threads a worker) pinned to ``--server-cores``, once it answers."""
    command = ["taskset", "-c", args.server_cores, str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{args.port}"]
    command += ["--workers", str(args.workers), "--worker-class", "gthread", "--threads", "2"]
    command += ["--log-level", "warning", "idp.wsgi:app"]
    log = (ARTIFACTS / "scale_gunicorn.log").open("w")
    process = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(env["IDP_ISSUER"] + "/.well-known/openid-configuration", timeout=2).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    stop_gunicorn(process)
    raise RuntimeError("gunicorn did not answer within 60 s (test-artifacts/bench/scale_gunicorn.log)")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def user_access_token(base: str, client: dict, phone: str) -> str:
    """Sign in and run the authorization code flow with PKCE over HTTP; return the access token."""
    browser = requests.Session()
    answer = post_form(browser, base + "/signin", {"identifier": phone, "password": seed_scale.SEED_PASSWORD})
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in failed ({answer.status_code})")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email phone",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    authorized = browser.get(base + "/authorize", params=query, timeout=TIMEOUT, allow_redirects=False)
    location = authorized.headers.get("Location", "")
    if not location.startswith(REDIRECT_URI):
        raise RuntimeError(f"authorization failed ({authorized.status_code} {location})")
    tokens = requests.post(
        base + "/token",
        timeout=TIMEOUT,
        auth=(client["client_id"], client["client_secret"]),
        data={
            "grant_type": "authorization_code",
            "code": parse_qs(urlsplit(location).query)["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
    )
    tokens.raise_for_status()
    return tokens.json()["access_token"]


def machine() -> dict:
    model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in ln
        ),
        "",
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def shown(size: str, name: str, found: dict) -> None:
    say(f"  {size} {name:13} p50 {found['p50_ms']:8.2f} ms  p99 {found['p99_ms']:8.2f} ms")


def form_token(session: requests.Session, url: str) -> str:
    found = CSRF.search(session.get(url, timeout=TIMEOUT).text)
    if not found:
        raise RuntimeError(f"no form at {url}")
    return found.group(1)


def post_form(session: requests.Session, url: str, data: dict, page: str | None = None) -> requests.Response:
    token = form_token(session, page or url)
    return session.post(url, data={"csrf_token": token, **data}, timeout=TIMEOUT, allow_redirects=False)


class Outbox:
    """The SMS codes the served app stored (development), read in this process."""

    def __init__(self, env: dict[str, str]):
        saved = dict(os.environ)
        os.environ.update(env)
        from idp import create_app

        self.app = create_app()
        os.environ.clear()
        os.environ.update(saved)

    def code(self, phone: str) -> str:
        from idp.delivery.services import outbox
        from idp.delivery.worker import Worker

        with self.app.app_context():
            Worker(self.app, name="scale-bench").run_once(channels=("job",))
            for message in outbox(20, phone):
                if message.kind == "sms_code" and (found := CODE.search(message.text)):
                    return found.group(1)
        raise RuntimeError(f"no SMS code to {phone}")


def database_env(args, database: str) -> dict[str, str]:
    env = seed_scale.scale_env(SimpleNamespace(pg_url=args.pg_url, pg_database=database))
    env.update(
        {
            "IDP_ISSUER": f"http://127.0.0.1:{args.port}",
            "IDP_ACCESS_TOKEN_MINUTES": "60",
            "IDP_SIGNIN_LIMIT_IP": "100000/minute",  # one client signs in hundreds of people
        }
    )
    return env


def prepare(env: dict[str, str]) -> tuple[dict, dict]:
    """Keys, a client and the staff member; return the client and facts about the seeded rows."""
    idp(env, "keys", "ensure")
    client = json.loads(
        idp(
            env,
            "clients",
            "create",
            "--name",
            "scale-bench",
            "--first-party",
            "--grant",
            "authorization_code",
            "--redirect-uri",
            REDIRECT_URI,
            "--scope",
            "openid profile email phone",
            "--json",
        )
    )
    engine = sqlalchemy.create_engine(env["IDP_DATABASE_URL"])
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run(f"UPDATE profiles SET sms_2fa_enabled = true WHERE id = {STAFF_ID}")
        run(
            "INSERT INTO staff_members (profile_id, role, granted_at) "
            f"VALUES ({STAFF_ID}, 'support', now()) ON CONFLICT DO NOTHING"
        )
        facts = {
            "profiles": run("SELECT max(id) FROM profiles").scalar(),
            "orgs": run("SELECT max(id) FROM organisations").scalar(),
            "members_of_org_1": run("SELECT count(*) FROM org_memberships WHERE org_id = 1").scalar(),
            "audit_events": run("SELECT count(*) FROM audit_events").scalar(),
        }
    engine.dispose()
    return client, facts


def phone_of(connection, profile_id: int) -> tuple[str, str]:
    return connection.exec_driver_sql(f"SELECT phone, email FROM profiles WHERE id = {profile_id}").one()


def measure_size(args, size: str, database: str) -> dict:
    env = database_env(args, database)
    client, facts = prepare(env)
    say(f"{size}: {facts}")
    server = SimpleNamespace(
        server_cores=args.server_cores,
        port=args.port,
        workers=args.workers,
        worker_class="gthread",
        threads=2,
    )
    process = start_gunicorn(server, env)
    base = env["IDP_ISSUER"]
    engine = sqlalchemy.create_engine(env["IDP_DATABASE_URL"])
    rng = random.Random(18)
    results: dict[str, dict] = {}
    try:
        with engine.connect() as connection:
            people = [
                phone_of(connection, rng.randint(10, facts["profiles"])) for _ in range(args.requests + 20)
            ]
            names = [
                connection.exec_driver_sql(
                    f"SELECT name FROM organisations WHERE id = {rng.randint(1, facts['orgs'])}"
                )
                .scalar()
                .split()[-1]
                .strip('"')
                for _ in range(args.requests + 10)
            ]
            admin_phone = phone_of(connection, ADMIN_ID)[0]
            typical_org, typical_owner = connection.exec_driver_sql(
                "SELECT org_id, profile_id FROM org_memberships WHERE role = 'owner' "
                "ORDER BY org_id DESC LIMIT 1"
            ).one()
            typical_phone = phone_of(connection, typical_owner)[0]
            staff_phone = phone_of(connection, STAFF_ID)[0]

        def timed(name: str, count: int, call) -> None:
            samples = []
            for i in range(count + args.warmup):
                t0 = time.perf_counter()
                call(i)
                if i >= args.warmup:
                    samples.append((time.perf_counter() - t0) * 1000)
            results[name] = figures(samples)
            shown(size, name, results[name])

        # Sign-in: a fresh browser per profile; only the POST is timed.
        sign_in_times = []
        for i, (phone, _email) in enumerate(people[: args.requests + args.warmup]):
            browser = requests.Session()
            token = form_token(browser, base + "/signin")
            t0 = time.perf_counter()
            answer = browser.post(
                base + "/signin",
                data={"csrf_token": token, "identifier": phone, "password": seed_scale.SEED_PASSWORD},
                timeout=TIMEOUT,
                allow_redirects=False,
            )
            took = (time.perf_counter() - t0) * 1000
            if answer.status_code != 302 or "/signin" in answer.headers.get("Location", ""):
                raise RuntimeError(f"sign-in of {phone} failed ({answer.status_code})")
            if i >= args.warmup:
                sign_in_times.append(took)
        results["signin"] = figures(sign_in_times)
        shown(size, "signin", results["signin"])

        bearer = {"Authorization": "Bearer " + user_access_token(base, client, people[0][0])}
        api = requests.Session()
        timed(
            "userinfo",
            args.requests,
            lambda i: api.get(base + "/userinfo", headers=bearer, timeout=TIMEOUT).raise_for_status(),
        )

        outbox = Outbox(env)
        staff = requests.Session()
        answer = post_form(
            staff, base + "/signin", {"identifier": staff_phone, "password": seed_scale.SEED_PASSWORD}
        )
        if answer.headers.get("Location", "").endswith("/signin/verify"):
            post_form(staff, base + "/signin/verify", {"code": outbox.code(staff_phone)})
        post_form(staff, base + "/staff/confirm", {"current_password": seed_scale.SEED_PASSWORD})
        post_form(staff, base + "/staff/confirm/code", {"code": outbox.code(staff_phone)})
        if staff.get(base + "/staff", timeout=TIMEOUT, allow_redirects=False).status_code != 200:
            raise RuntimeError("the staff console did not open")

        def search(text: str) -> None:
            answer = staff.get(base + "/staff", params={"q": text}, timeout=TIMEOUT, allow_redirects=False)
            if answer.status_code != 200:
                raise RuntimeError(f"search {text!r}: {answer.status_code}")

        timed("search_phone", args.requests, lambda i: search("0" + people[i][0][4:]))
        timed("search_email", args.requests, lambda i: search(people[i][1].upper()))
        timed("search_name", args.requests, lambda i: search(names[i]))

        admin = requests.Session()
        answer = post_form(
            admin, base + "/signin", {"identifier": admin_phone, "password": seed_scale.SEED_PASSWORD}
        )
        if answer.status_code != 302:
            raise RuntimeError("the administrator could not sign in")
        slow = max(5, args.requests // 10)

        def page(session: requests.Session, url: str) -> None:
            answer = session.get(base + url, timeout=TIMEOUT, allow_redirects=False)
            if answer.status_code != 200:
                raise RuntimeError(f"{url}: {answer.status_code}")

        timed("org_page", slow, lambda i: page(admin, "/org/1"))
        timed("staff_org", slow, lambda i: page(staff, "/staff/orgs/1"))
        owner = requests.Session()
        post_form(
            owner, base + "/signin", {"identifier": typical_phone, "password": seed_scale.SEED_PASSWORD}
        )
        timed("org_page_typical", slow, lambda i: page(owner, f"/org/{typical_org}"))
    finally:
        engine.dispose()
        stop_gunicorn(process)
    return {"database": database, "rows": facts, "results": results}


def argon2_ms(rounds: int = 20) -> float:
    """One Argon2id verification at the app's default cost, in this process (p50)."""
    from idp.security.passwords import OWASP_ITERATIONS, OWASP_MEMORY_KIB, _hasher_with

    hasher = _hasher_with(OWASP_MEMORY_KIB, OWASP_ITERATIONS)
    hashed = hasher.hash(seed_scale.SEED_PASSWORD)
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        hasher.verify(hashed, seed_scale.SEED_PASSWORD)
        samples.append((time.perf_counter() - t0) * 1000)
    return round(percentile(samples, 0.5), 2)


def table(run: dict) -> str:
    sizes = list(run["sizes"])
    head = f"{'':34}" + "".join(
        f" | {size + ' ' + str(run['sizes'][size]['rows']['profiles']):^19}" for size in sizes
    )
    lines = [head, f"{'':34}" + " | p50 ms    p99 ms " * len(sizes), "-" * (34 + 22 * len(sizes))]
    for key, label in ENDPOINTS.items():
        cells = ""
        for size in sizes:
            found = run["sizes"][size]["results"].get(key)
            cells += f" | {found['p50_ms']:8.2f} {found['p99_ms']:9.2f}" if found else f" | {'':19}"
        lines.append(f"{label:34}{cells}")
    lines.append(f"(Argon2id verification alone, in this process: {run['argon2id_verify_ms']} ms)")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="small,big", help="small, big or both (default)")
    parser.add_argument("--no-seed", action="store_true", help="use the databases seeded before")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    parser.add_argument("--warmup", type=int, default=5, help="unrecorded requests first")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--small-database", default="idp_scale_small")
    parser.add_argument("--big-database", default="idp_scale")
    parser.add_argument("--port", type=int, default=8056)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server-cores", default="0", help="taskset cores of gunicorn")
    parser.add_argument("--client-core", type=int, default=1, help="the core this script runs on")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    os.sched_setaffinity(0, {args.client_core})
    started = datetime.now(UTC)
    run = {
        "started_at": started.isoformat(timespec="seconds"),
        "parameters": {k: v for k, v in vars(args).items() if k != "pg_url"},
        "machine": machine(),
        "argon2id_verify_ms": argon2_ms(),
        "sizes": {},
    }
    for size in args.sizes.split(","):
        database = args.small_database if size == "small" else args.big_database
        if not args.no_seed:
            seed_args = seed_scale.parse_args(
                [
                    "--pg-url",
                    args.pg_url,
                    "--pg-database",
                    database,
                    *(["--small"] if size == "small" else []),
                ]
            )
            run.setdefault("seed_seconds", {})[size] = round(seed_scale.seed(seed_args)["total"], 1)
        run["sizes"][size] = measure_size(args, size, database)
    run["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(table(run))
    path = ARTIFACTS / f"scale_bench_{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    print(f"\nJSON: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
