"""Image routes: feedback with image files (multipart) and upload URLs."""

from __future__ import annotations

from flask import Response, current_app, request

from feedback_service.blueprints.integration_api import bp
from feedback_service.blueprints.integration_api.paths import CHANNEL
from feedback_service.blueprints.uploads import image_limits, local_store, own_images_url
from feedback_service.errors import InvalidInput
from feedback_service.openapi.operation import documented
from feedback_service.schemas.integration import CreatedOut, FeedbackValuesIn, UploadUrlQuery
from feedback_service.services import channels, images
from feedback_service.services.images import UploadedFile

MAX_FIELD_PARTS = 200


def _files(max_files: int, max_bytes: int) -> list[UploadedFile]:
    files: list[UploadedFile] = []
    for field_key, storage in request.files.items(multi=True):
        if len(files) == max_files:
            raise InvalidInput(f"at most {max_files} images per request")
        # One byte past the limit is enough to know the file is too large.
        data = storage.stream.read(max_bytes + 1)
        files.append(UploadedFile(field_key, data, storage.mimetype))
    return files


@bp.post(CHANNEL + "/feedbacks-with-images")
@documented(
    "Create feedback with image files",
    status=201,
    body=FeedbackValuesIn(),
    body_media_type="multipart/form-data",
    response=CreatedOut(),
    description="Field values as form fields; each file part is an image for the images "
    "field named by the part.",
)
def create_feedback_with_images(project_id: int, channel_id: int) -> tuple[dict[str, int], int]:
    # The channel is checked first, as on every route: a foreign one answers like a missing one.
    channel = channels.get_channel(project_id, channel_id)
    request.max_content_length = current_app.config["UPLOAD_MAX_REQUEST_BYTES"]
    # Files plus room for every field of a channel; beyond, 413 before parts pile up.
    request.max_form_parts = current_app.config["UPLOAD_MAX_FILES"] + MAX_FIELD_PARTS
    if request.mimetype != "multipart/form-data":
        raise InvalidInput("the body must be multipart/form-data")
    limits = image_limits()
    files = _files(limits.max_files, limits.max_file_bytes)
    # As the reference server: a repeated non-file part keeps its last value.
    form = {key: request.form.getlist(key)[-1] for key in request.form}
    feedback = images.create_feedback_with_images(
        channel,
        form,
        files,
        limits,
        local_store(),
        own_images_url(project_id, channel_id),
    )
    return {"id": feedback.id}, 201


@bp.get(CHANNEL + "/image-upload-url")
@documented(
    "Get a URL to upload an image to",
    query=UploadUrlQuery(),
    response={"type": "string", "format": "uri"},
    response_media_type="text/plain",
)
def image_upload_url(project_id: int, channel_id: int) -> Response:
    extension = request.args.get("extension", "")
    if not extension:
        raise InvalidInput("Extension is required in query parameter")
    url = images.upload_url(
        project_id,
        channel_id,
        extension,
        local_store(),
        current_app.config["SECRET_KEY"],
        current_app.config["UPLOAD_URL_TTL"],
    )
    return Response(url, mimetype="text/plain")
