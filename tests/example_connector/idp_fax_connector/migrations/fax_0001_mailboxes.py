"""Fax to e-mail: the fax numbers.

Revision ID: fax_0001
Revises:
Create Date: 2026-01-20

The first revision of the connector's own branch: it starts from nothing (down_revision None),
is labelled "fax", and runs after the core revision that created service_links.
"""

import sqlalchemy as sa
from alembic import op

revision = "fax_0001"
down_revision = None
branch_labels = ("fax",)
depends_on = "0005"


def upgrade():
    op.create_table(
        "fax_mailboxes",
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("disconnected_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_fax_mailboxes")),
    )


def downgrade():
    op.drop_table("fax_mailboxes")
