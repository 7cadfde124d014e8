"""Delivery states: retries, expiry, claims by workers, SMSC message parts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:03:44.703121

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "message_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("smsc_id", sa.String(length=65), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_parts_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_parts")),
    )
    with op.batch_alter_table("message_parts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_parts_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_parts_smsc_id"), ["smsc_id"], unique=False)

    with op.batch_alter_table("messages", schema=None) as batch_op:
        # Rows queued before this revision are due at once.
        batch_op.add_column(
            sa.Column(
                "next_attempt_at", sa.DateTime(), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")
            )
        )
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_messages_external_id"), ["external_id"], unique=False)


def downgrade():
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_external_id"))
        batch_op.drop_column("external_id")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("next_attempt_at")

    with op.batch_alter_table("message_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_parts_smsc_id"))
        batch_op.drop_index(batch_op.f("ix_message_parts_message_id"))

    op.drop_table("message_parts")
