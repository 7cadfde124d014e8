"""Signing keys of the provider, private halves encrypted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:40:17.254611

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("private_pem_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.Column("unpublish_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signing_keys_state"), ["state"], unique=False)


def downgrade():
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_keys_state"))

    op.drop_table("signing_keys")
