"""Directory sync (SCIM 2.0) Groups: the roles a directory gave people before they accepted their
invitation.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scim_group_wants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("scim_user_id", sa.String(length=36), nullable=False),
        sa.Column("connector", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_scim_group_wants_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scim_user_id"],
            ["scim_users.id"],
            name=op.f("fk_scim_group_wants_scim_user_id_scim_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_group_wants")),
        sa.UniqueConstraint("scim_user_id", "connector", "account", "role", name="uq_scim_group_wants"),
    )
    op.create_index(op.f("ix_scim_group_wants_org_id"), "scim_group_wants", ["org_id"])
    op.create_index(op.f("ix_scim_group_wants_scim_user_id"), "scim_group_wants", ["scim_user_id"])


def downgrade():
    op.drop_index(op.f("ix_scim_group_wants_scim_user_id"), table_name="scim_group_wants")
    op.drop_index(op.f("ix_scim_group_wants_org_id"), table_name="scim_group_wants")
    op.drop_table("scim_group_wants")
