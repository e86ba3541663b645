"""Alembic environment: runs the migrations on the application's engine.

On SQLite, batch migrations copy and drop tables; with foreign keys enforced that would fail or
cascade deletes into child rows, so enforcement is off while migrating and the result is checked
with ``PRAGMA foreign_key_check`` before it is switched back on.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from flask import current_app

from feedback_service.schema import described_by_models

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

migrate_extension = current_app.extensions["migrate"]
target_metadata = migrate_extension.db.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=str(migrate_extension.db.engine.url).replace("%", "%%"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _set_sqlite_foreign_keys(connection, enabled: bool) -> None:
    # Straight on the driver connection: the pragma is a no-op inside a transaction.
    connection.connection.driver_connection.execute(
        f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}"
    )


def run_migrations_online() -> None:
    with migrate_extension.db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _set_sqlite_foreign_keys(connection, False)
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                # SQLite runs DDL inside transactions once pysqlite leaves BEGIN to SQLAlchemy
                # (see feedback_service.database), so a failed migration rolls back whole.
                transactional_ddl=True,
                include_name=described_by_models,
                **migrate_extension.configure_args,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                _set_sqlite_foreign_keys(connection, True)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
