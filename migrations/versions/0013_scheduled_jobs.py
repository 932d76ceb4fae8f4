"""scheduled jobs: when each background job is next due

Revision ID: 0013_scheduled_jobs
Revises: 0012_ebook_corrections
Create Date: 2026-12-02 01:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_scheduled_jobs'
down_revision = '0012_ebook_corrections'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scheduled_job',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('next_run_at', sa.DateTime(), nullable=False),
        sa.Column('last_run_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade():
    op.drop_table('scheduled_job')
