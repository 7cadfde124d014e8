"""IP telephony: e-mail addresses in the one form Business ID keeps every address in.

Accounts connected before kept the case of the part before the @ ("Office@example.com"), while
profiles, invitations and the outbox lower-case the whole address. This lower-cases the addresses
of the accounts and of their e-mail links, in Python (``str.lower``, as ``normalise_email`` does,
so non-Latin letters are treated alike on SQLite and PostgreSQL). No column of them is unique, so
two spellings of one address simply become the same address; nothing can collide.

Revision ID: iptel_0002
Revises: iptel_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "iptel_0002"
down_revision = "iptel_0001"
branch_labels = None
depends_on = None

TABLES = ("iptel_accounts", "iptel_links")


def upgrade():
    connection = op.get_bind()
    for name in TABLES:
        table = sa.table(name, sa.column("id"), sa.column("email", sa.String(254)))
        rows = connection.execute(sa.select(table.c.id, table.c.email)).all()
        for row_id, email in rows:
            if email != email.strip().lower():
                connection.execute(
                    sa.update(table).where(table.c.id == row_id).values(email=email.strip().lower())
                )


def downgrade():
    """The case people once typed is not kept: a lower-case address reaches the same mailbox."""
