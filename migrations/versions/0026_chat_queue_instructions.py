"""chat queue: the address of the customers' own service instructions

Revision ID: 0026_chat_queue_instructions
Revises: 0025_chat_rating
Create Date: 2026-12-07 18:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026_chat_queue_instructions'
down_revision = '0025_chat_rating'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_queue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instructions_url', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('chat_queue', schema=None) as batch_op:
        batch_op.drop_column('instructions_url')
