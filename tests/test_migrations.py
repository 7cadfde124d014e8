"""The Alembic history builds exactly the schema the models describe, on SQLite and PostgreSQL."""

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
