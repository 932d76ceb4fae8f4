"""outbox: the one-time token a mail carries, kept apart from the body until sent

Revision ID: 0015_outbox_secret
Revises: 0014_session_version
Create Date: 2026-12-02 00:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_outbox_secret'
down_revision = '0014_session_version'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_column('secret')
