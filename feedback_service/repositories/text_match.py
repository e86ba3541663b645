"""Caseless substring matching with Unicode case folding (``Straße`` contains ``SS``).

SQLite's ``lower()`` and ``LIKE`` fold ASCII letters only, and ``LIKE`` stops at a NUL
character and needs its wildcards escaped. So each SQLite connection gets a ``unicode_contains``
function (registered in ``feedback_service.database``) doing the test in Python with
``str.casefold``; the FTS5 index stores casefolded text for the same reason, so scanned and
indexed queries agree. PostgreSQL uses ``feedback_casefold`` (``str.casefold`` in SQL, from
revision 0006) and ``LIKE``, which its trigram indexes answer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import GenericFunction


# The class name is the SQL function name.
class unicode_contains(GenericFunction[bool]):
    type = Boolean()
    inherit_cache = True


LIKE_ESCAPE = "\\"


@compiles(unicode_contains, "postgresql")
def _contains_on_postgresql(element: unicode_contains, compiler: Any, **kwargs: Any) -> str:
    haystack, needle = (compiler.process(clause, **kwargs) for clause in element.clauses)
    # The needle escaped in SQL, as like_pattern does: the planner folds it into a constant
    # pattern, which a trigram index on feedback_casefold(column) can answer.
    escaped = f"replace(replace(replace({needle}, '\\', '\\\\'), '%%', '\\%%'), '_', '\\_')"
    return f"(feedback_casefold({haystack}) LIKE '%%' || {escaped} || '%%')"


def like_pattern(folded: str) -> str:
    """A ``LIKE`` pattern (escape character ``LIKE_ESCAPE``) for text containing ``folded``."""
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def never_stored(session: Session, text: str) -> bool:
    """Whether no stored text can equal ``text``: PostgreSQL's text cannot hold a NUL (and
    refuses to compare with one), so a lookup by such text finds nothing without asking."""
    return "\x00" in text and session.get_bind().dialect.name != "sqlite"


def python_unicode_contains(haystack: str | None, needle: str | None) -> bool | None:
    """The SQLite implementation of ``unicode_contains`` (``needle`` is casefolded already)."""
    if haystack is None or needle is None:
        return None
    return needle in haystack.casefold()


def contains_ignoring_case(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, any case; every character matches itself."""
    return unicode_contains(column, text.casefold())
