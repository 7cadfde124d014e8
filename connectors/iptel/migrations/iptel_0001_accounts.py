"""IP telephony: accounts, call forwarding and e-mail links.

Revision ID: iptel_0001
Revises:
Depends on: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "iptel_0001"
down_revision = None
branch_labels = ("iptel",)
depends_on = "0005"


def upgrade():
    op.create_table(
        "iptel_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("password_sealed", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("forwarding_allowed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iptel_accounts")),
        sa.UniqueConstraint("number", name=op.f("uq_iptel_accounts_number")),
    )
    op.create_table(
        "iptel_forwardings",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("delay_seconds", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["iptel_accounts.id"],
            name=op.f("fk_iptel_forwardings_account_id_iptel_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "condition", name=op.f("pk_iptel_forwardings")),
    )
    op.create_table(
        "iptel_links",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["iptel_accounts.id"],
            name=op.f("fk_iptel_links_account_id_iptel_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iptel_links")),
    )
    op.create_index(
        "ix_iptel_links_account_id_created_at", "iptel_links", ["account_id", "created_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_iptel_links_account_id_created_at", table_name="iptel_links")
    op.drop_table("iptel_links")
    op.drop_table("iptel_forwardings")
    op.drop_table("iptel_accounts")
