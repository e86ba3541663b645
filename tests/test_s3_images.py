"""Images of a channel stored in an S3-compatible bucket, against a real local moto server.

The server is started once per test process (``moto_server`` from the venv, on 127.0.0.1 and a
free port) and every test gets its own bucket; nothing here talks to the internet.
"""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from feedback_service.extensions import db
from feedback_service.services.channel_images import S3Changes, configure_images
from tests.cli_runner import Cli
from tests.conftest import make_test_app
from tests.factories import ProjectWorld
from tests.helpers import assert_json, bad_request, database_rows

MOTO_SERVER = Path(sys.executable).parent / "moto_server"
ACCESS_KEY_ID = "test"
# Moto accepts any credentials; a distinctive secret makes a leak findable in any output.
SECRET = "s3-secret-9c1f0e7d4b-never-shown"
REGION = "us-east-1"
STARTUP_SECONDS = 20


def image_bytes(fmt: str, size: tuple[int, int] = (6, 4), color: Any = (10, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
HTML = b"<html><body>not an image</body></html>"


# --- the moto server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a moto server process running for the whole session."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, f"moto_server exited with {process.returncode}"
            try:
                with urllib.request.urlopen(endpoint + "/", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, "moto_server did not answer in time"
                time.sleep(0.05)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Bucket:
    endpoint: str
    name: str
    s3: Any

    def keys(self) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def get(self, key: str) -> tuple[str, bytes]:
        stored = self.s3.get_object(Bucket=self.name, Key=key)
        return stored["ContentType"], stored["Body"].read()

    def url(self, key: str) -> str:
        return f"{self.endpoint}/{self.name}/{key}"

    def history(self) -> tuple[list[str], list[str]]:
        """Keys of every stored version and of every delete marker (versioning on)."""
        listed = self.s3.list_object_versions(Bucket=self.name)
        versions = sorted(item["Key"] for item in listed.get("Versions", []))
        markers = sorted(item["Key"] for item in listed.get("DeleteMarkers", []))
        return versions, markers


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET,
    )


@pytest.fixture
def bucket(moto_endpoint: str) -> Bucket:
    """A new, empty bucket with versioning on (so a put-then-delete leaves a trace)."""
    s3 = s3_client(moto_endpoint)
    name = f"shots-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return Bucket(moto_endpoint, name, s3)


def use_s3(
    app: Flask,
    project: ProjectWorld,
    endpoint: str,
    bucket_name: str,
    image_domains: list[str] | None = None,
) -> None:
    with app.app_context():
        configure_images(
            project.project_id,
            project.channel_id,
            storage="s3",
            s3=S3Changes(
                endpoint=endpoint,
                bucket=bucket_name,
                region=REGION,
                access_key_id=ACCESS_KEY_ID,
                secret_access_key=SECRET,
            ),
            image_domains=[] if image_domains is None else image_domains,
        )


@pytest.fixture
def s3_world(app: Flask, world: Any, bucket: Bucket) -> Any:
    """The world, with project A's channel storing its images in ``bucket``."""
    use_s3(app, world.a, bucket.endpoint, bucket.name)
    return world


# --- helpers -----------------------------------------------------------------------------------

KEY_SHAPE = r"{p}/{c}/[0-9a-f]{{32}}\.{ext}"


def key_pattern(project: ProjectWorld, ext: str) -> re.Pattern[str]:
    return re.compile(KEY_SHAPE.format(p=project.project_id, c=project.channel_id, ext=ext))


def with_images(client: FlaskClient, project: ProjectWorld, data: dict[str, Any]) -> TestResponse:
    return client.post(
        f"{project.channel}/feedbacks-with-images",
        data=data,
        headers=project.headers,
        content_type="multipart/form-data",
    )


def stored_rows(sql: Any) -> dict[str, Any]:
    """Every row of every table but ``api_key``, whose last-use time each request moves."""
    rows = database_rows(sql)
    del rows["api_key"]
    return rows


def local_files(app: Flask) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def assert_no_secret(*bodies: bytes | str) -> None:
    for body in bodies:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        assert SECRET not in text


# --- multipart create --------------------------------------------------------------------------


def test_multipart_create_stores_objects_in_the_bucket_and_their_urls(
    app, client, s3_world, bucket, sql
):
    a = s3_world.a
    response = with_images(
        client,
        a,
        {
            "shots": [
                (io.BytesIO(PNG), "a.png", "image/png"),
                (io.BytesIO(JPEG), "b.jpg", "image/jpeg"),
            ],
            "message": "two screenshots",
        },
    )
    assert response.status_code == 201, response.data
    feedback_id = response.get_json()["id"]
    keys = bucket.keys()
    assert len(keys) == 2
    png_key = next(k for k in keys if k.endswith(".png"))
    jpeg_key = next(k for k in keys if k.endswith(".jpg"))
    assert key_pattern(a, "png").fullmatch(png_key)
    assert key_pattern(a, "jpg").fullmatch(jpeg_key)
    assert bucket.get(png_key) == ("image/png", PNG)
    assert bucket.get(jpeg_key) == ("image/jpeg", JPEG)
    shown = client.get(f"{a.channel}/feedbacks/{feedback_id}", headers=a.headers)
    assert shown.status_code == 200
    body = shown.get_json()
    assert body["shots"] == [bucket.url(png_key), bucket.url(jpeg_key)]
    assert bucket.url(png_key) == f"{bucket.endpoint}/{bucket.name}/{png_key}"
    assert body["message"] == "two screenshots"
    assert local_files(app) == []
    assert_no_secret(response.data, shown.data)


def test_object_url_is_fetchable_from_the_endpoint(client, s3_world, bucket):
    a = s3_world.a
    response = with_images(client, a, {"shots": (io.BytesIO(PNG), "a.png", "image/png")})
    assert response.status_code == 201
    shown = client.get(f"{a.channel}/feedbacks/{response.get_json()['id']}", headers=a.headers)
    (url,) = shown.get_json()["shots"]
    assert url.startswith(f"{bucket.endpoint}/{bucket.name}/")
    # The object is private in moto; a signed GET by its key proves the URL names the object.
    assert bucket.get(url.removeprefix(f"{bucket.endpoint}/{bucket.name}/")) == ("image/png", PNG)


REFUSED_FILES = {
    "html declared as html": (
        [(HTML, "x.html", "text/html")],
        "Not Image File (text/html)",
    ),
    "html declared as png": (
        [(HTML, "x.png", "image/png")],
        "Invalid file: not a PNG, JPEG, GIF or WebP image",
    ),
    "good file then a bad one": (
        [(PNG, "a.png", "image/png"), (PNG, "b.png", "image/jpeg")],
        "Invalid file (sent type: image/jpeg, detected type: [image/png])",
    ),
}


@pytest.mark.parametrize(("files", "message"), REFUSED_FILES.values(), ids=REFUSED_FILES.keys())
def test_refused_file_stores_nothing_in_the_bucket(
    app, client, s3_world, bucket, sql, files, message
):
    a = s3_world.a
    before = stored_rows(sql)
    parts = [(io.BytesIO(data), name, content_type) for data, name, content_type in files]
    response = with_images(client, a, {"shots": parts, "message": "x"})
    path = f"{a.channel}/feedbacks-with-images"
    assert_json(response, 400, bad_request(path, message))
    assert bucket.history() == ([], [])
    assert stored_rows(sql) == before
    assert local_files(app) == []


REFUSED_FEEDBACK = {
    "bad number": (
        {"score": "many"},
        'invalid value: (value: "many", type: number, fieldKey: score)',
        None,
    ),
    "unknown field": ({"nope": "x"}, "invalid field key: nope", None),
    "s3 host not on the whitelist": (
        {},
        "invalid domain in image link: 127.0.0.1 (fieldKey: shots)",
        ["cdn.example.com"],
    ),
}


@pytest.mark.parametrize(
    ("form", "message", "domains"), REFUSED_FEEDBACK.values(), ids=REFUSED_FEEDBACK.keys()
)
def test_object_is_deleted_again_when_the_feedback_is_refused(
    app, client, world, bucket, sql, form, message, domains
):
    a = world.a
    use_s3(app, a, bucket.endpoint, bucket.name, domains)
    before = stored_rows(sql)
    response = with_images(client, a, {"shots": (io.BytesIO(PNG), "a.png", "image/png"), **form})
    path = f"{a.channel}/feedbacks-with-images"
    assert_json(response, 400, bad_request(path, message))
    assert bucket.keys() == []
    # Versioning shows the object was stored, then deleted (not merely never written).
    versions, markers = bucket.history()
    assert len(versions) == 1
    assert key_pattern(a, "png").fullmatch(versions[0])
    assert markers == versions
    assert stored_rows(sql) == before


def test_s3_host_on_the_whitelist_passes(app, client, world, bucket):
    a = world.a
    use_s3(app, a, bucket.endpoint, bucket.name, ["127.0.0.1"])
    response = with_images(client, a, {"shots": (io.BytesIO(PNG), "a.png", "image/png")})
    assert response.status_code == 201
    assert len(bucket.keys()) == 1


@pytest.mark.parametrize("problem", ["unreachable endpoint", "missing bucket"])
def test_store_failure_is_503_and_creates_no_feedback(
    app, client, world, moto_endpoint, sql, problem
):
    a = world.a
    if problem == "unreachable endpoint":
        use_s3(app, a, "http://127.0.0.1:1", "shots")
    else:
        use_s3(app, a, moto_endpoint, f"missing-{uuid.uuid4().hex[:12]}")
    before = stored_rows(sql)
    response = with_images(client, a, {"shots": (io.BytesIO(PNG), "a.png", "image/png")})
    path = f"{a.channel}/feedbacks-with-images"
    assert_json(
        response,
        503,
        {
            "message": "failed to upload images",
            "error": "Service Unavailable",
            "statusCode": 503,
            "path": path,
        },
    )
    assert stored_rows(sql) == before
    assert local_files(app) == []
    assert_no_secret(response.data)


def test_other_projects_channel_keeps_the_local_store(app, client, s3_world, bucket):
    b = s3_world.b
    response = with_images(client, b, {"shots": (io.BytesIO(PNG), "a.png", "image/png")})
    assert response.status_code == 201
    assert bucket.keys() == []
    (stored,) = local_files(app)
    assert stored.read_bytes() == PNG


# --- upload URLs -------------------------------------------------------------------------------


def upload_url(client: FlaskClient, project: ProjectWorld, extension: str = "png") -> str:
    response = client.get(
        f"{project.channel}/image-upload-url?extension={extension}", headers=project.headers
    )
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    assert_no_secret(response.data)
    return response.get_data(as_text=True)


PRESIGNED_PARAMETERS = {
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
}


def test_upload_url_of_an_s3_channel_is_a_presigned_put(app, client, s3_world, bucket):
    a = s3_world.a
    url = upload_url(client, a)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == bucket.endpoint
    prefix = f"/{bucket.name}/"
    assert parts.path.startswith(prefix)
    key = parts.path.removeprefix(prefix)
    assert key_pattern(a, "png").fullmatch(key)
    query = {name: values for name, values in parse_qs(parts.query).items()}
    assert set(query) == PRESIGNED_PARAMETERS
    assert all(len(values) == 1 for values in query.values())
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == [str(app.config["UPLOAD_URL_TTL"])] == ["300"]
    credential = query["X-Amz-Credential"][0].split("/")
    assert (credential[0], credential[2:]) == (ACCESS_KEY_ID, [REGION, "s3", "aws4_request"])
    assert query["X-Amz-SignedHeaders"] == ["content-type;host"]
    assert re.fullmatch(r"[0-9a-f]{64}", query["X-Amz-Signature"][0])
    assert bucket.keys() == []
    assert local_files(app) == []

    request = urllib.request.Request(
        url, data=PNG, method="PUT", headers={"Content-Type": "image/png"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    assert bucket.keys() == [key]
    assert bucket.get(key) == ("image/png", PNG)


def test_presigned_jpeg_url_and_configured_ttl(app, database, s3_world, bucket):
    a = s3_world.a
    other = make_test_app(database, UPLOAD_URL_TTL=77)
    try:
        url = upload_url(other.test_client(), a, "jpeg")
    finally:
        with other.app_context():
            db.engine.dispose()
    parts = urlsplit(url)
    key = parts.path.removeprefix(f"/{bucket.name}/")
    assert key_pattern(a, "jpg").fullmatch(key)
    assert parse_qs(parts.query)["X-Amz-Expires"] == ["77"]
    request = urllib.request.Request(
        url, data=JPEG, method="PUT", headers={"Content-Type": "image/jpeg"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    assert bucket.get(key) == ("image/jpeg", JPEG)


# --- the secret stays secret -------------------------------------------------------------------


def test_secret_never_appears_in_any_response_or_command_output(
    app, client, s3_world, bucket, tmp_path, database, sql
):
    a = s3_world.a
    assert sql("SELECT s3_secret_access_key FROM channel WHERE id = ?", (a.channel_id,)) == [
        (SECRET,)
    ]
    created = with_images(client, a, {"shots": (io.BytesIO(PNG), "a.png", "image/png")})
    assert created.status_code == 201
    feedback_id = created.get_json()["id"]
    responses = [
        created,
        client.get(f"{a.channel}/fields", headers=a.headers),
        client.get(a.base, headers=a.headers),
        client.get(f"{a.channel}/feedbacks/{feedback_id}", headers=a.headers),
        client.post(f"{a.channel}/feedbacks/search", json={}, headers=a.headers),
        client.get(f"{a.channel}/image-upload-url?extension=png", headers=a.headers),
    ]
    assert [r.status_code for r in responses] == [201, 200, 200, 200, 201, 200]
    fields = {f["key"]: f for f in responses[1].get_json()}
    assert fields["shots"]["format"] == "images"
    assert_no_secret(*(r.data for r in responses))

    cli = Cli(tmp_path / "instance", database)
    args = ("channel-images", "--project", str(a.project_id), "--channel", str(a.channel_id))
    shown = cli.ok(*args, "--json")
    assert json.loads(shown.stdout) == {
        "channelId": a.channel_id,
        "storage": "s3",
        "imageDomains": [],
        "s3": {
            "endpoint": bucket.endpoint,
            "bucket": bucket.name,
            "region": REGION,
            "accessKeyId": ACCESS_KEY_ID,
            "secretAccessKeySet": True,
        },
    }
    text = cli.ok(*args)
    assert_no_secret(shown.stdout, shown.stderr, text.stdout, text.stderr)
