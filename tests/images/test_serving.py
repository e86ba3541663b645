"""GET /uploads/<key>: a stored image comes back byte for byte with its detected type and headers
that keep a browser from reading it as anything else; no other file is ever reachable."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from tests.factories import ProjectWorld, World
from tests.images import corpus
from tests.images.corpus import GoodImage

GOOD = corpus.good_images()
SECRET = b"secret-key-that-must-never-be-served"
NOT_FOUND = {"error": "Not Found"}
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def upload(client: FlaskClient, pw: ProjectWorld, data: bytes, filename: str, declared: str) -> str:
    """Store one image through feedbacks-with-images; its key under /uploads/."""
    parts = MultiDict(
        [("shots", FileStorage(io.BytesIO(data), filename=filename, content_type=declared))]
    )
    boundary, body = encode_multipart(parts)
    response = client.post(
        f"{pw.channel}/feedbacks-with-images",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=pw.headers,
    )
    assert response.status_code == 201, response.get_json()
    feedback = client.get(
        f"{pw.channel}/feedbacks/{response.get_json()['id']}", headers=pw.headers
    ).get_json()
    (url,) = feedback["shots"]
    match = re.fullmatch(r"http://localhost/uploads/(\d+/\d+/[0-9a-f]{32}\.\w+)", url)
    assert match, url
    return match.group(1)


def fetch(client: FlaskClient, path: str, **kwargs: Any) -> TestResponse:
    """GET, read the body and close the response (a served file stays open until then)."""
    response = client.get(path, **kwargs)
    response.get_data()
    response.close()
    return response


def assert_not_found(response: TestResponse) -> None:
    assert (response.status_code, response.get_json()) == (404, NOT_FOUND)


@pytest.fixture
def planted(app: Flask) -> dict[str, Path]:
    """Files a traversal would aim at: the instance's secret key, the database, a note in the
    upload folder itself, and a leftover temporary file of the store."""
    uploads = Path(app.config["UPLOAD_FOLDER"])
    instance = uploads.parent
    (uploads / "1" / "1").mkdir(parents=True, exist_ok=True)
    paths = {
        "secret": instance / "secret_key",
        "note": uploads / "notes.txt",
        "part": uploads / "1" / "1" / f".{'a' * 32}.png.{'b' * 16}.part",
        "image-looking part": uploads / "1" / "1" / f"{'c' * 32}.png.part",
    }
    for path in paths.values():
        path.write_bytes(SECRET)
    return paths


@pytest.mark.parametrize("image", GOOD, ids=lambda image: image.name)
def test_a_stored_image_is_served_with_its_detected_type_and_safe_headers(client, world, image):
    key = upload(client, world.a, image.data, image.filename, image.declared)
    assert key.endswith(f".{image.extension}")

    response = fetch(client, f"/uploads/{key}")

    assert response.status_code == 200
    assert response.data == image.data
    assert response.headers["Content-Type"] == image.content_type
    assert {name: response.headers.get(name) for name in SAFE_HEADERS} == SAFE_HEADERS


@pytest.mark.parametrize(
    ("data", "declared", "content_type"),
    [
        (corpus.jpeg(), "image/jpg", "image/jpeg"),
        (corpus.jpeg(), "image/pjpeg", "image/jpeg"),
        (corpus.png(), "image/x-png", "image/png"),
        (corpus.png(), "image/png; name=x.html", "image/png"),
    ],
)
def test_the_served_type_is_the_detected_one_not_the_declared_spelling(
    client, world, data, declared, content_type
):
    key = upload(client, world.a, data, "x.html", declared)

    response = fetch(client, f"/uploads/{key}")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert response.data == data


def test_a_png_with_html_after_its_end_is_served_as_a_png_that_cannot_run(client, world):
    polyglot = corpus.png() + corpus.HTML
    key = upload(client, world.a, polyglot, "page.html", "image/png")

    response = fetch(client, f"/uploads/{key}")

    assert response.status_code == 200
    assert response.data == polyglot
    assert response.headers["Content-Type"] == "image/png"
    assert {name: response.headers.get(name) for name in SAFE_HEADERS} == SAFE_HEADERS


def test_serving_needs_no_api_key_and_ignores_one(client, world: World):
    key = upload(client, world.a, corpus.gif(), "a.gif", "image/gif")

    anonymous = fetch(client, f"/uploads/{key}")
    other_project = fetch(client, f"/uploads/{key}", headers=world.b.headers)

    assert (anonymous.status_code, anonymous.data) == (200, corpus.gif())
    assert (other_project.status_code, other_project.data) == (200, corpus.gif())


def test_a_revalidation_is_answered_304_with_the_same_safety_headers(client, world):
    key = upload(client, world.a, corpus.png(), "a.png", "image/png")
    first = fetch(client, f"/uploads/{key}")
    assert first.headers.get("ETag")

    again = fetch(client, f"/uploads/{key}", headers={"If-None-Match": first.headers["ETag"]})

    assert (again.status_code, again.data) == (304, b"")
    assert {name: again.headers.get(name) for name in SAFE_HEADERS} == SAFE_HEADERS


def test_a_missing_well_formed_key_is_404(client, world):
    key = upload(client, world.a, corpus.png(), "a.png", "image/png")
    project, channel, _ = key.split("/")

    for missing in (
        f"{project}/{channel}/{'0' * 32}.png",
        f"{project}/{channel}/{key.rsplit('/', 1)[1].replace('.png', '.jpg')}",
        f"{world.b.project_id}/{world.b.channel_id}/{key.rsplit('/', 1)[1]}",
        f"9999/9999/{'f' * 32}.webp",
    ):
        assert_not_found(fetch(client, f"/uploads/{missing}"))


def odd_keys(stored: str, planted: dict[str, Path]) -> list[str]:
    project, channel, name = stored.split("/")
    stem, extension = name.split(".")
    secret = planted["secret"]
    return [
        "../secret_key",
        "..%2fsecret_key",
        "%2e%2e/secret_key",
        "%2e%2e%2fsecret_key",
        "1/1/../../../secret_key",
        "1/1/..%2f..%2f..%2fsecret_key",
        "1/1/%2e%2e/%2e%2e/%2e%2e/secret_key",
        "1/1/..%5c..%5c..%5csecret_key",
        "..%5csecret_key",
        f"{secret}",
        f"%2F{str(secret).lstrip('/')}",
        "notes.txt",
        "1/1/" + planted["part"].name,
        "1/1/" + planted["image-looking part"].name,
        "1/1",
        f"{project}/{channel}/{stem.upper()}.{extension}",
        f"{project}/{channel}/{stem}.{extension.upper()}",
        f"{project}/{channel}/{stem}.{extension}.{extension}",
        f"{project}/{channel}/{stem}.{extension}/",
        f"{project}/{channel}/{stem}.{extension}%00.png",
        f"{project}/{channel}/{stem}.{extension}%20",
        f"{project}/{channel}/{stem[:-1]}.{extension}",
        f"{project}/{channel}/{stem}0.{extension}",
        f"{project}/{stem}.{extension}",
        f"{stem}.{extension}",
        f"{project}/{channel}/x/{stem}.{extension}",
        f"{project}/{channel}/{stem}.svg",
        f"{project}/{channel}/{stem}.html",
        f"-1/{channel}/{stem}.{extension}",
        f"{project}/{channel}/./{stem}.{extension}",
        f"{project}/{channel}/../{channel}/{stem}.{extension}",
    ]


def test_traversal_and_odd_keys_are_404_and_never_file_content(client, world, planted):
    key = upload(client, world.a, corpus.png(), "a.png", "image/png")
    problems = []

    for odd in odd_keys(key, planted):
        response = fetch(client, f"/uploads/{odd}", follow_redirects=True)
        if (response.status_code, response.get_json(silent=True)) != (404, NOT_FOUND):
            problems.append(f"{odd}: {response.status_code} {response.data[:80]!r}")
        if SECRET in response.data or corpus.png() in response.data:
            problems.append(f"{odd}: served file content")
        # A redirect (merged slashes) may only lead to another /uploads path.
        for earlier in response.history:
            location = earlier.headers.get("Location", "")
            if not location.startswith(("/uploads/", "http://localhost/uploads/")):
                problems.append(f"{odd}: redirected to {location}")

    assert problems == []


@pytest.mark.parametrize("odd", ["", "%0a", "{key}%0a", "{key}%0d%0a", "{key}%09", "{key}%00"])
def test_empty_keys_and_control_characters_are_404_without_content(client, world, planted, odd):
    key = upload(client, world.a, corpus.png(), "a.png", "image/png")

    response = fetch(client, "/uploads/" + odd.format(key=key))

    assert response.status_code == 404
    assert SECRET not in response.data
    assert corpus.png() not in response.data


@pytest.mark.parametrize("image", [GOOD[0]], ids=lambda image: image.name)
def test_a_stored_file_is_served_only_under_its_own_extension(client, world, image: GoodImage):
    key = upload(client, world.a, image.data, image.filename, image.declared)
    stem = key.rsplit(".", 1)[0]

    for other in ("jpg", "gif", "webp"):
        assert_not_found(fetch(client, f"/uploads/{stem}.{other}"))
    assert fetch(client, f"/uploads/{stem}.png").status_code == 200
