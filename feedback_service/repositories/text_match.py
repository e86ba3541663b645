"""Caseless substring matching with Unicode case folding (``Straße`` contains ``SS``).

SQLite's ``lower()`` and ``LIKE`` fold ASCII letters only, and ``LIKE`` stops at a NUL
character and needs its wildcards escaped. So each SQLite connection gets a ``unicode_contains``
function (registered in ``feedback_service.database``) doing the test in Python with
``str.casefold``; the FTS5 index stores casefolded text for the same reason, so scanned and
indexed queries agree. PostgreSQL uses ``strpos(lower(...))``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction


# The class name is the SQL function name.
class unicode_contains(GenericFunction[bool]):
    type = Boolean()
    inherit_cache = True


@compiles(unicode_contains, "postgresql")
def _contains_on_postgresql(element: unicode_contains, compiler: Any, **kwargs: Any) -> str:
    haystack, needle = (compiler.process(clause, **kwargs) for clause in element.clauses)
    return f"(strpos(lower({haystack}), {needle}) > 0)"


def python_unicode_contains(haystack: str | None, needle: str | None) -> bool | None:
    """The SQLite implementation of ``unicode_contains`` (``needle`` is casefolded already)."""
    if haystack is None or needle is None:
        return None
    return needle in haystack.casefold()


def contains_ignoring_case(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, any case; every character matches itself."""
    return unicode_contains(column, text.casefold())
