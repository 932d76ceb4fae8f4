"""chat customers' presence: their page's sockets, last heard of, gone since

Revision ID: 0010_chat_customer_presence
Revises: 0009_chat_message_keys
Create Date: 2026-12-02 00:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_chat_customer_presence'
down_revision = '0009_chat_message_keys'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_sockets', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('customer_seen_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('customer_gone_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('chat_conversation', schema=None) as batch_op:
        batch_op.drop_column('customer_gone_at')
        batch_op.drop_column('customer_seen_at')
        batch_op.drop_column('customer_sockets')
