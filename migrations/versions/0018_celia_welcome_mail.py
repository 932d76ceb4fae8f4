"""Celia customers: their scheduled welcome mail, which follows them until it is sent

Revision ID: 0018_celia_welcome_mail
Revises: 0017_ebook_transfer_discount
Create Date: 2026-12-02 14:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_celia_welcome_mail'
down_revision = '0017_ebook_transfer_discount'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('celia_customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('welcome_mail_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_celia_customer_welcome_mail_id_outbox_mail', 'outbox_mail',
                                    ['welcome_mail_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('celia_customer', schema=None) as batch_op:
        batch_op.drop_constraint('fk_celia_customer_welcome_mail_id_outbox_mail', type_='foreignkey')
        batch_op.drop_column('welcome_mail_id')
