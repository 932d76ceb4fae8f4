"""staff users' session version, raised to end every session of a user

Revision ID: 0014_session_version
Revises: 0013_scheduled_jobs
Create Date: 2026-12-02 00:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_session_version'
down_revision = '0013_scheduled_jobs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
