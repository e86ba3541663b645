"""Where a channel's images go: this app's upload folder, or an S3-compatible bucket.

Keys are ``<project>/<channel>/<random>.<ext>``: the random part (128 bits) is the only name a
file ever gets, so nothing a client sends becomes a path.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from feedback_service.images.checks import ImageType

S3_TIMEOUT_SECONDS = 10


class StorageFailed(Exception):
    """The store did not take the file (a bucket down or refusing)."""


def new_key(project_id: int, channel_id: int, image_type: ImageType) -> str:
    return f"{project_id}/{channel_id}/{secrets.token_hex(16)}.{image_type.extension}"


class ImageStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> str:
        """Store the bytes under ``key`` (never replacing a file); the public URL."""

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class LocalStore:
    folder: Path
    # Absolute URL of the folder as served by this app, ending in "/".
    base_url: str

    def path(self, key: str) -> Path:
        return self.folder / key

    def put(self, key: str, data: bytes, content_type: str) -> str:
        if not self.put_new(key, data):
            raise StorageFailed(f"an image is already stored under {key}")
        return self.base_url + key

    def put_new(self, key: str, data: bytes) -> bool:
        """Write the file unless one exists under ``key``: False when it does.

        The bytes go to a private temporary file that is then linked into place, so the key
        appears complete or not at all, and only the first of two writers gets it.
        """
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.part")
        try:
            with open(temporary, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, target)
        except FileExistsError:
            return False
        finally:
            temporary.unlink(missing_ok=True)
        return True

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


@dataclass(frozen=True)
class S3Settings:
    endpoint: str | None
    bucket: str
    region: str | None
    access_key_id: str | None
    secret_access_key: str | None


class S3Store:
    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.endpoint,
            region_name=settings.region or "us-east-1",
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            config=BotoConfig(
                connect_timeout=S3_TIMEOUT_SECONDS,
                read_timeout=S3_TIMEOUT_SECONDS,
                retries={"max_attempts": 2},
                signature_version="s3v4",
                # Path-style URLs (endpoint/bucket/key) work with every S3-compatible store.
                s3={"addressing_style": "path"},
            ),
        )

    def object_url(self, key: str) -> str:
        endpoint = self.settings.endpoint or f"https://s3.{self.settings.region}.amazonaws.com"
        return f"{endpoint.rstrip('/')}/{self.settings.bucket}/{key}"

    def put(self, key: str, data: bytes, content_type: str) -> str:
        try:
            self.client.put_object(
                Bucket=self.settings.bucket, Key=key, Body=data, ContentType=content_type
            )
        except (BotoCoreError, ClientError) as error:
            raise StorageFailed(str(error)) from error
        return self.object_url(key)

    def delete(self, key: str) -> None:
        # Best effort: an orphan object is harmless, and the request has failed already.
        with contextlib.suppress(BotoCoreError, ClientError):
            self.client.delete_object(Bucket=self.settings.bucket, Key=key)

    def presigned_put(self, key: str, content_type: str, ttl: int) -> str:
        params = {"Bucket": self.settings.bucket, "Key": key, "ContentType": content_type}
        return str(self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=ttl))
