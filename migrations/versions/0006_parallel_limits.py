"""Limits that hold under parallel requests: lock rows, proofs of work, SMS budgets by kind, and
the ID token algorithm of each client.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "proof_solutions",
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_proof_solutions")),
    )
    op.create_table(
        "serial_locks",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_serial_locks")),
    )
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_token_signed_response_alg", sa.String(length=8), nullable=True))

    with op.batch_alter_table("sms_challenges", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("budget", sa.String(length=8), nullable=False, server_default="stranger")
        )


def downgrade():
    with op.batch_alter_table("sms_challenges", schema=None) as batch_op:
        batch_op.drop_column("budget")

    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("id_token_signed_response_alg")

    op.drop_table("serial_locks")
    op.drop_table("proof_solutions")
