"""chat: the website chat button's allowed origins and language per queue

Revision ID: 0027_chat_widget
Revises: 0026_chat_queue_instructions
Create Date: 2026-12-07 18:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027_chat_widget'
down_revision = '0026_chat_queue_instructions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_queue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('embed_origins', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('widget_language', sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table('chat_queue', schema=None) as batch_op:
        batch_op.drop_column('widget_language')
        batch_op.drop_column('embed_origins')
