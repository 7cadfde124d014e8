"""The Alembic history builds exactly the schema the models describe, on SQLite and PostgreSQL."""

import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from idp import create_app
from idp.extensions import db
from tests.conftest import PG_URL, _sqlalchemy_url, test_settings


def _empty_database_settings(backend, tmp_path):
    settings = test_settings(backend, tmp_path)
    if backend == "postgresql":
        engine = sqlalchemy.create_engine(_sqlalchemy_url(PG_URL))
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("DROP SCHEMA IF EXISTS idp_migrations CASCADE"))
            conn.execute(sqlalchemy.text("CREATE SCHEMA idp_migrations"))
        engine.dispose()
        settings["IDP_DATABASE_URL"] = settings["IDP_DATABASE_URL"].replace(
            "idp_test", "idp_migrations")
    return settings


def test_migrations_match_models_and_downgrade(backend, tmp_path):
    app = create_app(_empty_database_settings(backend, tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == []
        downgrade(revision="base")
        tables = set(sqlalchemy.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()
