"""``cluster``: the production shape on loopback, three Business ID instances behind a real HAProxy.

Each instance is its own server process: Granian as deploy/systemd runs it, the second one gunicorn
with ``deploy/gunicorn.conf.py``, one worker with one thread each. All use one PostgreSQL schema of
this module's and the tests' Redis, with the same keys, and the issuer is HAProxy's address. HAProxy
(Debian's, ``/usr/sbin/haproxy``) runs a copy of ``deploy/haproxy/haproxy.cfg`` (see
``haproxy_config``). Started once per module; PostgreSQL and Redis only (skipped without
IDP_TEST_DATABASE_URL and IDP_TEST_REDIS_URL).

Redis has no key prefix the settings could give, so every Redis key these tests count on is their
own: fresh clients, a fresh phone number and a fresh profile per run.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from flask import Flask

from tests.conftest import PG_URL, REDIS_URL, _drop_schema, _recreate_schema, postgres_url
from tests.peers.fixtures import PortHold, wait_until

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HAPROXY = Path("/usr/sbin/haproxy")
HAPROXY_CONFIG = REPO / "deploy" / "haproxy" / "haproxy.cfg"
INSTANCES = 3
SCHEMA = f"idp_scale_{os.getpid()}"
API_LIMIT = 9  # IDP_API_LIMIT_CLIENT of the instances, per hour
SMS_BUDGET = 5  # IDP_SMS_BUDGET_NUMBER of the instances, per hour
# What HAProxy's checks ask for: /readyz where the instances have it, else a page that needs the app.
HEALTH_PATHS = ("/readyz", "/.well-known/openid-configuration")
# The global lines of the shipped configuration that need root and Debian's folders.
PRIVILEGED = ("chroot ", "user ", "group ", "stats socket ")


def instance_settings(issuer: str, data_dir: Path) -> dict[str, str]:
    """The IDP_* environment every instance, worker and CLI call of the module shares."""
    return {
        "IDP_ENV": "development",  # production requires https; the proxy here speaks plain HTTP
        "IDP_ISSUER": issuer,
        "IDP_SECRET_KEY": secrets.token_urlsafe(32),
        "IDP_SECRETS_KEY": Fernet.generate_key().decode(),
        "IDP_DATABASE_URL": postgres_url(SCHEMA),
        "IDP_REDIS_URL": REDIS_URL,
        "IDP_TRUSTED_PROXIES": "1",
        "IDP_DATA_DIR": str(data_dir),
        "IDP_LOG_LEVEL": "WARNING",
        "IDP_DEFAULT_LOCALE": "en",
        "IDP_PASSWORD_HASH_MEMORY_KIB": "64",  # Argon2id at a test's cost
        "IDP_PASSWORD_HASH_ITERATIONS": "1",
        "IDP_POW_MAX_NUMBER": "5000",
        "IDP_ACCESS_TOKEN_MINUTES": "60",
        "IDP_API_LIMIT_CLIENT": f"{API_LIMIT}/hour",
        "IDP_SMS_BUDGET_NUMBER": f"{SMS_BUDGET}/hour",
        # Budgets and limits keyed by the loopback address or a number prefix are shared with every
        # other run on this Redis within the hour: out of the way.
        "IDP_SIGNIN_LIMIT_IP": "100000/minute",
        "IDP_SMS_BUDGET_IP": "100000/hour",
        "IDP_SMS_BUDGET_PREFIX": "100000/hour",
        "IDP_SMS_LIMIT_PREFIX": "100000/hour",
    }


def environment(settings: dict[str, str], **extra: str) -> dict[str, str]:
    """This process's environment without its IDP_* values, with ``settings`` and ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("IDP_")}
    return {**env, **settings, **extra}


def haproxy_config(path: Path) -> Path:
    """Write deploy/haproxy/haproxy.cfg as the tests run it to ``path``: without the global lines
    that need root, logging to its standard output, and a third server line beside APP1 and APP2."""
    lines = []
    for line in HAPROXY_CONFIG.read_text().splitlines():
        words = line.strip()
        if words.startswith(PRIVILEGED):
            continue
        if words == "log /dev/log local0":
            line = "    log stdout format raw local0"
        lines.append(line)
        if words.startswith("server app2 "):
            lines.append(line.replace("app2", "app3").replace("APP2", "APP3"))
    assert sum(line.strip().startswith("server app") for line in lines) == INSTANCES
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Process:
    """A program started by the cluster, its output in a log file."""

    name: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    """The running instances (their own URLs), HAProxy's URL and what they share."""

    proxy: str
    instances: list[str]
    env: dict[str, str]
    app: Flask  # an app of this process on the same database and Redis, for setting up
    folder: Path
    stats: str = ""
    processes: list[Process] = field(default_factory=list)

    def start(self, name: str, command: list[str], **extra: str) -> Process:
        log = self.folder / f"{name}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                command,
                env=environment(self.env, **extra),
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its workers stop with it
            )
        started = Process(name, process, log)
        self.processes.append(started)
        return started

    def idp(self, *arguments: str) -> str:
        """Run the ``idp`` command on the cluster's database; return its output."""
        done = subprocess.run(
            [str(BIN / "idp"), *arguments],
            env=environment(self.env),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"idp {' '.join(arguments)}:\n{done.stdout}{done.stderr}"
        return done.stdout

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in self.processes)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def health_path(base: str) -> str:
    """The first of HEALTH_PATHS the instance at ``base`` answers 200 to."""
    return next(path for path in HEALTH_PATHS if answers(base + path))


