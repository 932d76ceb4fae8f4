"""e-book customers' IBANs encrypted at rest, as identity codes are; existing rows encrypted

Revision ID: 0016_ebook_iban_encrypted
Revises: 0015_outbox_secret
Create Date: 2026-12-02 01:50:00

"""
import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet
from flask import current_app

# revision identifiers, used by Alembic.
revision = '0016_ebook_iban_encrypted'
down_revision = '0015_outbox_secret'
branch_labels = None
depends_on = None


def _rows(connection):
    return connection.execute(sa.text("SELECT id, iban FROM ebook_customer WHERE iban IS NOT NULL AND iban != ''")).all()


def upgrade():
    with op.batch_alter_table('ebook_customer', schema=None) as batch_op:
        batch_op.alter_column('iban', existing_type=sa.String(length=34), type_=sa.Text(), existing_nullable=False)
    # The key of the application the migration runs in (flask db upgrade), as the model uses it.
    fernet = Fernet(current_app.config["IDENTITY_ENCRYPTION_KEY"].encode())
    connection = op.get_bind()
    for row_id, iban in _rows(connection):
        connection.execute(sa.text("UPDATE ebook_customer SET iban = :iban WHERE id = :id"),
                           {"iban": fernet.encrypt(iban.encode()).decode(), "id": row_id})


def downgrade():
    fernet = Fernet(current_app.config["IDENTITY_ENCRYPTION_KEY"].encode())
    connection = op.get_bind()
    for row_id, token in _rows(connection):
        connection.execute(sa.text("UPDATE ebook_customer SET iban = :iban WHERE id = :id"),
                           {"iban": fernet.decrypt(token.encode()).decode(), "id": row_id})
    with op.batch_alter_table('ebook_customer', schema=None) as batch_op:
        batch_op.alter_column('iban', existing_type=sa.Text(), type_=sa.String(length=34), existing_nullable=False)
