"""outbox: the one-time token a mail carries encrypted at rest; existing rows encrypted

Revision ID: 0019_outbox_secret_encrypted
Revises: 0018_celia_welcome_mail
Create Date: 2026-12-07 15:30:00

"""
import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet
from flask import current_app

# revision identifiers, used by Alembic.
revision = '0019_outbox_secret_encrypted'
down_revision = '0018_celia_welcome_mail'
branch_labels = None
depends_on = None


def _rows(connection):
    return connection.execute(
        sa.text("SELECT id, secret FROM outbox_mail WHERE secret IS NOT NULL AND secret != ''")).all()


def _rewrite(convert):
    connection = op.get_bind()
    for row_id, secret in _rows(connection):
        connection.execute(sa.text("UPDATE outbox_mail SET secret = :secret WHERE id = :id"),
                           {"secret": convert(secret.encode()).decode(), "id": row_id})


def upgrade():
    # The key of the application the migration runs in (flask db upgrade), as the model uses it.
    _rewrite(Fernet(current_app.config["IDENTITY_ENCRYPTION_KEY"].encode()).encrypt)


def downgrade():
    _rewrite(Fernet(current_app.config["IDENTITY_ENCRYPTION_KEY"].encode()).decrypt)
