"""A channel's image settings: storage (this app, or an S3-compatible store) and whitelist."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ada_url

from feedback_service.database import unit_of_work
from feedback_service.errors import InvalidInput
from feedback_service.models import Channel
from feedback_service.services.channels import channel_in_project, normalise_image_domain

STORAGES = ("local", "s3")


@dataclass(frozen=True)
class S3Changes:
    """S3 settings to change; None leaves a setting as it is."""

    endpoint: str | None = None
    bucket: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None


def _endpoint(url: str) -> str:
    try:
        parsed = ada_url.URL(url)
    except ValueError:
        parsed = None
    if parsed is None or parsed.protocol not in ("http:", "https:"):
        raise InvalidInput(f"invalid S3 endpoint: {url!r} (expected e.g. https://s3.example.com)")
    return url.rstrip("/")


def configure_images(
    project_id: int,
    channel_id: int,
    *,
    storage: str | None = None,
    s3: S3Changes = S3Changes(),
    image_domains: Sequence[str] | None = None,
) -> Channel:
    """Change the channel's image storage and whitelist (None leaves a setting unchanged).

    :raises ChannelNotFound: :raises InvalidInput: an unknown storage, a bad endpoint or host,
        or S3 storage without a bucket.
    """
    if storage is not None and storage not in STORAGES:
        raise InvalidInput(f"image storage must be one of: {', '.join(STORAGES)}")
    endpoint = _endpoint(s3.endpoint) if s3.endpoint else s3.endpoint
    domains = None
    if image_domains is not None:
        domains = sorted({normalise_image_domain(host) for host in image_domains})
    with unit_of_work(write=True) as session:
        channel = channel_in_project(session, project_id, channel_id)
        changes = {
            "image_storage": storage,
            "s3_endpoint": endpoint,
            "s3_bucket": s3.bucket,
            "s3_region": s3.region,
            "s3_access_key_id": s3.access_key_id,
            "s3_secret_access_key": s3.secret_access_key,
            "image_domains": domains,
        }
        for name, value in changes.items():
            if value is not None:
                setattr(channel, name, value)
        if channel.image_storage == "s3" and not channel.s3_bucket:
            raise InvalidInput("S3 image storage needs a bucket (--s3-bucket)")
        return channel
