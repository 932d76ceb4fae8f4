"""e-book subscriptions: the transfer discount of a changed tariff ("Korting overdracht")

Revision ID: 0017_ebook_transfer_discount
Revises: 0016_ebook_iban_encrypted
Create Date: 2026-12-02 13:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_ebook_transfer_discount'
down_revision = '0016_ebook_iban_encrypted'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ebook_subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transfer_discount_cents', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('ebook_subscription', schema=None) as batch_op:
        batch_op.drop_column('transfer_discount_cents')
