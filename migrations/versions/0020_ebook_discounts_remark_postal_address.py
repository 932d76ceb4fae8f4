"""e-book counter: discounts (the branch's reasons and maximum, the subscription's reason), the
customer's remark and postal address

Revision ID: 0020_ebook_discounts
Revises: 0019_outbox_secret_encrypted
Create Date: 2026-12-07 17:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020_ebook_discounts'
down_revision = '0019_outbox_secret_encrypted'
branch_labels = None
depends_on = None

CUSTOMER_COLUMNS = (('postal_street', 120), ('postal_house_number', 20), ('postal_postcode', 10),
                    ('postal_city', 80), ('remark', 1000))


def upgrade():
    with op.batch_alter_table('ebook_branch_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_reasons', sa.String(length=1000), server_default='', nullable=False))
        batch_op.add_column(sa.Column('max_discount_percent', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('ebook_customer', schema=None) as batch_op:
        for name, length in CUSTOMER_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), server_default='', nullable=False))
    with op.batch_alter_table('ebook_subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_percent', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('discount_reason', sa.String(length=100), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('ebook_subscription', schema=None) as batch_op:
        batch_op.drop_column('discount_reason')
        batch_op.drop_column('discount_percent')
    with op.batch_alter_table('ebook_customer', schema=None) as batch_op:
        for name, _length in reversed(CUSTOMER_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table('ebook_branch_settings', schema=None) as batch_op:
        batch_op.drop_column('max_discount_percent')
        batch_op.drop_column('discount_reasons')
