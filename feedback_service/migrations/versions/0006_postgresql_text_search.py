"""PostgreSQL text search: pg_trgm indexes over casefolded text, as SQLite's FTS5 index does

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 20:00:00.000000

SQLite matches text through ``unicode_contains`` (Python's ``str.casefold``) and an FTS5 trigram
index of casefolded text (revision 0002). This revision gives PostgreSQL the same:

* ``feedback_casefold(text)``: ``str.casefold`` in SQL, generated from the running Python's
  Unicode tables (``lower()`` is no casefold: it keeps ``ß`` and the final sigma).
* ``feedback_fts``: a plain table with the FTS5 table's columns (``rowid``, ``channel``,
  ``c0``...), filled by the same code, with one GIN trigram index over the text columns.
* GIN trigram indexes on the casefolded issue and category columns searched by substring.
* Every integer column (ids and counts) as ``bigint``: SQLite's integers are 64-bit, and an id
  a client sends must fit on both.
* ``feedback.data`` as ``json``, not ``jsonb``: jsonb reorders keys, and the APIs answer with
  the values in the order they were written, as on SQLite.

On SQLite it does nothing.
"""

import string
import sys

from alembic import op

from feedback_service.schema import TRIGRAM_INDEX_PREFIX

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TEXT_COLUMNS = tuple(f"c{n}" for n in range(16))
# Columns matched with ``contains_ignoring_case``, each with a trigram index.
SUBSTRING_COLUMNS = {
    "issue": ("name", "description", "external_issue_id"),
    "category": ("name",),
}


def casefold_function_sql():
    """``CREATE FUNCTION feedback_casefold``: one ``translate`` for the characters that fold to
    one character, then one ``replace`` per character that folds to several."""
    single_from, single_to, several = [], [], []
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = char.casefold()
        if folded == char:
            continue
        if len(folded) == 1:
            single_from.append(char)
            single_to.append(folded)
        else:
            several.append((char, folded))
    full = f"translate($1, {_literal(''.join(single_from))}, {_literal(''.join(single_to))})"
    for char, folded in several:
        full = f"replace({full}, {_literal(char)}, {_literal(folded)})"
    # translate() scans its 1,400-character list for every character (~300 us a call); ASCII
    # text, one byte per character, folds A-Z alone (~20 us).
    upper, lower = string.ascii_uppercase, string.ascii_lowercase
    ascii_only = f"translate($1, '{upper}', '{lower}')"
    body = f"CASE WHEN octet_length($1) = char_length($1) THEN {ascii_only} ELSE {full} END"
    return (
        "CREATE FUNCTION feedback_casefold(text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fold$ SELECT {body} $fold$"
    )


def _literal(text):
    return "'" + text.replace("'", "''") + "'"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    widen_integers("bigint")
    op.execute("ALTER TABLE feedback ALTER COLUMN data TYPE json USING data::json")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(casefold_function_sql())
    columns = ", ".join(f"{column} TEXT" for column in TEXT_COLUMNS)
    op.execute(
        "CREATE TABLE feedback_fts ("
        "rowid BIGINT PRIMARY KEY REFERENCES feedback (id) ON DELETE CASCADE, "
        f"channel TEXT NOT NULL, {columns})"
    )
    op.execute("CREATE INDEX ix_feedback_fts_channel ON feedback_fts (channel)")
    trigram_columns = ", ".join(f"{column} gin_trgm_ops" for column in TEXT_COLUMNS)
    op.execute(f"CREATE INDEX ix_feedback_fts_text ON feedback_fts USING gin ({trigram_columns})")
    for table, table_columns in SUBSTRING_COLUMNS.items():
        for column in table_columns:
            op.execute(
                f"CREATE INDEX {TRIGRAM_INDEX_PREFIX}{table}_{column} ON {table} "
                f"USING gin (feedback_casefold({column}) gin_trgm_ops)"
            )
    backfill()


def widen_integers(to):
    """Every integer column of the schema, and every sequence behind one, as ``to``."""
    bind = op.get_bind()
    source = "integer" if to == "bigint" else "bigint"
    columns = bind.exec_driver_sql(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND data_type = %(type)s",
        {"type": source},
    ).all()
    by_table = {}
    for table, column in columns:
        by_table.setdefault(table, []).append(f'ALTER COLUMN "{column}" TYPE {to}')
    # One statement per table: each ALTER ... TYPE rewrites the table and its indexes.
    for table, changes in by_table.items():
        op.execute(f'ALTER TABLE "{table}" {", ".join(changes)}')
    sequences = bind.exec_driver_sql(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
    ).scalars()
    for sequence in sequences:
        op.execute(f'ALTER SEQUENCE "{sequence}" AS {to}')


def backfill():
    """Index the feedback that exists already: a channel's text fields fill c0... by id."""
    bind = op.get_bind()
    for (channel_id,) in bind.exec_driver_sql("SELECT id FROM channel").all():
        keys = bind.exec_driver_sql(
            "SELECT key FROM field WHERE channel_id = %(channel)s AND format = 'text' ORDER BY id",
            {"channel": channel_id},
        ).scalars()
        parameters = {"channel": channel_id, "marker": f"#{channel_id}#"}
        columns, texts = ["rowid", "channel"], ["id", "%(marker)s"]
        for column, key in zip(TEXT_COLUMNS, keys, strict=False):
            parameters[column] = key
            columns.append(column)
            texts.append(f"feedback_casefold(data ->> %({column})s)")
        bind.exec_driver_sql(
            f"INSERT INTO feedback_fts ({', '.join(columns)}) "
            f"SELECT {', '.join(texts)} FROM feedback WHERE channel_id = %(channel)s",
            parameters,
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, table_columns in SUBSTRING_COLUMNS.items():
        for column in table_columns:
            op.execute(f"DROP INDEX {TRIGRAM_INDEX_PREFIX}{table}_{column}")
    op.execute("DROP TABLE feedback_fts")
    op.execute("DROP FUNCTION feedback_casefold(text)")
    op.execute("ALTER TABLE feedback ALTER COLUMN data TYPE jsonb USING data::jsonb")
    widen_integers("integer")
