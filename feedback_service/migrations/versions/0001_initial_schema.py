"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 14:34:11.830171
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import feedback_service.models.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("timezone", sa.JSON(), nullable=False),
        sa.Column("created_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("name", name=op.f("uq_project_name")),
    )
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", feedback_service.models.base.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", feedback_service.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_api_key_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key_key_hash")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_prefix"), ["prefix"], unique=False)

    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_category_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_category_project_id_name")),
    )
    op.create_table(
        "channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("feedback_search_max_days", sa.Integer(), nullable=False),
        sa.Column("image_domains", sa.JSON(), nullable=False),
        sa.Column("created_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_channel_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_channel_project_id_name")),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel.id"],
            name=op.f("fk_feedback_channel_id_channel"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(
            "ix_feedback_channel_id_created_at", ["channel_id", "created_at"], unique=False
        )

    op.create_table(
        "field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "format",
            sa.Enum(
                "text",
                "keyword",
                "number",
                "select",
                "multiSelect",
                "date",
                "images",
                name="fieldformat",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "property",
            sa.Enum("READ_ONLY", "EDITABLE", name="fieldproperty", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("ACTIVE", "INACTIVE", name="fieldstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("created_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel.id"],
            name=op.f("fk_field_channel_id_channel"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field")),
        sa.UniqueConstraint("channel_id", "key", name=op.f("uq_field_channel_id_key")),
        sa.UniqueConstraint("channel_id", "name", name=op.f("uq_field_channel_id_name")),
    )
    op.create_table(
        "issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "INIT",
                "ON_REVIEW",
                "IN_PROGRESS",
                "RESOLVED",
                "PENDING",
                name="issuestatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("external_issue_id", sa.String(length=255), nullable=True),
        sa.Column("feedback_count", sa.Integer(), nullable=False),
        sa.Column("created_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_issue_category_id_category"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_issue_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issue")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_issue_project_id_name")),
    )
    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issue_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issue_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_issue_feedback_count"), ["feedback_count"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_issue_status"), ["status"], unique=False)

    op.create_table(
        "feedback_issue",
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("created_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_issue_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["issue.id"],
            name=op.f("fk_feedback_issue_issue_id_issue"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feedback_id", "issue_id", name=op.f("pk_feedback_issue")),
    )
    with op.batch_alter_table("feedback_issue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_issue_issue_id"), ["issue_id"], unique=False)

    op.create_table(
        "option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", feedback_service.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["field_id"], ["field.id"], name=op.f("fk_option_field_id_field"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_option")),
        sa.UniqueConstraint("field_id", "key", name=op.f("uq_option_field_id_key")),
    )


def downgrade():
    op.drop_table("option")
    with op.batch_alter_table("feedback_issue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_issue_issue_id"))

    op.drop_table("feedback_issue")
    with op.batch_alter_table("issue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issue_status"))
        batch_op.drop_index(batch_op.f("ix_issue_feedback_count"))
        batch_op.drop_index(batch_op.f("ix_issue_created_at"))
        batch_op.drop_index(batch_op.f("ix_issue_category_id"))

    op.drop_table("issue")
    op.drop_table("field")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_channel_id_created_at")

    op.drop_table("feedback")
    op.drop_table("channel")
    op.drop_table("category")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_prefix"))

    op.drop_table("api_key")
    op.drop_table("project")
