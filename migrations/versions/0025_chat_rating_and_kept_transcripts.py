"""chat: the customer's rating of a chat, and the queue setting that asks for it

Revision ID: 0025_chat_rating
Revises: 0023_chat_desk_tools
Create Date: 2026-12-07 17:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025_chat_rating'
down_revision = '0023_chat_desk_tools'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_queue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asks_rating', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('chat_conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating', sa.Enum('YES', 'PARTLY', 'NO', name='rating', native_enum=False,
                                                        length=10), nullable=True))
        batch_op.add_column(sa.Column('rating_comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('rated_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('chat_conversation', schema=None) as batch_op:
        batch_op.drop_column('rated_at')
        batch_op.drop_column('rating_comment')
        batch_op.drop_column('rating')

    with op.batch_alter_table('chat_queue', schema=None) as batch_op:
        batch_op.drop_column('asks_rating')
