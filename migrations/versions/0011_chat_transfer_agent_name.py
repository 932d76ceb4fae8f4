"""chat transfers keep the name customers saw for the transferring agent

Revision ID: 0011_chat_transfer_agent_name
Revises: 0010_chat_customer_presence
Create Date: 2026-12-02 01:25:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_chat_transfer_agent_name'
down_revision = '0010_chat_customer_presence'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_queue_transfer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agent_name', sa.String(length=60), nullable=True))


def downgrade():
    with op.batch_alter_table('chat_queue_transfer', schema=None) as batch_op:
        batch_op.drop_column('agent_name')
