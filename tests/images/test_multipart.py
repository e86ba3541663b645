"""POST /api/projects/<p>/channels/<c>/feedbacks-with-images: files checked by content, stored
under random names in the upload folder, their URLs merged into the images field, the feedback
created through the normal path; every refusal leaves no row and no file behind."""

from __future__ import annotations

import gc
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from feedback_service.extensions import db
from feedback_service.models import FieldFormat
from feedback_service.services.channel_images import configure_images
from feedback_service.services.channels import FieldSpec
from tests.conftest import make_test_app
from tests.databases import TestDatabase
from tests.factories import ProjectWorld, World, make_channel
from tests.helpers import Sql, assert_json, bad_request, domain_error, forbidden, too_large
from tests.helpers import database_rows as all_rows
from tests.images import corpus
from tests.images.corpus import BadFile, GoodImage

GOOD = corpus.good_images()
HEX_NAME = r"[0-9a-f]{32}"

File = tuple[io.BytesIO, str, str]


# --- helpers ---------------------------------------------------------------------------------


def upload_path(pw: ProjectWorld, channel_id: int | None = None) -> str:
    return f"{pw.base}/channels/{channel_id or pw.channel_id}/feedbacks-with-images"


def part(data: bytes, filename: str = "shot.png", declared: str = "image/png") -> File:
    return (io.BytesIO(data), filename, declared)


def good_part(image: GoodImage, filename: str | None = None) -> File:
    return part(image.data, filename or image.filename, image.declared)


def bad_part(bad: BadFile) -> File:
    return part(bad.data, bad.filename, bad.declared)


def multipart(data: dict[str, Any]) -> tuple[str, bytes]:
    """The multipart body and its content type, encoded here: for bodies over 500 kB the test
    client's own encoder spools to a temporary file it never closes (a ResourceWarning)."""
    parts: MultiDict[str, Any] = MultiDict()
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                stream, filename, declared = item
                item = FileStorage(stream, filename=filename, content_type=declared)
            parts.add(key, item)
    boundary, body = encode_multipart(parts)
    return f"multipart/form-data; boundary={boundary}", body


