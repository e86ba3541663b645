"""What every command of the command line shares: the ``--json`` convention and the schema check.

With ``--json`` a command prints exactly one JSON object on stdout; errors go to stderr with a
non-zero exit status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from feedback_service.errors import AppError
from feedback_service.schema import schema_is_current

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(payload) if as_json else text)


def needs_current_schema(command: Callable[..., None]) -> Callable[..., None]:
    """Refuse to run on a database that ``init-db`` has not brought to the latest schema."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        if not schema_is_current():
            raise click.ClickException(
                "the database schema is not up to date: run `feedback-service init-db` first"
            )
        try:
            command(*args, **kwargs)
        except AppError as error:
            raise click.ClickException(str(error.message)) from None

    return wrapper
