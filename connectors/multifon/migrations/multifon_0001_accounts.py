"""MultiFon Business: provisioned accounts, calls per day and SIP password reminders.

Revision ID: multifon_0001
Revises:
Depends on: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "multifon_0001"
down_revision = None
branch_labels = ("multifon",)
depends_on = "0005"


def upgrade():
    op.create_table(
        "multifon_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("sip_password_sealed", sa.String(length=400), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tariff_option", sa.String(length=100), nullable=True),
        sa.Column("caller_id", sa.String(length=16), nullable=True),
        sa.Column("routing", sa.String(length=8), nullable=False),
        sa.Column("trunk_lines", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_multifon_accounts")),
        sa.UniqueConstraint("number", name=op.f("uq_multifon_accounts_number")),
    )
    op.create_table(
        "multifon_call_days",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["multifon_accounts.id"],
            name=op.f("fk_multifon_call_days_account_id_multifon_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_multifon_call_days")),
    )
    op.create_table(
        "multifon_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_multifon_reminders_profile_id_profiles"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_multifon_reminders")),
    )
    op.create_index(
        "ix_multifon_reminders_number_sent_at", "multifon_reminders", ["number", "sent_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_multifon_reminders_number_sent_at", table_name="multifon_reminders")
    op.drop_table("multifon_reminders")
    op.drop_table("multifon_call_days")
    op.drop_table("multifon_accounts")
