"""chat desk: each agent's desktop notification choices

Revision ID: 0028_chat_notify_preference
Revises: 0027_chat_widget
Create Date: 2026-12-07 18:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028_chat_notify_preference'
down_revision = '0027_chat_widget'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'chat_notify_preference',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('customers', sa.Boolean(), nullable=False),
        sa.Column('messages', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )


def downgrade():
    op.drop_table('chat_notify_preference')
