"""feedback_service.images.checks.check_image over the corpus: only real PNG, JPEG, GIF and WebP
images whose declared type matches their bytes, within the pixel and frame limits, pass; every
refusal carries its exact message."""

from __future__ import annotations

import contextlib
import io
import time

import pytest
from PIL import Image

from feedback_service.errors import InvalidInput
from feedback_service.images.checks import TYPES, CheckedImage, ImageType, check_image
from tests.images import corpus
from tests.images.corpus import DEFAULT_MAX_PIXELS, BadFile, GoodImage

GOOD = corpus.good_images()
BAD = corpus.bad_files()
TYPE_BY_CONTENT_TYPE = {image_type.content_type: image_type for image_type in TYPES.values()}


def refusal(data: bytes, declared: str | None, max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    with pytest.raises(InvalidInput) as raised:
        check_image(data, declared, max_pixels)
    return str(raised.value.message)


def test_the_stored_types_are_exactly_the_four_raster_formats():
    assert {t.content_type: t.extension for t in TYPES.values()} == {
        "image/png": "png",
        "image/jpeg": "jpg",
        "image/gif": "gif",
        "image/webp": "webp",
    }


@pytest.mark.parametrize("image", GOOD, ids=lambda image: image.name)
def test_a_real_image_passes_with_its_detected_type_and_size(image: GoodImage):
    checked = check_image(image.data, image.declared, DEFAULT_MAX_PIXELS)

    assert checked == CheckedImage(
        ImageType(image.content_type, image.extension), image.width, image.height
    )


@pytest.mark.parametrize(
    ("data", "declared", "content_type"),
    [
        (corpus.jpeg(), "image/jpg", "image/jpeg"),
        (corpus.jpeg(), "image/pjpeg", "image/jpeg"),
        (corpus.png(), "image/x-png", "image/png"),
        (corpus.png(), "IMAGE/PNG", "image/png"),
        (corpus.png(), "image/png; charset=binary", "image/png"),
        (corpus.webp(), " image/webp ", "image/webp"),
    ],
)
def test_common_spellings_of_a_declared_type_are_understood(data, declared, content_type):
    checked = check_image(data, declared, DEFAULT_MAX_PIXELS)

    assert checked.type == TYPE_BY_CONTENT_TYPE[content_type]


@pytest.mark.parametrize("bad", BAD, ids=lambda bad: bad.name)
def test_every_bad_file_is_refused_with_its_message(bad: BadFile):
    assert refusal(bad.data, bad.declared) == bad.message


@pytest.mark.parametrize(
    ("image", "declared"),
    [
        (image, other)
        for image in GOOD
        for other in TYPE_BY_CONTENT_TYPE
        if other != image.content_type
    ],
    ids=lambda value: value.name if isinstance(value, GoodImage) else value,
)
def test_a_real_image_declared_as_another_image_type_is_refused(image: GoodImage, declared):
    assert refusal(image.data, declared) == corpus.wrong_type(declared, image.content_type)


@pytest.mark.parametrize(
    ("declared", "shown"),
    [
        (None, "none"),
        ("", "none"),
        ("text/plain", "text/plain"),
        ("application/pdf", "application/pdf"),
        ("Text/HTML; charset=utf-8", "text/html"),
    ],
)
def test_a_declared_type_that_is_not_an_image_is_refused_before_the_bytes_are_read(declared, shown):
    # Real PNG bytes: the declaration alone decides this refusal, as in the reference server.
    assert refusal(corpus.png(), declared) == corpus.not_image(shown)


def test_the_pixel_limit_is_inclusive():
    assert check_image(corpus.raw_png(10, 10), "image/png", 100) == CheckedImage(
        TYPE_BY_CONTENT_TYPE["image/png"], 10, 10
    )
    assert refusal(corpus.raw_png(11, 10), "image/png", 100) == corpus.too_many_pixels(11, 10, 100)
    assert refusal(corpus.raw_png(10, 11), "image/png", 100) == corpus.too_many_pixels(10, 11, 100)


@pytest.mark.parametrize("image", GOOD, ids=lambda image: image.name)
def test_the_pixel_limit_applies_to_every_type(image: GoodImage):
    """The limit bounds everything decoded: all the frames of an animation together."""
    frames = getattr(Image.open(io.BytesIO(image.data)), "n_frames", 1)
    pixels = image.width * image.height * frames

    assert check_image(image.data, image.declared, pixels).type.content_type == image.content_type
    expected = (
        corpus.too_many_pixels(image.width, image.height, pixels - 1)
        if frames == 1
        else f"Animation is too large: {frames} frames of {image.width}x{image.height} pixels "
        f"(more than {pixels - 1} pixels in all)"
    )
    assert refusal(image.data, image.declared, pixels - 1) == expected


def test_a_pixel_bomb_is_tiny_on_disk_and_refused_from_its_header():
    bomb = corpus.pixel_bomb()
    assert len(bomb) < 100_000  # 400 million pixels

    started = time.perf_counter()
    message = refusal(bomb, "image/png")
    elapsed = time.perf_counter() - started

    assert message == corpus.too_many_pixels(20000, 20000, DEFAULT_MAX_PIXELS)
    # Decoding 400 million pixels takes seconds and 400 MB; reading a header takes microseconds.
    assert elapsed < 1.0


def test_a_bomb_under_pillows_guard_is_refused_by_the_configured_limit():
    started = time.perf_counter()
    message = refusal(corpus.moderate_bomb(), "image/png", DEFAULT_MAX_PIXELS)

    assert message == corpus.too_many_pixels(10000, 5000, DEFAULT_MAX_PIXELS)
    assert time.perf_counter() - started < 1.0


def test_the_frame_limit_is_inclusive():
    at_limit = corpus.many_frames_gif(corpus.MAX_FRAMES)

    assert check_image(at_limit, "image/gif", DEFAULT_MAX_PIXELS).type.content_type == "image/gif"
    assert refusal(corpus.many_frames_gif(corpus.MAX_FRAMES + 1), "image/gif") == (
        corpus.TOO_MANY_FRAMES
    )


def test_an_image_with_trailing_bytes_is_still_that_image():
    # Bytes after IEND are ignored by every decoder; the file is stored and served as a PNG
    # (with nosniff and a sandbox CSP, see test_serving), so it can never be read as HTML.
    polyglot = corpus.png() + corpus.HTML

    assert check_image(polyglot, "image/png", DEFAULT_MAX_PIXELS) == CheckedImage(
        TYPE_BY_CONTENT_TYPE["image/png"], 48, 32
    )


def test_a_multi_picture_jpeg_is_a_jpeg():
    """Phones and stereo cameras write JPEGs with an MP extension (a second picture after the
    first). Browsers show them as plain JPEGs; Pillow opens them as format "MPO"."""
    checked = check_image(corpus.mpo(), "image/jpeg", DEFAULT_MAX_PIXELS)

    assert checked == CheckedImage(TYPE_BY_CONTENT_TYPE["image/jpeg"], 32, 24)


def test_a_multi_picture_jpeg_is_never_an_unexpected_error():
    """Whatever the verdict on MPO files, it must be an InvalidInput (a 400), not a crash."""
    with contextlib.suppress(InvalidInput):
        check_image(corpus.mpo(), "image/jpeg", DEFAULT_MAX_PIXELS)


def test_the_configured_pixel_limit_decides_even_above_pillows_own_guard():
    """UPLOAD_MAX_PIXELS is the limit: Pillow's global guard (it raises above twice its default
    Image.MAX_IMAGE_PIXELS, about 179 million pixels) is replaced by the module's own check, so
    a 400 million pixel image passes a 500 million limit."""
    assert Image.MAX_IMAGE_PIXELS is None
    assert check_image(corpus.pixel_bomb(), "image/png", 500_000_000) == CheckedImage(
        TYPE_BY_CONTENT_TYPE["image/png"], 20000, 20000
    )


def test_a_gif_frame_larger_than_its_screen_counts_against_the_pixel_limit():
    """The header of this GIF says 1x1; its second frame is 20x20, and Pillow grows the image to
    20x20 when it decodes that frame. The limit must hold for what is decoded, or a 40 kB GIF
    with a 7000x7000 frame passes a 40 million pixel limit and costs ~600 MB to check."""
    bomb = corpus.gif_with_oversized_frame(20, 20)

    assert refusal(bomb, "image/gif", 400) == corpus.too_many_pixels(20, 20, 400)
    # Within the limit (1 + 400 pixels decoded) the same file is fine.
    assert check_image(bomb, "image/gif", 401).type.content_type == "image/gif"
