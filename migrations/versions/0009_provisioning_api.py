"""The provisioning API: clients bound to one organisation, and the answers kept for an
``Idempotency-Key``.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("org_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_oauth_clients_org_id_organisations", "organisations", ["org_id"], ["id"], ondelete="CASCADE"
        )
    op.create_table(
        "api_idempotent_requests",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "key"),
    )
    op.create_index(
        "ix_api_idempotent_requests_created_at", "api_idempotent_requests", ["created_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_api_idempotent_requests_created_at", table_name="api_idempotent_requests")
    op.drop_table("api_idempotent_requests")
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_constraint("fk_oauth_clients_org_id_organisations", type_="foreignkey")
        batch_op.drop_column("org_id")
