"""Crafted inputs that once got past the checks: decoder crashes, animation budgets, deep JSON
in a form part, too many parts, and signed-URL refusals that must come before the body."""

from __future__ import annotations

import io

from PIL import Image

from feedback_service.images.checks import check_image
from tests.helpers import assert_json, bad_request, too_large
from tests.images import corpus
from tests.images.test_multipart import (
    assert_refused,
    database_rows,
    files_on_disk,
    post,
    upload_path,
)
from tests.test_upload_urls import get_upload_url, put

DAMAGED = "Invalid file: the image data is damaged or truncated"


def refusal(data: bytes, declared: str, max_pixels: int = 40_000_000) -> str:
    try:
        check_image(data, declared, max_pixels)
    except Exception as error:  # the message of whatever was raised
        return str(getattr(error, "message", error))
    raise AssertionError("the file was accepted")


def crafted_gifs() -> list[bytes]:
    """A valid GIF whose trailer is replaced by the start of blocks that never finish."""
    buffer = io.BytesIO()
    Image.new("P", (4, 4)).save(buffer, "GIF")
    valid = buffer.getvalue()
    assert valid.endswith(b";")
    return [valid[:-1] + b",\x00", valid[:-1] + b"!\xf9\x04"]


def test_a_gif_that_crashes_the_decoder_is_refused_as_damaged():
    for data in crafted_gifs():
        assert refusal(data, "image/gif") == DAMAGED


def test_a_crafted_gif_upload_is_a_400_and_nothing_is_stored(app, client, world, sql):
    rows, path = database_rows(sql), upload_path(world.a)
    for data in crafted_gifs():
        response = post(client, world.a, {"shots": (io.BytesIO(data), "x.gif", "image/gif")})
        assert_refused(response, path, DAMAGED, app, sql, rows)


def test_an_animation_is_bounded_by_its_pixels_in_all_frames():
    """20 frames of 100x100 are 200,000 pixels to decode: over a 150,000 limit, under 200,000."""
    frames = [Image.new("RGB", (100, 100), (n, 0, 0)) for n in range(20)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    data = buffer.getvalue()
    assert refusal(data, "image/webp", 150_000) == (
        "Animation is too large: 20 frames of 100x100 pixels (more than 150000 pixels in all)"
    )
    assert check_image(data, "image/webp", 200_000).width == 100


def test_deeply_nested_json_in_a_form_part_is_a_400_not_a_500(app, client, world, sql):
    rows = database_rows(sql)
    nested = "[" * 100_000
    response = post(client, world.a, {"score": nested})
    path = upload_path(world.a)
    message = f'invalid value: (value: "{nested}", type: number, fieldKey: score)'
    assert_json(response, 400, bad_request(path, message))
    assert database_rows(sql) == rows


def test_more_form_parts_than_files_and_fields_need_is_413(app, client, world, sql):
    rows = database_rows(sql)
    parts = {f"field{n}": "x" for n in range(app.config["UPLOAD_MAX_FILES"] + 201)}
    response = post(client, world.a, parts)
    assert_json(response, 413, too_large(upload_path(world.a)))
    assert database_rows(sql) == rows


def test_a_forged_upload_url_is_refused_before_its_body_is_read(app, client, world):
    """A tampered URL with a body over the size limit answers 403, not 413: the signature is
    checked first, so a forged URL never makes the server take an upload."""
    url = get_upload_url(client, world.a)
    too_big = b"\x00" * (app.config["UPLOAD_MAX_FILE_BYTES"] + 1)
    tampered = url.replace("signature=", "signature=0")
    assert_json(put(client, tampered, too_big), 403, {"error": "Upload URL is invalid"})
    assert files_on_disk(app) == {}


def test_a_used_upload_url_is_refused_before_its_body_is_read(app, client, world):
    url = get_upload_url(client, world.a)
    assert put(client, url, corpus.png()).status_code == 200
    too_big = b"\x00" * (app.config["UPLOAD_MAX_FILE_BYTES"] + 1)
    assert_json(put(client, url, too_big), 403, {"error": "Upload URL has been used already"})
