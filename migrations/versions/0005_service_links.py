"""Service connectors: links between profiles and their service accounts.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "service_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("connector", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_service_links_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_links")),
        sa.UniqueConstraint("connector", "account", "profile_id", name="uq_service_links_account_profile"),
    )
    with op.batch_alter_table("service_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_links_profile_id"), ["profile_id"], unique=False)
        batch_op.create_index(
            "uq_service_links_owner",
            ["connector", "account"],
            unique=True,
            sqlite_where=sa.text("role = 'owner'"),
            postgresql_where=sa.text("role = 'owner'"),
        )


def downgrade():
    with op.batch_alter_table("service_links", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_service_links_owner",
            sqlite_where=sa.text("role = 'owner'"),
            postgresql_where=sa.text("role = 'owner'"),
        )
        batch_op.drop_index(batch_op.f("ix_service_links_profile_id"))

    op.drop_table("service_links")
