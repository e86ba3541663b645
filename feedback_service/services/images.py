"""Images for feedback: multipart ingestion, upload URLs, and signed uploads to this app."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from feedback_service.errors import AppError, InvalidInput
from feedback_service.images.checks import EXTENSIONS, TYPES, CheckedImage, check_image
from feedback_service.images.signed_urls import UploadRefused, check_signature, signed_url
from feedback_service.images.storage import (
    ImageStore,
    LocalStore,
    S3Settings,
    S3Store,
    StorageFailed,
    new_key,
)
from feedback_service.models import Channel, Feedback, FieldFormat
from feedback_service.services import channels, feedback
from feedback_service.services.field_values import ISSUE_NAMES_KEY

# Form parts are strings; these formats (and issueNames) may carry a JSON value instead.
JSON_FORMATS = {
    FieldFormat.number: (int, float),
    FieldFormat.multiSelect: (list,),
    FieldFormat.images: (list,),
}


USED = "Upload URL has been used already"


class ImageStorageUnavailable(AppError):
    status = 503
    default_message = "failed to upload images"


@dataclass(frozen=True)
class ImageLimits:
    max_files: int
    max_file_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class UploadedFile:
    field_key: str
    data: bytes
    declared_type: str | None


def store_of(channel: Channel, local: LocalStore) -> ImageStore:
    if channel.image_storage != "s3":
        return local
    return S3Store(
        S3Settings(
            endpoint=channel.s3_endpoint,
            bucket=channel.s3_bucket or "",
            region=channel.s3_region,
            access_key_id=channel.s3_access_key_id,
            secret_access_key=channel.s3_secret_access_key,
        )
    )


def form_values(channel: Channel, form: Mapping[str, str]) -> dict[str, Any]:
    """A multipart form as a create body: a JSON number or array is read as such for number,
    multiSelect and images fields and for ``issueNames``; other values stay strings."""
    formats = {f.key: f.format for f in channel.fields}
    body: dict[str, Any] = {}
    for key, text in form.items():
        accepted = (list,) if key == ISSUE_NAMES_KEY else JSON_FORMATS.get(formats.get(key))
        body[key] = _json_or_text(text, accepted) if accepted else text
    return body


def _json_or_text(text: str, accepted: tuple[type, ...]) -> Any:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return value if isinstance(value, accepted) and not isinstance(value, bool) else text


def _checked(channel: Channel, files: Sequence[UploadedFile], limits: ImageLimits) -> list[Any]:
    if len(files) > limits.max_files:
        raise InvalidInput(f"at most {limits.max_files} images per request")
    formats = {f.key: f.format for f in channel.fields}
    checked: list[tuple[UploadedFile, CheckedImage]] = []
    for upload in files:
        if upload.field_key not in formats:
            raise InvalidInput(f"invalid field key: {upload.field_key}")
        if formats[upload.field_key] is not FieldFormat.images:
            raise InvalidInput(f"not an images field: {upload.field_key}")
        if len(upload.data) > limits.max_file_bytes:
            raise InvalidInput(f"image is larger than {limits.max_file_bytes} bytes")
        checked.append((upload, check_image(upload.data, upload.declared_type, limits.max_pixels)))
    return checked


def create_feedback_with_images(
    channel: Channel,
    form: Mapping[str, str],
    files: Sequence[UploadedFile],
    limits: ImageLimits,
    local: LocalStore,
    own_images: str | None,
) -> Feedback:
    """Check every file by content, store them, then create the feedback with their URLs.

    Nothing is stored unless every file passes; stored files are removed again when the
    feedback itself is refused.

    :raises InvalidInput: :raises ImageStorageUnavailable:
    """
    body = form_values(channel, form)
    checked = _checked(channel, files, limits)
    store = store_of(channel, local)
    stored: list[str] = []
    try:
        for upload, image in checked:
            key = new_key(channel.project_id, channel.id, image.type)
            url = store.put(key, upload.data, image.type.content_type)
            stored.append(key)
            urls = body.get(upload.field_key)
            body[upload.field_key] = [*(urls if isinstance(urls, list) else []), url]
        return feedback.create_feedback(channel.project_id, channel.id, body, own_images=own_images)
    except StorageFailed:
        _remove(store, stored)
        raise ImageStorageUnavailable() from None
    except BaseException:
        _remove(store, stored)
        raise


def _remove(store: ImageStore, keys: Sequence[str]) -> None:
    for key in keys:
        store.delete(key)


def upload_url(
    project_id: int, channel_id: int, extension: str, local: LocalStore, secret: str, ttl: int
) -> str:
    """A URL the client PUTs one image to: signed by this app, or presigned by S3.

    :raises ChannelNotFound: :raises InvalidInput: an extension we do not store.
    """
    content_type = EXTENSIONS.get(extension.lower())
    if content_type is None:
        raise InvalidInput(f"Extension must be one of: {', '.join(EXTENSIONS)}")
    channel = channels.get_channel(project_id, channel_id)
    image_type = next(t for t in TYPES.values() if t.content_type == content_type)
    key = new_key(project_id, channel_id, image_type)
    store = store_of(channel, local)
    if isinstance(store, S3Store):
        return store.presigned_put(key, content_type, ttl)
    return signed_url(local.base_url, secret, key, content_type, int(time.time()) + ttl)


def authorize_upload(local: LocalStore, secret: str, key: str, query: Mapping[str, str]) -> str:
    """Check a signed URL before its body is read; the content type it was signed for.

    :raises UploadRefused: tampered, expired or used URL.
    """
    content_type = query.get("type", "")
    check_signature(
        secret, key, content_type, query.get("expires", ""), query.get("signature", ""), time.time()
    )
    if local.path(key).exists():
        raise UploadRefused(USED)
    return content_type


def store_signed_upload(
    local: LocalStore,
    key: str,
    content_type: str,
    data: bytes,
    declared_type: str | None,
    limits: ImageLimits,
) -> None:
    """Store the body of an authorized upload after the same content checks as any upload.

    :raises InvalidInput: a bad image. :raises UploadRefused: another upload won the key.
    """
    if len(data) > limits.max_file_bytes:
        raise InvalidInput(f"image is larger than {limits.max_file_bytes} bytes")
    image = check_image(data, declared_type, limits.max_pixels)
    if image.type.content_type != content_type:
        raise InvalidInput(f"this upload URL is for {content_type}, not {image.type.content_type}")
    if not local.put_new(key, data):
        raise UploadRefused(USED)
