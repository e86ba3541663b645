"""UTC timestamps: the clock, the wire format (ISO 8601 with milliseconds and ``Z``) and parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso(value: datetime) -> str:
    """``2024-01-15T10:30:00.000Z``, the format both APIs use."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime | None:
    """Parse ISO 8601 (``Z`` or offset; no offset means UTC) or RFC 2822; None if neither.

    This covers the strings clients send to the reference server's ``Date.parse``; a string
    without a zone is read as UTC, which is what that server does on a UTC host.
    """
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return None
