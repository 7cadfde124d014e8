"""Fixtures: Kamailio with the shipped configuration on the registrar database, one per backend
and session (a plugin of tests/conftest.py, for tests/registrar and the registrar journey).

The registrar database is SQLite always (a file in WAL mode, as the product's writer keeps it)
and, when ``IDP_TEST_DATABASE_URL`` is set, a PostgreSQL database of its own (db_postgres cannot
set a search path, so not a schema): ``registrar_test_<pid>``, created and dropped here. Each test
process (``pytest -n``) has its own databases and Kamailio processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import sqlalchemy

from idp.registrar.schema import metadata, subscriber
from tests.peers.kamailio import Kamailio, Sipp, wait_for

PG_URL = os.environ.get("IDP_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
REALM = "business-id.test"
_numbers = itertools.count(1)


def ha1(user: str, password: str, algorithm=hashlib.md5) -> str:
    return algorithm(f"{user}:{REALM}:{password}".encode()).hexdigest()


class Registrar:
    """The registrar database of one backend, written as Business ID writes it."""

    def __init__(self, name: str, engine: sqlalchemy.Engine, kamailio_url: str, database: str = ""):
        self.name, self.engine, self.kamailio_url = name, engine, kamailio_url
        self.database = database  # PostgreSQL: the database of its own, dropped by drop()

    def drop(self) -> None:
        """Dispose of the engine; on PostgreSQL drop the database (under any connected reader)."""
        self.engine.dispose()
        if self.database:
            _admin(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            self.database = ""

    def new_number(self) -> str:
        """A number no other test of this process uses (11-12 digits)."""
        return f"79{os.getpid() % 100000:05d}{next(_numbers):04d}"

    def add(self, number: str, password: str = "secret", **settings) -> str:
        values = {
            "username": number,
            "domain": REALM,
            "ha1": ha1(number, password),
            "ha1_sha256": ha1(number, password, hashlib.sha256),
            "service": "test",
            "account": number,
        }
        values.update(settings)
        with self.engine.begin() as conn:
            conn.execute(subscriber.insert().values(**values))
        return number

    def update(self, number: str, **values) -> None:
        if "password" in values:
            password = values.pop("password")
            values["ha1"] = ha1(number, password)
            values["ha1_sha256"] = ha1(number, password, hashlib.sha256)
        with self.engine.begin() as conn:
            conn.execute(
                subscriber.update()
                .where(subscriber.c.username == number, subscriber.c.domain == REALM)
                .values(**values)
            )

    def delete(self, number: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(subscriber.delete().where(subscriber.c.username == number))


def _sqlite_registrar(tmp_path_factory) -> Registrar:
    path = tmp_path_factory.mktemp("registrar") / "registrar.sqlite3"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")  # persistent: Kamailio's reads never block
    metadata.create_all(engine)
    return Registrar("sqlite", engine, f"sqlite:///{path}")  # path is absolute: four slashes


def _admin(statement: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(statement)


def _postgres_registrar(name: str) -> Registrar:
    """A new PostgreSQL database ``name`` with the registrar's tables (dropped by ``drop``)."""
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin(f"CREATE DATABASE {name}")
    url = urlunsplit(urlsplit(PG_URL)._replace(path=f"/{name}", query=""))
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    metadata.create_all(engine)
    return Registrar("postgresql", engine, url.replace("postgresql://", "postgres://", 1), database=name)


@pytest.fixture(scope="session", params=BACKENDS)
def registrar(request, tmp_path_factory):
    """The registrar database (SQLite, then PostgreSQL when configured), with its tables."""
    if request.param == "sqlite":
        registrar = _sqlite_registrar(tmp_path_factory)
    else:
        registrar = _postgres_registrar(f"registrar_test_{os.getpid()}")
    yield registrar
    registrar.drop()


@contextlib.contextmanager
def dedicated_postgres_registrar(suffix: str):
    """A PostgreSQL registrar database and a Kamailio of their own (for a test that breaks them)."""
    registrar = _postgres_registrar(f"registrar_test_{os.getpid()}_{suffix}")
    try:
        kamailio = _kamailio(registrar)
        try:
            yield registrar, kamailio
        finally:
            kamailio.close()
    finally:
        registrar.drop()


def _kamailio(registrar: Registrar, **options):
    kamailio = Kamailio(registrar.kamailio_url, realm=REALM, **options)
    kamailio.start()
    return kamailio


@pytest.fixture(scope="session")
def kamailio(registrar):
    """Kamailio (MD5 digest) on the registrar database; its gateways are sipp ports the tests take."""
    kamailio = _kamailio(registrar)
    yield kamailio
    kamailio.close()


@pytest.fixture(scope="session")
def kamailio_sha256(registrar):
    """Kamailio defined WITH_SHA256 on the same database."""
    kamailio = _kamailio(registrar, sha256=True)
    yield kamailio
    kamailio.close()


@pytest.fixture
def sipp():
    """Start sipp endpoints: ``sipp(scenario, port=None, remote=None)``; all stopped afterwards."""
    started: list[Sipp] = []

    def make(scenario: str, port: int | None = None, remote=None) -> Sipp:
        endpoint = Sipp(scenario, port=port, remote=remote)
        started.append(endpoint)
        return endpoint

    yield make
    for endpoint in started:
        endpoint.close()


def listening(port: int) -> bool:
    """Whether something has bound UDP ``port`` on loopback (read from /proc, no race)."""
    suffix = f":{port:04X}"
    with open("/proc/net/udp") as table:
        return any(line.split()[1].endswith(suffix) for line in list(table)[1:])


def uas(sipp, scenario: str, port: int | None = None, calls: int = 1) -> Sipp:
    """A sipp UAS running ``scenario``, listening before this returns."""
    endpoint = sipp(scenario, port=port).start(calls=calls)
    wait_for(lambda: listening(endpoint.port) or endpoint.process.poll() is not None, 5, "sipp listening")
    assert endpoint.process.poll() is None, f"sipp {scenario} exited: {endpoint.wait()}"
    return endpoint
