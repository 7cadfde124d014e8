"""The Alembic history builds exactly the schema the models describe, on SQLite and PostgreSQL."""

import json
import os

import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from idp import create_app
from idp.extensions import db
from tests.conftest import _drop_schema, _recreate_schema, postgres_url, settings_for

SCHEMA = f"idp_migrations_{os.getpid()}"


def _empty_database_settings(backend, tmp_path):
    settings = settings_for(backend, tmp_path)
    if backend == "postgresql":
        _recreate_schema(SCHEMA)
        settings["IDP_DATABASE_URL"] = postgres_url(SCHEMA)
    return settings


def test_migrations_match_models_and_downgrade(backend, tmp_path):
    app = create_app(_empty_database_settings(backend, tmp_path))
    with app.app_context():
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []
        downgrade(revision="base")
        tables = set(sqlalchemy.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()
    if backend == "postgresql":
        _drop_schema(SCHEMA)


BACKFILLED = [  # details as events kept them before 0015, and the refs the migration gives them
    {"org": 7, "role": "member"},
    {"connector": "multifon", "account": "+79260250730", "org": 7},
    {"accounts": ["multifon:+79260250730", "iptel:lviv-4:office"], "org": 8},
    {"connector": "iptel", "account": "kyiv-1"},
    {"org": "7", "connector": 5, "accounts": "multifon:+1"},
    {},
]


def test_existing_events_get_the_refs_their_details_name(backend, tmp_path):
    """Migration 0015 gives each event made before it the refs ``record`` gives a new one."""
    from idp.audit.refs import refs_of

    app = create_app(_empty_database_settings(backend, tmp_path))
    with app.app_context():
        upgrade(revision="0014")
        with db.engine.begin() as conn:
            for n, details in enumerate(BACKFILLED, start=1):
                conn.execute(
                    sqlalchemy.text(
                        "INSERT INTO audit_events (id, created_at, event, details) "
                        "VALUES (:id, CURRENT_TIMESTAMP, 'org.member_added', :details)"
                    ),
                    {"id": n, "details": json.dumps(details)},
                )
        upgrade(revision="0015")
        with db.engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text("SELECT event_id, ref FROM audit_event_refs")).all()
        found = {
            n: sorted(ref for event_id, ref in rows if event_id == n) for n in range(1, len(BACKFILLED) + 1)
        }
        assert found == {n: sorted(refs_of(details)) for n, details in enumerate(BACKFILLED, start=1)}
        assert found[3] == ["account:iptel:lviv-4:office", "account:multifon:+79260250730", "org:8"]
        downgrade(revision="base")
        db.engine.dispose()
    if backend == "postgresql":
        _drop_schema(SCHEMA)