def post(
    client: FlaskClient,
    pw: ProjectWorld,
    data: dict[str, Any],
    channel_id: int | None = None,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    content_type, body = multipart(data)
    return client.post(
        upload_path(pw, channel_id),
        data=body,
        content_type=content_type,
        headers=pw.headers if headers is None else headers,
    )


def upload_folder(app: Flask) -> Path:
    return Path(app.config["UPLOAD_FOLDER"])


def files_on_disk(app: Flask) -> dict[str, bytes]:
    """Every file under the upload folder (temporary files included), by relative path."""
    folder = upload_folder(app)
    if not folder.exists():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def database_rows(sql: Sql) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but ``api_key``, whose last_used_at a request may set."""
    rows = all_rows(sql)
    del rows["api_key"]
    return rows


def stored_data(sql: Sql, feedback_id: int) -> dict[str, Any]:
    (row,) = sql("SELECT data FROM feedback WHERE id = ?", (feedback_id,))
    return json.loads(row[0])


def max_feedback_id(sql: Sql) -> int:
    return sql("SELECT MAX(id) FROM feedback")[0][0]


def created_id(response: TestResponse, sql: Sql) -> int:
    """The 201 body names the feedback just written (the newest row)."""
    assert response.status_code == 201, response.get_json()
    feedback_id = max_feedback_id(sql)
    assert response.get_json() == {"id": feedback_id}
    return feedback_id


def url_pattern(pw: ProjectWorld, extension: str, channel_id: int | None = None) -> str:
    channel = channel_id or pw.channel_id
    return rf"http://localhost/uploads/{pw.project_id}/{channel}/({HEX_NAME})\.{extension}"


def key_of(url: str) -> str:
    assert url.startswith("http://localhost/uploads/"), url
    return url.removeprefix("http://localhost/uploads/")


def assert_stored_as(app: Flask, url: str, pattern: str, data: bytes) -> None:
    """The URL has the stored shape and its file holds exactly ``data``."""
    assert re.fullmatch(pattern, url), url
    assert (upload_folder(app) / key_of(url)).read_bytes() == data


@pytest.fixture
def two_field_channel(app: Flask, world: World) -> int:
    specs = (
        FieldSpec("message", FieldFormat.text),
        FieldSpec("shots", FieldFormat.images),
        FieldSpec("more", FieldFormat.images),
    )
    return make_channel(app, world.a.project_id, name="two-images", specs=specs)


@pytest.fixture
def limited(app: Flask, database: TestDatabase) -> Iterator[Any]:
    """``limited(**config)``: a client of a second app on the same database and upload folder."""
    apps: list[Flask] = []

    def build(**config: Any) -> tuple[Flask, FlaskClient]:
        other = make_test_app(database, UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"], **config)
        apps.append(other)
        return other, other.test_client()

    yield build
    for other in apps:
        with other.app_context():
            db.engine.dispose()


def assert_refused(
    response: TestResponse,
    path: str,
    message: str,
    app: Flask,
    sql: Sql,
    rows_before: dict[str, Any],
    files_before: dict[str, bytes] | None = None,
) -> None:
    """A 400 with ``message``; no new row and no new file."""
    assert_json(response, 400, bad_request(path, message))
    assert files_on_disk(app) == (files_before or {})
    assert database_rows(sql) == rows_before


# --- storing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("image", GOOD, ids=lambda image: image.name)
def test_an_image_is_stored_under_a_random_name_and_its_url_saved(app, client, world, sql, image):
    response = post(client, world.a, {"message": "it broke", "shots": good_part(image)})

    feedback_id = created_id(response, sql)
    data = stored_data(sql, feedback_id)
    assert list(data) == ["message", "shots"]
    assert data["message"] == "it broke"
    (url,) = data["shots"]
    assert_stored_as(app, url, url_pattern(world.a, image.extension), image.data)
    assert files_on_disk(app) == {key_of(url): image.data}


def test_the_stored_feedback_reads_back_through_the_api(app, client, world, sql):
    response = post(client, world.a, {"shots": good_part(GOOD[0])})
    feedback_id = created_id(response, sql)

    got = client.get(f"{world.a.channel}/feedbacks/{feedback_id}", headers=world.a.headers)

    assert got.status_code == 200
    (url,) = got.get_json()["shots"]
    assert_stored_as(app, url, url_pattern(world.a, "png"), GOOD[0].data)


def test_each_upload_gets_a_new_name(app, client, world, sql):
    urls = []
    for _ in range(3):
        response = post(client, world.a, {"shots": good_part(GOOD[0], "same.png")})
        urls += stored_data(sql, created_id(response, sql))["shots"]

    assert len(set(urls)) == 3
    assert sorted(files_on_disk(app)) == sorted(key_of(url) for url in urls)


@pytest.mark.parametrize(
    "filename",
    [
        "../../etc/passwd.png",
        "..\\..\\windows\\win.ini.png",
        "/etc/passwd.png",
        "....//....//x.png",
        "%2e%2e%2fx.png",
        "스크린샷 2024-01-01 ✓.png",
        "shot.png.html",
        "shot",
        ".htaccess",
    ],
)
def test_the_client_filename_never_becomes_part_of_a_path(
    app, client, world, sql, tmp_path, filename
):
    response = post(client, world.a, {"shots": part(corpus.png(), filename)})

    (url,) = stored_data(sql, created_id(response, sql))["shots"]
    assert_stored_as(app, url, url_pattern(world.a, "png"), corpus.png())
    assert files_on_disk(app) == {key_of(url): corpus.png()}
    # Nothing was written anywhere else under the test's folder either.
    written = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert not written & {"passwd.png", "win.ini.png", "x.png", ".htaccess", "shot"}
    assert stored_data(sql, max_feedback_id(sql)) == {"shots": [url]}


def test_several_files_in_one_field_keep_their_order(app, client, world, sql):
    images = [GOOD[0], GOOD[1], GOOD[2], GOOD[4]]  # png, jpeg, gif, webp

    response = post(client, world.a, {"shots": [good_part(image) for image in images]})

    urls = stored_data(sql, created_id(response, sql))["shots"]
    assert len(urls) == 4
    for url, image in zip(urls, images, strict=True):
        assert_stored_as(app, url, url_pattern(world.a, image.extension), image.data)
    assert len(files_on_disk(app)) == 4


def test_files_in_two_images_fields_go_to_their_own_field(
    app, client, world, sql, two_field_channel
):
    data = {
        "message": "two",
        "shots": [good_part(GOOD[0]), good_part(GOOD[1])],
        "more": good_part(GOOD[4]),
    }

    response = post(client, world.a, data, two_field_channel)

    stored = stored_data(sql, created_id(response, sql))
    assert stored["message"] == "two"
    assert len(stored["shots"]) == 2
    assert_stored_as(
        app, stored["shots"][0], url_pattern(world.a, "png", two_field_channel), GOOD[0].data
    )
    assert_stored_as(
        app, stored["shots"][1], url_pattern(world.a, "jpg", two_field_channel), GOOD[1].data
    )
    (more,) = stored["more"]
    assert_stored_as(app, more, url_pattern(world.a, "webp", two_field_channel), GOOD[4].data)
    assert len(files_on_disk(app)) == 3


def test_a_json_list_of_links_in_the_images_field_is_kept_before_the_uploads(
    app, client, world, sql
):
    link = "https://cdn.example.com/earlier.png"

    response = post(client, world.a, {"shots": [json.dumps([link]), good_part(GOOD[0])]})

    stored = stored_data(sql, created_id(response, sql))
    assert stored["shots"][0] == link
    assert_stored_as(app, stored["shots"][1], url_pattern(world.a, "png"), GOOD[0].data)
    assert len(stored["shots"]) == 2


# --- non-file parts ----------------------------------------------------------------------------


def test_plain_string_parts_work_for_every_string_format(app, client, world, sql):
    form = {
        "message": "3",  # a text field keeps a string that happens to be JSON
        "label": '["not", "a", "list"]',
        "kind": "bug",
        "seen_at": "2024-03-01T10:00:00Z",
        "source": "sdk",
    }

    response = post(client, world.a, form)

    assert stored_data(sql, created_id(response, sql)) == {
        "message": "3",
        "label": '["not", "a", "list"]',
        "kind": "bug",
        "seen_at": "2024-03-01T10:00:00.000Z",
        "source": "sdk",
    }
    assert files_on_disk(app) == {}


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"score": "3"}, {"score": 3}),
        ({"score": "-2.5"}, {"score": -2.5}),
        ({"tags": '["ui"]'}, {"tags": ["ui"]}),
        ({"tags": '["ui", "api", "ui"]'}, {"tags": ["ui", "api"]}),
        ({"tags": "[]"}, {"tags": []}),
    ],
)
def test_number_and_multiselect_parts_may_carry_json(client, world, sql, form, expected):
    response = post(client, world.a, {**form, "shots": good_part(GOOD[0])})

    stored = stored_data(sql, created_id(response, sql))
    assert {key: stored[key] for key in expected} == expected


def test_issue_names_part_may_carry_json(client, world, sql):
    response = post(client, world.a, {"message": "pay", "issueNames": '["payment", "checkout"]'})

    feedback_id = created_id(response, sql)
    assert stored_data(sql, feedback_id) == {"message": "pay"}
    linked = sql(
        "SELECT issue.name, issue.project_id FROM feedback_issue JOIN issue ON issue.id = "
        "feedback_issue.issue_id WHERE feedback_id = ? ORDER BY issue.name",
        (feedback_id,),
    )
    assert linked == [("checkout", world.a.project_id), ("payment", world.a.project_id)]


def test_a_repeated_text_part_keeps_its_last_value(client, world, sql):
    response = post(client, world.a, {"message": ["first", "second"]})

    assert stored_data(sql, created_id(response, sql)) == {"message": "second"}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"score": "abc"}, 'invalid value: (value: "abc", type: number, fieldKey: score)'),
        ({"score": "true"}, 'invalid value: (value: "true", type: number, fieldKey: score)'),
        ({"score": "[3]"}, 'invalid value: (value: "[3]", type: number, fieldKey: score)'),
        ({"score": ""}, 'invalid value: (value: "", type: number, fieldKey: score)'),
        ({"tags": "ui"}, 'invalid value: (value: "ui", type: multiSelect, fieldKey: tags)'),
        (
            {"tags": '["nope"]'},
            'invalid value: (value: ["nope"], type: multiSelect, fieldKey: tags)',
        ),
        ({"kind": "nope"}, 'invalid value: (value: "nope", type: select, fieldKey: kind)'),
        (
            {"seen_at": "someday"},
            'invalid value: (value: "someday", type: date, fieldKey: seen_at)',
        ),
        ({"issueNames": "payment"}, "issueNames must be array"),
        ({"unknown": "x"}, "invalid field key: unknown"),
        ({"id": "3"}, "reserved field key is unavailable: id"),
    ],
)
def test_a_refused_value_removes_the_files_already_stored(app, client, world, sql, form, message):
    before = database_rows(sql)
    data = {"shots": [good_part(GOOD[0]), good_part(GOOD[1])], **form}

    response = post(client, world.a, data)

    assert_refused(response, upload_path(world.a), message, app, sql, before)


# --- refused files -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", corpus.bad_files(), ids=lambda bad: bad.name)
def test_a_bad_file_is_refused_and_nothing_is_stored(app, client, world, sql, bad):
    before = database_rows(sql)

    response = post(client, world.a, {"message": "x", "shots": bad_part(bad)})

    assert_refused(response, upload_path(world.a), bad.message, app, sql, before)


@pytest.mark.parametrize(
    "bad",
    [corpus.bad_file("html-named-png"), corpus.bad_file("truncated-jpeg")],
    ids=lambda bad: bad.name,
)
def test_one_bad_file_among_good_ones_refuses_them_all(app, client, world, sql, bad):
    before = database_rows(sql)
    shots = [good_part(GOOD[0]), good_part(GOOD[1]), bad_part(bad), good_part(GOOD[2])]

    response = post(client, world.a, {"shots": shots})

    assert_refused(response, upload_path(world.a), bad.message, app, sql, before)


def test_a_bad_file_in_the_second_images_field_refuses_the_first(
    app, client, world, sql, two_field_channel
):
    before = database_rows(sql)
    bad = corpus.bad_file("svg")

    response = post(
        client, world.a, {"shots": good_part(GOOD[0]), "more": bad_part(bad)}, two_field_channel
    )

    assert_refused(response, upload_path(world.a, two_field_channel), bad.message, app, sql, before)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("nope", "invalid field key: nope"),
        ("issueNames", "invalid field key: issueNames"),
        ("message", "not an images field: message"),
        ("score", "not an images field: score"),
        ("tags", "not an images field: tags"),
    ],
)
def test_a_file_under_a_key_that_is_not_an_images_field_is_refused(
    app, client, world, sql, key, message
):
    before = database_rows(sql)

    response = post(client, world.a, {"shots": good_part(GOOD[0]), key: good_part(GOOD[1])})

    assert_refused(response, upload_path(world.a), message, app, sql, before)


def test_a_multi_picture_jpeg_is_stored_as_a_jpeg(app, client, world, sql):
    """A JPEG with an MP extension (written by phones and stereo cameras) is a real JPEG."""
    response = post(client, world.a, {"shots": part(corpus.mpo(), "photo.jpg", "image/jpeg")})

    (url,) = stored_data(sql, created_id(response, sql))["shots"]
    assert_stored_as(app, url, url_pattern(world.a, "jpg"), corpus.mpo())


# --- limits ------------------------------------------------------------------------------------


def test_the_file_count_limit_counts_every_field(app, world, sql, limited, two_field_channel):
    limited_app, client = limited(UPLOAD_MAX_FILES=2)

    at_limit = post(
        client,
        world.a,
        {"shots": good_part(GOOD[0]), "more": good_part(GOOD[1])},
        two_field_channel,
    )
    stored = stored_data(sql, created_id(at_limit, sql))
    assert len(stored["shots"]) == len(stored["more"]) == 1
    files = files_on_disk(app)
    assert len(files) == 2

    before = database_rows(sql)
    over = post(
        client,
        world.a,
        {"shots": [good_part(GOOD[0]), good_part(GOOD[1])], "more": good_part(GOOD[2])},
        two_field_channel,
    )
    assert_refused(
        over,
        upload_path(world.a, two_field_channel),
        "at most 2 images per request",
        limited_app,
        sql,
        before,
        files,
    )


def test_more_files_than_the_limit_are_refused(app, world, sql, limited):
    _, client = limited(UPLOAD_MAX_FILES=3)
    before = database_rows(sql)

    response = post(client, world.a, {"shots": [good_part(GOOD[0]) for _ in range(4)]})

    assert_refused(response, upload_path(world.a), "at most 3 images per request", app, sql, before)


def test_the_default_file_count_limit_is_ten(app, client, world, sql):
    before = database_rows(sql)

    response = post(client, world.a, {"shots": [good_part(GOOD[3]) for _ in range(11)]})

    assert_refused(
        response, upload_path(world.a), "at most 10 images per request", app, sql, before
    )

    ten = post(client, world.a, {"shots": [good_part(GOOD[3]) for _ in range(10)]})
    assert len(stored_data(sql, created_id(ten, sql))["shots"]) == 10
    assert len(files_on_disk(app)) == 10


def test_a_file_over_the_byte_limit_is_refused(app, world, sql, limited):
    size = len(corpus.png())
    _, client = limited(UPLOAD_MAX_FILE_BYTES=size)

    at_limit = post(client, world.a, {"shots": good_part(GOOD[0])})
    (url,) = stored_data(sql, created_id(at_limit, sql))["shots"]
    assert_stored_as(app, url, url_pattern(world.a, "png"), corpus.png())

    files = files_on_disk(app)
    before = database_rows(sql)
    over = post(client, world.a, {"shots": part(corpus.png() + b"\0")})
    message = f"image is larger than {size} bytes"
    assert_refused(over, upload_path(world.a), message, app, sql, before, files)


def test_an_image_over_the_pixel_limit_is_refused(app, world, sql, limited):
    _, client = limited(UPLOAD_MAX_PIXELS=100)

    at_limit = post(client, world.a, {"shots": part(corpus.raw_png(10, 10))})
    (url,) = stored_data(sql, created_id(at_limit, sql))["shots"]
    assert_stored_as(app, url, url_pattern(world.a, "png"), corpus.raw_png(10, 10))

    files = files_on_disk(app)
    before = database_rows(sql)
    over = post(client, world.a, {"shots": part(corpus.raw_png(11, 10))})
    message = corpus.too_many_pixels(11, 10, 100)
    assert_refused(over, upload_path(world.a), message, app, sql, before, files)


def test_a_gif_frame_over_the_pixel_limit_is_refused_though_its_header_is_small(
    app, world, sql, limited
):
    _, client = limited(UPLOAD_MAX_PIXELS=100)
    before = database_rows(sql)
    bomb = corpus.gif_with_oversized_frame(20, 20)  # says 1x1, decodes to 20x20

    response = post(client, world.a, {"shots": part(bomb, "anim.gif", "image/gif")})

    body = response.get_json()
    assert response.status_code == 400, body
    # No message exists for this case yet: any "too large" refusal in the NestJS shape will do.
    assert body == bad_request(upload_path(world.a), body["message"])
    assert body["message"].startswith("Image is too large"), body
    assert files_on_disk(app) == {}
    assert database_rows(sql) == before


def test_a_request_over_the_size_limit_is_413_in_the_nestjs_shape(app, world, sql, limited):
    _, client = limited(UPLOAD_MAX_REQUEST_BYTES=8000)
    before = database_rows(sql)

    response = post(client, world.a, {"shots": part(corpus.png() + bytes(6000))})

    assert_json(response, 413, too_large(upload_path(world.a)))
    assert files_on_disk(app) == {}
    assert database_rows(sql) == before

    under = post(client, world.a, {"shots": good_part(GOOD[0])})
    (url,) = stored_data(sql, created_id(under, sql))["shots"]
    assert_stored_as(app, url, url_pattern(world.a, "png"), corpus.png())


# Werkzeug's form parser leaves the temporary file of the part it was reading when the limit
# hit to the garbage collector (werkzeug.formparser, not this project).
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in.*SpooledTemporaryFile:pytest.PytestUnraisableExceptionWarning"
)
def test_a_streamed_request_without_content_length_is_limited_too(app, world, sql, limited):
    """A chunked body (no Content-Length) is cut off at the limit while it is read."""
    _, client = limited(UPLOAD_MAX_REQUEST_BYTES=8000)
    before = database_rows(sql)
    content_type, body = multipart({"message": "x", "shots": part(corpus.png() + bytes(6000))})

    response = client.post(
        upload_path(world.a),
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers=world.a.headers,
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    gc.collect()  # while the warning filter above applies

    assert_json(response, 413, too_large(upload_path(world.a)))
    assert files_on_disk(app) == {}
    assert database_rows(sql) == before


def test_the_request_limit_is_not_the_json_limit(app, client, world, sql):
    """Multipart bodies may exceed the 1 MiB of JSON bodies, up to UPLOAD_MAX_REQUEST_BYTES."""
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    padded = corpus.png() + bytes(1024 * 1024)

    response = post(client, world.a, {"shots": part(padded)})

    (url,) = stored_data(sql, created_id(response, sql))["shots"]
    assert_stored_as(app, url, url_pattern(world.a, "png"), padded)


# --- request shape, scope and auth -------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": {"message": "x"}},
        {"data": {"message": "x"}, "content_type": "application/x-www-form-urlencoded"},
        {"data": b"message=x", "content_type": "text/plain"},
        {},
    ],
    ids=["json", "urlencoded", "text", "no-body"],
)
def test_a_body_that_is_not_multipart_is_refused(app, client, world, sql, kwargs):
    before = database_rows(sql)

    response = client.post(upload_path(world.a), headers=world.a.headers, **kwargs)

    message = "the body must be multipart/form-data"
    assert_refused(response, upload_path(world.a), message, app, sql, before)


@pytest.mark.parametrize("body", ["multipart", "json"])
def test_another_projects_channel_is_answered_as_a_missing_one(app, client, world, sql, body):
    """The channel is checked before the body, whatever the body is."""
    before = database_rows(sql)
    answers = []

    for channel_id in (world.b.channel_id, 999999):
        if body == "json":
            response = client.post(
                upload_path(world.a, channel_id), json={"message": "x"}, headers=world.a.headers
            )
        else:
            data = {"message": "x", "shots": good_part(GOOD[0])}
            response = post(client, world.a, data, channel_id)
        answers.append((response.status_code, response.get_json()))

    not_found = "channel is not found"
    assert answers == [
        (400, domain_error(upload_path(world.a, channel_id), "ChannelNotFound", not_found))
        for channel_id in (world.b.channel_id, 999999)
    ]
    assert files_on_disk(app) == {}
    assert database_rows(sql) == before


@pytest.mark.parametrize("key", [None, "wrong-key-0123456789", "other-project"])
def test_a_request_without_a_valid_key_is_forbidden_and_stores_nothing(
    app, client, world, sql, key
):
    before = database_rows(sql)
    headers = {} if key is None else {"x-api-key": world.b.key if key == "other-project" else key}

    response = post(client, world.a, {"shots": good_part(GOOD[0])}, headers=headers)

    assert_json(response, 403, forbidden(upload_path(world.a)))
    assert files_on_disk(app) == {}
    assert database_rows(sql) == before


# --- whitelist --------------------------------------------------------------------------------


@pytest.fixture
def whitelisted(app: Flask, world: World) -> None:
    with app.app_context():
        configure_images(world.a.project_id, world.a.channel_id, image_domains=["cdn.example.com"])


@pytest.mark.usefixtures("whitelisted")
@pytest.mark.parametrize(
    "config",
    [{"PUBLIC_URL": "http://localhost"}, {"TRUSTED_HOSTS": ["localhost"]}],
    ids=["PUBLIC_URL", "TRUSTED_HOSTS"],
)
def test_uploaded_images_pass_the_channel_whitelist(app, world, sql, limited, config):
    _, client = limited(**config)
    link = "https://cdn.example.com/a.png"

    response = post(client, world.a, {"shots": [json.dumps([link]), good_part(GOOD[1])]})

    stored = stored_data(sql, created_id(response, sql))["shots"]
    assert stored[0] == link
    assert_stored_as(app, stored[1], url_pattern(world.a, "jpg"), GOOD[1].data)
    assert files_on_disk(app) == {key_of(stored[1]): GOOD[1].data}


@pytest.mark.usefixtures("whitelisted")
def test_without_a_known_address_uploads_are_held_to_the_whitelist(app, client, world, sql):
    """Unset PUBLIC_URL and TRUSTED_HOSTS, the stored URL's host comes from the request and gets
    no exemption (docs/images.md): the upload is refused and its file removed."""
    before = database_rows(sql)

    response = post(client, world.a, {"shots": good_part(GOOD[0])})

    message = "invalid domain in image link: localhost (fieldKey: shots)"
    assert_refused(response, upload_path(world.a), message, app, sql, before)


@pytest.mark.usefixtures("whitelisted")
def test_a_link_off_the_whitelist_refuses_the_uploads_too(app, world, sql, limited):
    _, client = limited(PUBLIC_URL="http://localhost")
    before = database_rows(sql)
    shots = [good_part(GOOD[0]), json.dumps(["https://evil.net/a.png"]), good_part(GOOD[1])]

    response = post(client, world.a, {"shots": shots})

    message = "invalid domain in image link: evil.net (fieldKey: shots)"
    assert_refused(response, upload_path(world.a), message, app, sql, before)


def test_stored_urls_are_built_on_public_url_when_it_is_set(app, world, sql, limited):
    _, client = limited(PUBLIC_URL="https://feedback.example.com/")

    # The Host header names another site: PUBLIC_URL, not the request, decides the URL.
    headers = {**world.a.headers, "Host": "attacker.example"}
    response = post(client, world.a, {"shots": good_part(GOOD[0])}, headers=headers)

    (url,) = stored_data(sql, created_id(response, sql))["shots"]
    base = "https://feedback.example.com/uploads/"
    folder = f"{world.a.project_id}/{world.a.channel_id}"
    assert re.fullmatch(rf"{re.escape(base)}{folder}/{HEX_NAME}\.png", url), url
    assert files_on_disk(app) == {url.removeprefix(base): corpus.png()}