def servers_up(stats: str) -> set[str]:
    """Names of the backend servers HAProxy's status page (CSV) shows UP after a passed check."""
    text = requests.get(stats + "/;csv", timeout=2).text.removeprefix("# ")
    return {
        row["svname"]
        for row in csv.DictReader(io.StringIO(text))
        if row["pxname"] == "app" and row["status"] == "UP" and row["check_status"] == "L7OK"
    }


def start_cluster(folder: Path) -> Cluster:
    holds = [PortHold() for _ in range(INSTANCES + 2)]
    proxy_hold, stats_hold, instance_holds = holds[0], holds[1], holds[2:]
    proxy = f"http://127.0.0.1:{proxy_hold.port}"
    settings = instance_settings(proxy, folder)
    from idp import create_app
    from idp.config import load_config

    app = create_app(load_config(settings))
    cluster = Cluster(proxy, [f"http://127.0.0.1:{h.port}" for h in instance_holds], settings, app, folder)
    try:
        migrate = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert migrate.exit_code == 0, migrate.output
        with app.app_context():
            from idp.oauth.keys import ensure_keys

            ensure_keys(app.config["IDP_SIGNING_ALG"])
        for number, hold in enumerate(instance_holds, 1):
            hold.release()
            server = granian if number != 2 else gunicorn  # the production server, and the other one
            command, extra = server(hold.port)
            cluster.start(f"instance{number}", command, **extra)
        for url in cluster.instances:
            wait_until(lambda url=url: answers(url + HEALTH_PATHS[-1]), timeout=60, step=0.1)
        proxy_hold.release()
        stats_hold.release()
        cluster.stats = f"http://127.0.0.1:{stats_hold.port}"
        cluster.start(
            "haproxy",
            [str(HAPROXY), "-f", str(haproxy_config(folder / "haproxy.cfg")), "-db"],
            HAPROXY_BIND=f"127.0.0.1:{proxy_hold.port}",
            HAPROXY_STATS_BIND=f"127.0.0.1:{stats_hold.port}",
            IDP_HEALTH_PATH=health_path(cluster.instances[0]),
            SERVER_MAXCONN="1",  # one worker with one thread each
            **{f"APP{n}": url.removeprefix("http://") for n, url in enumerate(cluster.instances, 1)},
        )
        wait_until(lambda: _servers_up_or_none(cluster.stats) == {"app1", "app2", "app3"}, timeout=30)
    except Exception as error:
        logs = cluster.logs()
        stop_cluster(cluster)
        for hold in holds:
            hold.release()
        raise AssertionError(f"the cluster did not start:\n{logs}") from error
    return cluster


def _servers_up_or_none(stats: str) -> set[str] | None:
    try:
        return servers_up(stats)
    except requests.RequestException:
        return None


def granian(port: int) -> tuple[list[str], dict[str, str]]:
    """An instance as deploy/systemd/business-id.service runs it: Granian under SCHED_BATCH, one
    worker, one thread."""
    granian = [str(BIN / "granian"), "--interface", "wsgi", "--log-level", "warning", "idp.wsgi:app"]
    command = ["chrt", "--batch", "0", *granian]
    return command, {
        "GRANIAN_HOST": "127.0.0.1",
        "GRANIAN_PORT": str(port),
        "GRANIAN_WORKERS": "1",
        "GRANIAN_BLOCKING_THREADS": "1",
    }


def gunicorn(port: int) -> tuple[list[str], dict[str, str]]:
    """An instance under gunicorn with deploy/gunicorn.conf.py, one worker with one thread."""
    command = [str(BIN / "gunicorn"), "idp.wsgi:app", "-c", str(REPO / "deploy" / "gunicorn.conf.py")]
    return command, {
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "1",
        "GUNICORN_LOG_LEVEL": "warning",
    }


def stop_cluster(cluster: Cluster) -> None:
    cluster.stop()
    from idp.extensions import db

    with cluster.app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Show the end of every instance's log under a failed test that used the cluster."""
    outcome = yield
    report = outcome.get_result()
    cluster = getattr(item, "funcargs", {}).get("cluster")
    if report.failed and call.when == "call" and isinstance(cluster, Cluster):
        logs = "\n".join(
            f"--- {p.name}\n{p.output()[-4000:]}" for p in cluster.processes if p.name != "haproxy"
        )
        report.sections.append(("scale cluster logs", logs))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Cluster:
    """Three instances behind HAProxy on a schema of their own (PostgreSQL and Redis only)."""
    if not (PG_URL and REDIS_URL):
        pytest.skip(
            "several instances need PostgreSQL and Redis: set IDP_TEST_DATABASE_URL and IDP_TEST_REDIS_URL"
        )
    if not HAPROXY.exists():
        missing = "HAProxy is not installed: apt-get install -y haproxy"
        pytest.fail(missing) if os.environ.get("CI") else pytest.skip(missing)
    _recreate_schema(SCHEMA)
    started = start_cluster(tmp_path_factory.mktemp("scale"))
    yield started
    stop_cluster(started)
    _drop_schema(SCHEMA)
