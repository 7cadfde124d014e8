"""Indexes at scale (issue 18): what sign-in, userinfo, the staff console's search and the
organisation pages look up, so that a million profiles and millions of audit events keep them fast.

- profiles: lower(email), the staff console's search by address in any case;
- service_links and org_accounts: the account alone, and a link's label (the console's search of
  an account of any connector);
- audit_events: (profile_id, id) for a profile's newest events, in place of profile_id alone, and
  (actor_profile_id, id) for who did what (and ON DELETE SET NULL of a profile);
- on PostgreSQL only, trigram (pg_trgm) GIN indexes for ``LIKE '%…%'``: the audit events' details
  (the events that name an organisation or an account) and organisations' names (the console's
  search). The extension is installed if missing; on a server without it the migration fails and
  says so. SQLite gets empty indexes of the same names (``WHERE 0``, see idp.trigram).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = (
    ("ix_audit_events_details_trgm", "audit_events", "details"),
    ("ix_organisations_name_trgm", "organisations", "name"),
)


def _trigram_operator_class() -> str:
    """pg_trgm's operator class, named with the schema the extension is in (it may be off the
    search path, e.g. installed in ``public`` while the app's tables are in a schema of their own)."""
    bind = op.get_bind()
    bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    ).scalar_one()
    return f'"{schema}".gin_trgm_ops'


def upgrade():
    op.create_index("ix_profiles_email_lower", "profiles", [sa.text("lower(email)")], unique=False)
    op.create_index("ix_service_links_account", "service_links", ["account"], unique=False)
    op.create_index("ix_service_links_label", "service_links", ["label"], unique=False)
    op.create_index("ix_org_accounts_account", "org_accounts", ["account"], unique=False)
    op.create_index("ix_audit_events_profile_id_id", "audit_events", ["profile_id", "id"], unique=False)
    op.create_index(
        "ix_audit_events_actor_profile_id_id", "audit_events", ["actor_profile_id", "id"], unique=False
    )
    op.drop_index("ix_audit_events_profile_id", table_name="audit_events")
    if op.get_bind().dialect.name == "postgresql":
        operator_class = _trigram_operator_class()
        for name, table, column in TRIGRAM_INDEXES:
            op.execute(f"CREATE INDEX {name} ON {table} USING gin ({column} {operator_class})")
        # The planner knows lower(email)'s values only once the table is analysed with its index;
        # until then it walks the whole primary key instead (autovacuum may not analyse for long).
        op.execute("ANALYZE profiles")
    else:
        for name, table, column in TRIGRAM_INDEXES:
            op.create_index(name, table, [column], unique=False, sqlite_where=sa.text("0"))


def downgrade():
    for name, table, _column in TRIGRAM_INDEXES:
        op.drop_index(name, table_name=table)
    op.create_index("ix_audit_events_profile_id", "audit_events", ["profile_id"], unique=False)
    op.drop_index("ix_audit_events_actor_profile_id_id", table_name="audit_events")
    op.drop_index("ix_audit_events_profile_id_id", table_name="audit_events")
    op.drop_index("ix_org_accounts_account", table_name="org_accounts")
    op.drop_index("ix_service_links_label", table_name="service_links")
    op.drop_index("ix_service_links_account", table_name="service_links")
    op.drop_index("ix_profiles_email_lower", table_name="profiles")
