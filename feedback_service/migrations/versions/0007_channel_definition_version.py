"""channel definition version: a stamp replaced whenever a channel, its fields or options change

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 10:00:00.000000

Worker processes cache channel definitions and compare this stamp in each unit of work
(``services.channels.channel_definition``). Triggers replace it in the transaction of any
change, whoever makes it (the app, a command, SQL typed by hand): every change of a field or
an option, and every change of a channel row other than its feedback counter (which moves
with each new feedback and is not part of the definition). The new stamp is random, not a
count, so it can never recur for a channel id that a restored or emptied database reuses.

Added in place; each existing channel gets a random stamp of its own. A later batch migration
of ``channel``, ``field`` or ``option`` on SQLite rebuilds the table and drops its triggers:
it must create them again (``create_triggers``).
"""

import sqlalchemy as sa
from alembic import op

from feedback_service.models.base import Int64

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SQLITE_STAMP = "(random() & 4611686018427387903)"
SQLITE_TRIGGERS = {
    "channel_definition_changed": (
        "AFTER UPDATE ON channel "
        "WHEN NEW.definition_version IS OLD.definition_version "
        "AND NEW.feedback_count IS OLD.feedback_count BEGIN "
        f"UPDATE channel SET definition_version = {SQLITE_STAMP} WHERE id = NEW.id; END"
    ),
    **{
        f"field_{event.lower()}_changes_definition": (
            f"AFTER {event} ON field BEGIN "
            f"UPDATE channel SET definition_version = {SQLITE_STAMP} "
            f"WHERE id IN ({rows}); END"
        )
        for event, rows in (
            ("INSERT", "NEW.channel_id"),
            ("UPDATE", "OLD.channel_id, NEW.channel_id"),
            ("DELETE", "OLD.channel_id"),
        )
    },
    **{
        f"option_{event.lower()}_changes_definition": (
            f"AFTER {event} ON option BEGIN "
            f"UPDATE channel SET definition_version = {SQLITE_STAMP} "
            f"WHERE id IN (SELECT channel_id FROM field WHERE id IN ({rows})); END"
        )
        for event, rows in (
            ("INSERT", "NEW.field_id"),
            ("UPDATE", "OLD.field_id, NEW.field_id"),
            ("DELETE", "OLD.field_id"),
        )
    },
}

POSTGRESQL_STAMP = "floor(random() * 4611686018427387904)::bigint"
POSTGRESQL_FUNCTIONS = (
    # A BEFORE trigger sets the new stamp on the row being written.
    "CREATE FUNCTION channel_definition_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    "IF NEW.definition_version = OLD.definition_version "
    "AND NEW.feedback_count = OLD.feedback_count THEN "
    f"NEW.definition_version := {POSTGRESQL_STAMP}; "
    "END IF; "
    "RETURN NEW; "
    "END $$",
    "CREATE FUNCTION field_changes_definition() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    f"UPDATE channel SET definition_version = {POSTGRESQL_STAMP} "
    "WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.channel_id ELSE NEW.channel_id END "
    "OR (TG_OP = 'UPDATE' AND id = OLD.channel_id); "
    "RETURN NULL; "
    "END $$",
    "CREATE FUNCTION option_changes_definition() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    f"UPDATE channel SET definition_version = {POSTGRESQL_STAMP} "
    "WHERE id IN (SELECT channel_id FROM field WHERE "
    "id = CASE WHEN TG_OP = 'DELETE' THEN OLD.field_id ELSE NEW.field_id END "
    "OR (TG_OP = 'UPDATE' AND id = OLD.field_id)); "
    "RETURN NULL; "
    "END $$",
)
# Each trigger calls the function of its name.
POSTGRESQL_TRIGGERS = {
    "channel_definition_changed": ("BEFORE UPDATE", "channel"),
    "field_changes_definition": ("AFTER INSERT OR UPDATE OR DELETE", "field"),
    "option_changes_definition": ("AFTER INSERT OR UPDATE OR DELETE", "option"),
}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def create_triggers():
    if not _postgresql():
        for name, definition in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {definition}")
        return
    for function in POSTGRESQL_FUNCTIONS:
        op.execute(function)
    for name, (when, table) in POSTGRESQL_TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        )


def upgrade():
    op.add_column(
        "channel", sa.Column("definition_version", Int64, server_default="0", nullable=False)
    )
    # A stamp of its own for each existing channel, as any change would give it: one equal for
    # all could match what a worker cached from another database under the same ids.
    stamp = POSTGRESQL_STAMP if _postgresql() else SQLITE_STAMP
    op.execute(f"UPDATE channel SET definition_version = {stamp}")
    create_triggers()


def downgrade():
    if _postgresql():
        for name, (_when, table) in POSTGRESQL_TRIGGERS.items():
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.drop_column("definition_version")
