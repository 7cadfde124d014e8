"""A spent SMS code (its wrong tries used up) is followed by a new challenge: the spent one names
it, so every request of the flow goes on with the new code and the spent one stays spent.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sms_challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renewed_by", sa.String(length=43), nullable=True))


def downgrade():
    with op.batch_alter_table("sms_challenges", schema=None) as batch_op:
        batch_op.drop_column("renewed_by")
