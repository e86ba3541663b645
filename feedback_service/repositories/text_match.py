"""Case-insensitive substring matching that folds all of Unicode, not only ASCII.

SQLite's ``lower()`` and ``LIKE`` fold ASCII letters only, so each SQLite connection gets a
``casefold`` function (registered in ``feedback_service.database``); PostgreSQL's ``lower()``
already follows Unicode.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction


# The class name is the SQL function name.
class casefold(GenericFunction[str]):
    type = String()
    inherit_cache = True


@compiles(casefold, "postgresql")
def _casefold_on_postgresql(element: casefold, compiler: Any, **kwargs: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kwargs)})"


def python_casefold(value: str | None) -> str | None:
    """The SQLite implementation of ``casefold``."""
    return None if value is None else value.casefold()


def contains_ignoring_case(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, any case; ``%`` and ``_`` in ``text`` match themselves."""
    return casefold(column).contains(text.casefold(), autoescape=True)
