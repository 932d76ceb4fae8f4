"""ebook: ending a customer, branch settings (login address, card formats), no stored receipt
password; notices for some areas and units; a guidance session's NEVER rule 1 exception

Revision ID: 0012_ebook_corrections
Revises: 0011_chat_transfer_agent_name
Create Date: 2026-12-02 00:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0012_ebook_corrections"
down_revision = "0011_chat_transfer_agent_name"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ebook_branch_settings",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("login_url", sa.String(length=200), nullable=False),
        sa.Column("card_formats", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("unit_id"),
    )
    with op.batch_alter_table("ebook_customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("end_reason", sa.String(length=200), server_default="", nullable=False))
        # The one-time password is shown by the request that makes it; no copy is kept for later.
        batch_op.drop_column("password_to_print")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("areas", sa.String(length=100), server_default="", nullable=False))
    with op.batch_alter_table("guide_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("never_1_exception_at", sa.DateTime(), nullable=True))
    op.create_table(
        "notice_unit",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("notice_id", "unit_id"),
    )


def downgrade():
    with op.batch_alter_table("guide_session", schema=None) as batch_op:
        batch_op.drop_column("never_1_exception_at")
    op.drop_table("notice_unit")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("areas")
    with op.batch_alter_table("ebook_customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_to_print", sa.String(length=255), nullable=True))
        batch_op.drop_column("end_reason")
        batch_op.drop_column("ended_on")
    op.drop_table("ebook_branch_settings")
