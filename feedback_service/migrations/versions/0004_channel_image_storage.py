"""channel image storage: local or an S3-compatible store

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:35:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S3_COLUMNS = (
    ("s3_endpoint", 2048),
    ("s3_bucket", 255),
    ("s3_region", 64),
    ("s3_access_key_id", 255),
    ("s3_secret_access_key", 255),
)


def upgrade():
    op.add_column(
        "channel",
        sa.Column("image_storage", sa.String(length=8), server_default="local", nullable=False),
    )
    for name, length in S3_COLUMNS:
        op.add_column("channel", sa.Column(name, sa.String(length=length), nullable=True))


def downgrade():
    for name, _ in reversed(S3_COLUMNS):
        op.drop_column("channel", name)
    op.drop_column("channel", "image_storage")
