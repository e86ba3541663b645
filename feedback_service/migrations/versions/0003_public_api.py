"""public api: boards, end users, votes, comments, public keys, identity verification

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 16:38:28.723939

New columns are added in place (never a batch copy): rebuilding ``feedback`` on SQLite would
copy every row and drop the FTS delete trigger.
"""

import sqlalchemy as sa
from alembic import op

from feedback_service.models.base import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "end_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("avatar_url", sa.String(length=2048), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("verified_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_end_user_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_end_user")),
        sa.UniqueConstraint(
            "project_id", "external_id", name=op.f("uq_end_user_project_id_external_id")
        ),
    )
    op.create_table(
        "public_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel.id"],
            name=op.f("fk_public_key_channel_id_channel"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["project.id"],
            name=op.f("fk_public_key_project_id_project"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_key")),
        sa.UniqueConstraint("key", name=op.f("uq_public_key_key")),
    )

    op.add_column(
        "channel", sa.Column("is_board", sa.Boolean(), server_default="0", nullable=False)
    )
    op.add_column("project", sa.Column("identity_secret", sa.String(length=128), nullable=True))
    op.add_column(
        "project",
        sa.Column("identity_required", sa.Boolean(), server_default="0", nullable=False),
    )
    op.add_column(
        "project", sa.Column("allowed_origins", sa.JSON(), server_default="[]", nullable=False)
    )

    op.add_column("feedback", sa.Column("public_id", sa.String(length=32), nullable=True))
    op.add_column(
        "feedback", sa.Column("vote_count", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "feedback", sa.Column("comment_count", sa.Integer(), server_default="0", nullable=False)
    )
    _add_feedback_end_user_id()
    op.add_column("feedback", sa.Column("meta", sa.JSON(), nullable=True))
    op.create_index("ix_feedback_public_id", "feedback", ["public_id"], unique=True)
    op.create_index(
        "ix_feedback_channel_id_vote_count", "feedback", ["channel_id", "vote_count", "id"]
    )
    op.create_index(
        "ix_feedback_channel_id_comment_count", "feedback", ["channel_id", "comment_count", "id"]
    )
    op.create_index(op.f("ix_feedback_end_user_id"), "feedback", ["end_user_id"])

    op.create_table(
        "comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("end_user_id", sa.Integer(), nullable=True),
        sa.Column("is_team", sa.Boolean(), nullable=False),
        sa.Column("author_name", sa.String(length=255), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["end_user_id"],
            ["end_user.id"],
            name=op.f("fk_comment_end_user_id_end_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_comment_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
        sa.UniqueConstraint("public_id", name=op.f("uq_comment_public_id")),
    )
    op.create_index(op.f("ix_comment_end_user_id"), "comment", ["end_user_id"])
    op.create_index("ix_comment_feedback_id_id", "comment", ["feedback_id", "id"])

    op.create_table(
        "vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(length=80), nullable=False),
        sa.Column("end_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["end_user_id"],
            ["end_user.id"],
            name=op.f("fk_vote_end_user_id_end_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_vote_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote")),
        sa.UniqueConstraint("feedback_id", "voter_key", name=op.f("uq_vote_feedback_id_voter_key")),
    )
    op.create_index(op.f("ix_vote_end_user_id"), "vote", ["end_user_id"])


def _add_feedback_end_user_id():
    name = op.f("fk_feedback_end_user_id_end_user")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, but it can add a column that carries one.
        op.execute(
            "ALTER TABLE feedback ADD COLUMN end_user_id INTEGER "
            f"CONSTRAINT {name} REFERENCES end_user (id)"
        )
        return
    op.add_column("feedback", sa.Column("end_user_id", sa.Integer(), nullable=True))
    op.create_foreign_key(name, "feedback", "end_user", ["end_user_id"], ["id"])


def downgrade():
    op.drop_table("vote")
    op.drop_table("comment")
    for index in (
        "ix_feedback_end_user_id",
        "ix_feedback_channel_id_comment_count",
        "ix_feedback_channel_id_vote_count",
        "ix_feedback_public_id",
    ):
        op.drop_index(index, table_name="feedback")
    # The foreign key on end_user_id makes SQLite rebuild the table, which drops its triggers:
    # the FTS delete trigger of revision 0002 is put back.
    with op.batch_alter_table("feedback") as batch_op:
        for column in ("meta", "end_user_id", "comment_count", "vote_count", "public_id"):
            batch_op.drop_column(column)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER feedback_after_delete AFTER DELETE ON feedback BEGIN "
            "DELETE FROM feedback_fts WHERE rowid = old.id; END"
        )
    for column in ("allowed_origins", "identity_required", "identity_secret"):
        op.drop_column("project", column)
    op.drop_column("channel", "is_board")
    op.drop_table("public_key")
    op.drop_table("end_user")
