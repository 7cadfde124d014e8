"""``idp registrar run`` (``make registrar``): Kamailio with the shipped configuration beside the
app, on the app's registrar database, realm and control socket; the PostgreSQL set-up script."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import sqlalchemy

from idp.registrar.schema import metadata
from tests.peers import sip
from tests.peers.kamailio import free_udp_port, wait_for
from tests.peers.registrar import PG_URL

ROOT = Path(__file__).resolve().parents[2]


def test_registrar_run_serves_the_demo_accounts(tmp_path):
    port = free_udp_port()
    run_dir = tmp_path / "kam"
    env = {
        **os.environ,
        "IDP_DATA_DIR": str(tmp_path),
        "IDP_CONNECTORS": "multifon,iptel",
        "IDP_REGISTRAR_DATABASE_URL": f"sqlite:///{tmp_path / 'registrar.sqlite3'}",
        "IDP_REGISTRAR_RPC": f"unix:{run_dir / 'kamailio_rpc.sock'}",
        "IDP_LOG_LEVEL": "WARNING",
    }
    idp = [str(Path(sys.executable).parent / "idp")]
    subprocess.run([*idp, "db", "upgrade"], env=env, check=True, capture_output=True, cwd=tmp_path)
    demo = subprocess.run([*idp, "demo"], env=env, check=True, capture_output=True, text=True, cwd=tmp_path)
    login, password = re.search(r"user +(79\d+) +password +(\S+)", demo.stdout).groups()
    log = tmp_path / "kamailio.log"
    with log.open("wb") as output:  # a file, not a pipe nobody reads: Kamailio logs a lot
        kamailio = subprocess.Popen(
            [*idp, "registrar", "run", "--listen", f"udp:127.0.0.1:{port}"],
            env=env,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(
            lambda: (run_dir / "kamailio_rpc.sock").exists() or kamailio.poll() is not None, 15, "Kamailio"
        )
        assert kamailio.poll() is None, kamailio.stdout.read().decode()
        status = wait_for(lambda: _register(port, login, password), 10, "a REGISTER answered")
        assert status == 200
        assert _register(port, login, "wrong-password") == 403
        status = subprocess.run(
            [*idp, "registrar", "status", login], env=env, capture_output=True, text=True, cwd=tmp_path
        )
        assert "  in step" in status.stdout and f"sip:{login}@127.0.0.1" in status.stdout, status.stdout
    finally:
        kamailio.send_signal(signal.SIGTERM)
        kamailio.wait(10)


def _register(port: int, login: str, password: str) -> int | None:
    try:
        return sip.register(("127.0.0.1", port), login, password, "business-id.test", timeout=1)
    except TimeoutError:
        return None


@pytest.mark.skipif(not PG_URL, reason="needs IDP_TEST_DATABASE_URL (PostgreSQL)")
def test_the_postgresql_script_makes_the_table_the_product_writes():
    """deploy/kamailio/registrar-postgres.sql's table is the one of idp/registrar/schema.py."""
    script = (ROOT / "deploy" / "kamailio" / "registrar-postgres.sql").read_text()
    table = re.search(r"CREATE TABLE subscriber \(.*?\n\);", script, re.S).group(0)
    schema = f"registrar_script_{os.getpid()}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            conn.execute(f"SET search_path TO {schema}")
            conn.execute(table)
            engine = sqlalchemy.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
            try:
                inspector = sqlalchemy.inspect(engine)
                columns = {c["name"]: str(c["type"]) for c in inspector.get_columns("subscriber", schema)}
                uniques = {
                    tuple(u["column_names"]) for u in inspector.get_unique_constraints("subscriber", schema)
                }
            finally:
                engine.dispose()
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    wanted = metadata.tables["subscriber"]
    assert columns == {c.name: str(c.type.compile(dialect=engine.dialect)) for c in wanted.columns}
    assert uniques == {("username", "domain"), ("service", "account")}
