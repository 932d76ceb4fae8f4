"""chat messages carry the sending page's key, so a resent message is stored once

Revision ID: 0009_chat_message_keys
Revises: 0008_chat_retention
Create Date: 2026-12-02 01:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0009_chat_message_keys'
down_revision = '0008_chat_retention'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_key', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint('uq_chat_message_client_key', ['conversation_id', 'client_key'])
    with op.batch_alter_table('chat_internal_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_key', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint('uq_chat_internal_message_client_key', ['conversation_id', 'client_key'])


def downgrade():
    with op.batch_alter_table('chat_internal_message', schema=None) as batch_op:
        batch_op.drop_constraint('uq_chat_internal_message_client_key', type_='unique')
        batch_op.drop_column('client_key')
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.drop_constraint('uq_chat_message_client_key', type_='unique')
        batch_op.drop_column('client_key')
