"""search index: typed values, text values and (on SQLite) an FTS5 trigram index over them

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:58:55.199106
"""

import json

import sqlalchemy as sa
from alembic import op

# The FTS5 table mirrors feedback_text (external content) through these triggers, so every
# insert, update and delete of a text value updates the index in the same transaction.
FTS_STATEMENTS = (
    "CREATE VIRTUAL TABLE feedback_text_fts USING fts5("
    "value, content='feedback_text', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER feedback_text_after_insert AFTER INSERT ON feedback_text BEGIN "
    "INSERT INTO feedback_text_fts(rowid, value) VALUES (new.id, new.value); END",
    "CREATE TRIGGER feedback_text_after_delete AFTER DELETE ON feedback_text BEGIN "
    "INSERT INTO feedback_text_fts(feedback_text_fts, rowid, value) "
    "VALUES ('delete', old.id, old.value); END",
    "CREATE TRIGGER feedback_text_after_update AFTER UPDATE ON feedback_text BEGIN "
    "INSERT INTO feedback_text_fts(feedback_text_fts, rowid, value) "
    "VALUES ('delete', old.id, old.value); "
    "INSERT INTO feedback_text_fts(rowid, value) VALUES (new.id, new.value); END",
)
BACKFILL_BATCH = 5000

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "feedback_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_text_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["field.id"],
            name=op.f("fk_feedback_text_field_id_field"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_text")),
    )
    with op.batch_alter_table("feedback_text", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_text_feedback_id"), ["feedback_id"], unique=False
        )

    op.create_table(
        "feedback_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("text_value", sa.Text(), nullable=True),
        sa.Column("num_value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_value_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["field.id"],
            name=op.f("fk_feedback_value_field_id_field"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_value")),
    )
    with op.batch_alter_table("feedback_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_value_feedback_id"), ["feedback_id"], unique=False
        )
        batch_op.create_index(
            "ix_feedback_value_number", ["field_id", "num_value", "feedback_id"], unique=False
        )
        batch_op.create_index(
            "ix_feedback_value_text", ["field_id", "text_value", "feedback_id"], unique=False
        )

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_channel_id", ["channel_id"], unique=False)
        batch_op.create_index(
            "ix_feedback_channel_id_updated_at", ["channel_id", "updated_at"], unique=False
        )

    if op.get_bind().dialect.name == "sqlite":
        for statement in FTS_STATEMENTS:
            op.execute(statement)
    backfill()


def _index_rows(feedback_id, data, fields):
    """The index rows of one feedback (a frozen copy of the rules at this revision)."""
    texts, values = [], []
    for field_id, key, fmt in fields:
        value = data.get(key)
        if value is None:
            continue
        if fmt == "text" and isinstance(value, str) and value:
            texts.append({"feedback_id": feedback_id, "field_id": field_id, "value": value})
        elif fmt in ("keyword", "select", "date") and isinstance(value, str):
            values.append({"feedback_id": feedback_id, "field_id": field_id, "text_value": value})
        elif fmt == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            values.append({"feedback_id": feedback_id, "field_id": field_id, "num_value": value})
        elif fmt == "multiSelect" and isinstance(value, list):
            values.extend(
                {"feedback_id": feedback_id, "field_id": field_id, "text_value": item}
                for item in value
                if isinstance(item, str)
            )
    return texts, values


def backfill():
    """Index the feedback that exists already, in batches."""
    bind = op.get_bind()
    fields_by_channel = {}
    for field_id, channel_id, key, fmt in bind.execute(
        sa.text("SELECT id, channel_id, key, format FROM field")
    ):
        fields_by_channel.setdefault(channel_id, []).append((field_id, key, fmt))
    feedback_text = sa.table(
        "feedback_text", sa.column("feedback_id"), sa.column("field_id"), sa.column("value")
    )
    feedback_value = sa.table(
        "feedback_value",
        sa.column("feedback_id"),
        sa.column("field_id"),
        sa.column("text_value"),
        sa.column("num_value"),
    )
    last_id = 0
    while True:
        batch = bind.execute(
            sa.text(
                "SELECT id, channel_id, data FROM feedback WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last_id, "n": BACKFILL_BATCH},
        ).all()
        if not batch:
            return
        texts, values = [], []
        for feedback_id, channel_id, data in batch:
            document = json.loads(data) if isinstance(data, str) else data
            more_texts, more_values = _index_rows(
                feedback_id, document, fields_by_channel.get(channel_id, [])
            )
            texts += more_texts
            values += [{"text_value": None, "num_value": None, **row} for row in more_values]
        if texts:
            bind.execute(feedback_text.insert(), texts)
        if values:
            bind.execute(feedback_value.insert(), values)
        last_id = batch[-1][0]


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("after_insert", "after_delete", "after_update"):
            op.execute(f"DROP TRIGGER feedback_text_{name}")
        op.execute("DROP TABLE feedback_text_fts")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_channel_id_updated_at")
        batch_op.drop_index("ix_feedback_channel_id")

    with op.batch_alter_table("feedback_value", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_value_text")
        batch_op.drop_index("ix_feedback_value_number")
        batch_op.drop_index(batch_op.f("ix_feedback_value_feedback_id"))

    op.drop_table("feedback_value")
    with op.batch_alter_table("feedback_text", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_text_feedback_id"))

    op.drop_table("feedback_text")
