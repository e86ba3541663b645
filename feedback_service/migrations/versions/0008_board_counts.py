"""board counts: each board's feedback counted per status and type

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 11:00:00.000000

The public API lists a board filtered by status and type, sorted, with the exact total.
Counting a million feedback per request took half a second; ``board_count`` holds the count
per (board, status, type), kept by triggers on ``feedback`` in the transaction of every
insert, delete and change of its values, whoever makes it (the app, ``copy-db``, a bulk load,
SQL typed by hand). A missing status or type counts under ''. There is no model: the table is
derived, so ``copy-db`` rebuilds it (through the triggers) rather than copying it.

A later batch migration of ``feedback`` on SQLite rebuilds the table and drops these triggers
with it: such a migration must create them again.
"""

import sqlalchemy as sa
from alembic import op

from feedback_service.models.base import Int64
from feedback_service.models.board import BOARD_COUNT_TABLE

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = BOARD_COUNT_TABLE
# A value as repositories.board_counts.board_value reads it.
SQLITE_VALUE = "json_extract({data}, '$.{key}')"
POSTGRESQL_VALUE = "({data} ->> '{key}')"
KEYS = ("status", "type")


def _values(template: str, row: str) -> tuple[str, ...]:
    """The row's status and type, '' when missing, as SQL."""
    return tuple(f"coalesce({template.format(data=f'{row}.data', key=key)}, '')" for key in KEYS)


def _is_board(row: str) -> str:
    return f"(SELECT is_board FROM channel WHERE id = {row}.channel_id)"


def _key(row: str, template: str) -> str:
    """The counter a row counts under, as an SQL row value."""
    return f"({row}.channel_id, {', '.join(_values(template, row))})"


def _count(row: str, template: str, delta: int) -> str:
    status, type_ = _values(template, row)
    return (
        f"INSERT INTO {TABLE} (channel_id, status, type, feedback_count) "
        f"SELECT {row}.channel_id, {status}, {type_}, {delta} WHERE {_is_board(row)} "
        "ON CONFLICT (channel_id, status, type) "
        f"DO UPDATE SET feedback_count = {TABLE}.feedback_count + {delta}"
    )


SQLITE_TRIGGERS = {
    "board_count_insert": f"AFTER INSERT ON feedback BEGIN {_count('NEW', SQLITE_VALUE, 1)}; END",
    "board_count_delete": f"AFTER DELETE ON feedback BEGIN {_count('OLD', SQLITE_VALUE, -1)}; END",
    # Only when the row moves to another counter: most edits change other values.
    "board_count_update": (
        "AFTER UPDATE OF data, channel_id ON feedback "
        f"WHEN {_key('OLD', SQLITE_VALUE)} IS NOT {_key('NEW', SQLITE_VALUE)} BEGIN "
        f"{_count('OLD', SQLITE_VALUE, -1)}; {_count('NEW', SQLITE_VALUE, 1)}; END"
    ),
}
# As on SQLite; a row moving to another counter changes the two counters in key order, so that
# two opposite moves (writers do not queue here) cannot deadlock on each other's counter.
POSTGRESQL_FUNCTION = (
    "CREATE FUNCTION board_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    f"IF TG_OP = 'INSERT' THEN {_count('NEW', POSTGRESQL_VALUE, 1)}; "
    f"ELSIF TG_OP = 'DELETE' THEN {_count('OLD', POSTGRESQL_VALUE, -1)}; "
    f"ELSIF {_key('OLD', POSTGRESQL_VALUE)} < {_key('NEW', POSTGRESQL_VALUE)} THEN "
    f"{_count('OLD', POSTGRESQL_VALUE, -1)}; {_count('NEW', POSTGRESQL_VALUE, 1)}; "
    f"ELSIF {_key('OLD', POSTGRESQL_VALUE)} > {_key('NEW', POSTGRESQL_VALUE)} THEN "
    f"{_count('NEW', POSTGRESQL_VALUE, 1)}; {_count('OLD', POSTGRESQL_VALUE, -1)}; "
    "END IF; "
    "RETURN NULL; "
    "END $$"
)
POSTGRESQL_TRIGGER = (
    "CREATE TRIGGER board_count_changed AFTER INSERT OR DELETE OR UPDATE OF data, channel_id "
    "ON feedback FOR EACH ROW EXECUTE FUNCTION board_count_changed()"
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("channel_id", Int64, nullable=False),
        sa.Column("status", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("feedback_count", Int64, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channel.id"],
            name=op.f("fk_board_count_channel_id_channel"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "status", "type", name=op.f("pk_board_count")),
    )
    template = POSTGRESQL_VALUE if _postgresql() else SQLITE_VALUE
    status, type_ = _values(template, "feedback")
    op.execute(
        f"INSERT INTO {TABLE} (channel_id, status, type, feedback_count) "
        f"SELECT feedback.channel_id, {status}, {type_}, count(*) FROM feedback "
        "JOIN channel ON channel.id = feedback.channel_id WHERE channel.is_board "
        f"GROUP BY feedback.channel_id, {status}, {type_}"
    )
    if _postgresql():
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_TRIGGER)
    else:
        for name, definition in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {definition}")


def downgrade():
    if _postgresql():
        op.execute("DROP TRIGGER board_count_changed ON feedback")
        op.execute("DROP FUNCTION board_count_changed()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table(TABLE)
