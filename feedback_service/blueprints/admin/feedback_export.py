"""Download a channel's filtered feedback table as CSV or XLSX (every role may export)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO

from flask import Response, abort, g, request
from flask.typing import ResponseReturnValue

from feedback_service.blueprints.admin import bp
from feedback_service.errors import AppError, ChannelNotFound, ProjectNotFound
from feedback_service.services import feedback_export
from feedback_service.services.console_feedback import FeedbackFilters
from feedback_service.timezones import project_zone

CHUNK_BYTES = 64 * 1024


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes, closing it when the download ends or breaks off."""
    try:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk
    finally:
        file.close()


def _size(file: IO[bytes]) -> int:
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    return size


@bp.get(
    "/projects/<id:project_id>/channels/<id:channel_id>/feedback/export.<any(csv, xlsx):fmt>",
    endpoint="feedback_export",
)
def feedback_export_file(project_id: int, channel_id: int, fmt: str) -> ResponseReturnValue:
    filters = FeedbackFilters.from_args(request.args.to_dict(flat=False))
    zone = project_zone(g.project.timezone["name"])
    try:
        export = feedback_export.export_feedback(
            project_id, channel_id, filters, zone, "csv" if fmt == "csv" else "xlsx"
        )
    except (ProjectNotFound, ChannelNotFound):
        abort(404, "There is no such channel in this project.")
    except AppError as error:
        abort(400, str(error.message))
    size = _size(export.file)
    response = Response(_chunks(export.file), mimetype=export.mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=export.filename)
    response.content_length = size
    response.headers["X-Export-Rows"] = str(export.rows)
    if export.truncated:
        response.headers["X-Export-Truncated"] = str(feedback_export.MAX_EXPORT_ROWS)
    return response
