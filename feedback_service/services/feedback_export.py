"""Exports of the console's feedback table as CSV or XLSX.

An export holds the rows the filter form finds, in the table's order and with the table's
columns, up to ``MAX_EXPORT_ROWS``. Rows are read in batches inside one read transaction (one
consistent snapshot) and written to a temporary file, so memory stays flat however many rows
there are.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and feedback
is written by strangers: such text cells get a leading apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from feedback_service.database import unit_of_work
from feedback_service.errors import ProjectNotFound
from feedback_service.repositories import projects as projects_repo
from feedback_service.services import console_feedback
from feedback_service.services.console_feedback import Column, FeedbackFilters

ExportFormat = Literal["csv", "xlsx"]
MAX_EXPORT_ROWS = 100_000
BATCH_SIZE = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel's limit on the text of one cell.
XLSX_MAX_CELL = 32_767
# Temporary files stay in memory up to this size.
SPOOL_BYTES = 4 * 1024 * 1024
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass
class Export:
    file: IO[bytes]
    filename: str
    mimetype: str
    rows: int
    # More rows matched than an export holds.
    truncated: bool


def neutralise(value: str) -> str:
    """Text a spreadsheet would read as a formula, made plain text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _name_part(text: str, fallback: str) -> str:
    return UNSAFE_NAME.sub("_", text).strip("_") or fallback


def export_filename(project_name: str, channel_name: str, day: date, fmt: ExportFormat) -> str:
    """``<project>_<channel>_feedback_<YYYY-MM-DD>.<fmt>``, in ``[A-Za-z0-9_-]`` only."""
    project = _name_part(project_name, "project")
    channel = _name_part(channel_name, "channel")
    return f"{project}_{channel}_feedback_{day.isoformat()}.{fmt}"


def _flat(value: Any) -> Any:
    """A cell for a file: image URLs one per line, text neutralised, numbers as numbers."""
    if isinstance(value, list):
        value = "\n".join(value)
    if isinstance(value, str):
        return neutralise(value)
    return value


def _write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> IO[bytes]:
    target = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    # utf-8-sig starts the file with a BOM, which Excel needs to read it as UTF-8.
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    text.flush()
    text.detach()
    target.seek(0)
    return target


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str):
        # Control characters are not allowed in the file format at all.
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_CELL]
    return value


def _write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> IO[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Feedback")
    sheet.append([_xlsx_cell(name) for name in header])
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    target = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    workbook.save(target)
    target.seek(0)
    return target


def _rows(
    columns: Sequence[Column], feedback: Iterable[Any], zone: ZoneInfo
) -> Iterable[list[Any]]:
    for item in feedback:
        yield [_flat(value) for value in console_feedback.row_values(columns, item, zone)]


def export_feedback(
    project_id: int,
    channel_id: int,
    filters: FeedbackFilters,
    zone: ZoneInfo,
    fmt: ExportFormat,
) -> Export:
    """The filtered table as a file, at most ``MAX_EXPORT_ROWS`` rows.

    :raises ProjectNotFound: :raises ChannelNotFound: :raises InvalidInput: a bad filter.
    """
    with unit_of_work(write=False) as session:
        project = projects_repo.get_project(session, project_id)
        if project is None:
            raise ProjectNotFound()
        found = console_feedback.prepare(session, project_id, channel_id, filters, zone)
        ids = console_feedback.matching_ids(session, found, MAX_EXPORT_ROWS + 1)
        truncated = len(ids) > MAX_EXPORT_ROWS
        ids = ids[:MAX_EXPORT_ROWS]
        columns = console_feedback.table_columns(found.channel)
        header = [neutralise(column.name) for column in columns]
        rows = _rows(columns, console_feedback.feedback_in_batches(session, ids, BATCH_SIZE), zone)
        file = _write_csv(header, rows) if fmt == "csv" else _write_xlsx(header, rows)
        day = console_feedback.local_today(zone)
        filename = export_filename(project.name, found.channel.name, day, fmt)
    return Export(file, filename, MIMETYPES[fmt], len(ids), truncated)
