"""search index: typed values, a per-channel feedback count and (on SQLite) an FTS5 index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:58:55.199106
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TEXT_COLUMNS = [f"c{n}" for n in range(16)]
# One FTS row per feedback (rowid = feedback id): a channel marker and a channel's text fields
# in c0..c15 by field id order. The trigger drops the row with its feedback, however it is
# deleted (by id, by a channel or project cascade).
FTS_STATEMENTS = (
    "CREATE VIRTUAL TABLE feedback_fts USING fts5("
    f"channel, {', '.join(TEXT_COLUMNS)}, tokenize='trigram')",
    "CREATE TRIGGER feedback_after_delete AFTER DELETE ON feedback BEGIN "
    "DELETE FROM feedback_fts WHERE rowid = old.id; END",
)
BACKFILL_BATCH = 5000


def upgrade():
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

    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("feedback_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE channel SET feedback_count = "
        "(SELECT count(*) FROM feedback WHERE feedback.channel_id = channel.id)"
    )

    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for statement in FTS_STATEMENTS:
            op.execute(statement)
    backfill(with_fts=sqlite)


def _index_rows(feedback_id, channel_id, data, fields):
    """One feedback's FTS row and value rows (a frozen copy of this revision's rules)."""
    fts = {"rowid": feedback_id, "channel": f"#{channel_id}#"}
    values = []
    text_fields = sorted(field_id for field_id, _key, fmt in fields if fmt == "text")
    for field_id, key, fmt in fields:
        value = data.get(key)
        if value is None:
            continue
        row = {"feedback_id": feedback_id, "field_id": field_id, "text_value": None}
        if fmt == "text" and isinstance(value, str):
            fts[TEXT_COLUMNS[text_fields.index(field_id)]] = value.casefold()
        elif fmt in ("keyword", "select", "date") and isinstance(value, str):
            values.append({**row, "text_value": value, "num_value": None})
        elif fmt == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            values.append({**row, "num_value": value})
        elif fmt == "multiSelect" and isinstance(value, list):
            values.extend(
                {**row, "text_value": item, "num_value": None} for item in dict.fromkeys(value)
            )
    return {column: fts.get(column) for column in ("rowid", "channel", *TEXT_COLUMNS)}, values


def backfill(with_fts):
    """Index the feedback that exists already, in batches."""
    bind = op.get_bind()
    fields_by_channel = {}
    for field_id, channel_id, key, fmt in bind.execute(
        sa.text("SELECT id, channel_id, key, format FROM field")
    ):
        fields_by_channel.setdefault(channel_id, []).append((field_id, key, fmt))
    value_table = sa.table(
        "feedback_value",
        *(sa.column(name) for name in ("feedback_id", "field_id", "text_value", "num_value")),
    )
    fts_table = sa.table(
        "feedback_fts", *(sa.column(c) for c in ("rowid", "channel", *TEXT_COLUMNS))
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
        fts_rows, values = [], []
        for feedback_id, channel_id, data in batch:
            document = json.loads(data) if isinstance(data, str) else data
            fts_row, more_values = _index_rows(
                feedback_id, channel_id, document, fields_by_channel.get(channel_id, [])
            )
            fts_rows.append(fts_row)
            values += more_values
        if with_fts:
            bind.execute(fts_table.insert(), fts_rows)
        if values:
            bind.execute(value_table.insert(), values)
        last_id = batch[-1][0]


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER feedback_after_delete")
        op.execute("DROP TABLE feedback_fts")
    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.drop_column("feedback_count")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_channel_id_updated_at")
        batch_op.drop_index("ix_feedback_channel_id")
    with op.batch_alter_table("feedback_value", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_value_text")
        batch_op.drop_index("ix_feedback_value_number")
        batch_op.drop_index(batch_op.f("ix_feedback_value_feedback_id"))
    op.drop_table("feedback_value")
