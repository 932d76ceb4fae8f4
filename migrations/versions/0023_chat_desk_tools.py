"""chat desk tools: canned replies and their uses, the customer's language on a conversation
(internal notes are chat lines of their own sender, "NOTE": no schema change)

Revision ID: 0023_chat_desk_tools
Revises: 0020_ebook_discounts
Create Date: 2026-12-07 17:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023_chat_desk_tools'
down_revision = '0020_ebook_discounts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('chat_conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=True))
    op.create_table(
        'chat_canned_reply',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('queue_id', sa.Integer(), nullable=True),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('text_fi', sa.Text(), server_default='', nullable=False),
        sa.Column('text_sv', sa.Text(), server_default='', nullable=False),
        sa.Column('text_en', sa.Text(), server_default='', nullable=False),
        sa.Column('text_nl', sa.Text(), server_default='', nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['staff_user.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['queue_id'], ['chat_queue.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('chat_canned_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_canned_reply_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_canned_reply_queue_id'), ['queue_id'], unique=False)
    op.create_table(
        'chat_canned_reply_use',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reply_id', sa.Integer(), nullable=False),
        sa.Column('queue_id', sa.Integer(), nullable=True),
        sa.Column('used_by_id', sa.Integer(), nullable=True),
        sa.Column('used_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['queue_id'], ['chat_queue.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reply_id'], ['chat_canned_reply.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['used_by_id'], ['staff_user.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('chat_canned_reply_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_canned_reply_use_reply_id'), ['reply_id'], unique=False)
        batch_op.create_index('ix_chat_canned_reply_use_queue_at', ['queue_id', 'used_at'], unique=False)


def downgrade():
    op.drop_table('chat_canned_reply_use')
    op.drop_table('chat_canned_reply')
    with op.batch_alter_table('chat_conversation', schema=None) as batch_op:
        batch_op.drop_column('language')
