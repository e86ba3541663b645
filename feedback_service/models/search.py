"""Search index rows derived from feedback values, kept in the feedback's own transaction.

* ``FeedbackValue``: one row per typed value (keyword, select, date, number, and each
  multiSelect element), indexed by field and value for equality and range lookups.
* ``feedback_fts`` (created by the migrations, no model) holds one row per feedback with
  ``rowid`` = feedback id: a ``channel`` marker column and one column per text field of the
  channel (``c0``...), casefolded. On SQLite it is an FTS5 table with the trigram tokenizer; on
  PostgreSQL a plain table with a pg_trgm GIN index, for substrings.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from feedback_service.models.base import Base

FTS_TABLE = "feedback_fts"
# A channel's text fields map to FTS columns c0..c15 by the order of their ids.
FTS_TEXT_COLUMNS = 16


class FeedbackValue(Base):
    __tablename__ = "feedback_value"
    __table_args__ = (
        Index("ix_feedback_value_text", "field_id", "text_value", "feedback_id"),
        Index("ix_feedback_value_number", "field_id", "num_value", "feedback_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    field_id: Mapped[int] = mapped_column(ForeignKey("field.id", ondelete="CASCADE"))
    # Keyword, select option key, multiSelect element, or a date as ISO 8601 UTC (which
    # sorts chronologically as text).
    text_value: Mapped[str | None] = mapped_column(Text)
    num_value: Mapped[float | None] = mapped_column(Float)
