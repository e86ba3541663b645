"""Image files for the upload tests, built in memory: real images of every accepted type, and a
corpus of files the service must refuse.

Everything is deterministic (seeded noise), small, and cached per process, so the same bytes can
be compared with what lands on disk.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from dataclasses import dataclass
from functools import cache

from PIL import Image

# The configured default (feedback_service.config.DefaultConfig.UPLOAD_MAX_PIXELS).
DEFAULT_MAX_PIXELS = 40_000_000
# feedback_service.images.checks.MAX_FRAMES
MAX_FRAMES = 500

NOT_RASTER = "Invalid file: not a PNG, JPEG, GIF or WebP image"
DAMAGED = "Invalid file: the image data is damaged or truncated"
TOO_MANY_FRAMES = f"Image has too many frames (more than {MAX_FRAMES})"


def not_image(declared: str) -> str:
    return f"Not Image File ({declared})"


def wrong_type(sent: str, detected: str) -> str:
    return f"Invalid file (sent type: {sent}, detected type: [{detected}])"


def too_many_pixels(width: int, height: int, max_pixels: int) -> str:
    """Refused from the header, above the configured limit."""
    return f"Image is too large: {width}x{height} pixels (more than {max_pixels})"


# --- building blocks ---------------------------------------------------------------------------


def noise(width: int, height: int, seed: int = 1) -> Image.Image:
    """An RGB image of seeded noise: it compresses badly, so scan data is long."""
    data = random.Random(seed).randbytes(width * height * 3)
    return Image.frombytes("RGB", (width, height), data)


def encode(image: Image.Image, format_: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format_, **options)
    return buffer.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def raw_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of zeros written by hand: any size, a few kB on disk.

    Pillow never has to hold the pixels to build it, so a 20000x20000 "bomb" costs nothing here.
    """
    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then the packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _frames(count: int) -> list[Image.Image]:
    """``count`` 1x1 palette frames alternating black and white (so none is merged away)."""
    palette = [0, 0, 0, 255, 255, 255] + [0] * (256 * 3 - 6)
    frames = []
    for index in range(count):
        frame = Image.new("P", (1, 1), index % 2)
        frame.putpalette(palette)
        frames.append(frame)
    return frames


# --- good images -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoodImage:
    name: str
    filename: str
    data: bytes
    declared: str
    # What the service detects, stores and serves.
    content_type: str
    extension: str
    width: int
    height: int


@cache
def png() -> bytes:
    return encode(noise(48, 32, seed=1), "PNG")


@cache
def jpeg() -> bytes:
    return encode(noise(40, 30, seed=2), "JPEG", quality=90)


@cache
def gif() -> bytes:
    return encode(noise(24, 16, seed=3).convert("P"), "GIF")


@cache
def animated_gif(frames: int = 3) -> bytes:
    images = _frames(frames)
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=100)


@cache
def webp() -> bytes:
    return encode(noise(20, 20, seed=4), "WEBP", quality=80)


@cache
def lossless_webp() -> bytes:
    return encode(noise(20, 20, seed=5), "WEBP", lossless=True)


@cache
def mpo() -> bytes:
    """A JPEG carrying a second picture in an MP extension (phones and stereo cameras write
    these; every browser shows them as the JPEG they start with)."""
    first = noise(32, 24, seed=6)
    return encode(first, "MPO", save_all=True, append_images=[noise(32, 24, seed=7)])


def good_images() -> list[GoodImage]:
    return [
        GoodImage("png", "shot.png", png(), "image/png", "image/png", "png", 48, 32),
        GoodImage("jpeg", "photo.jpg", jpeg(), "image/jpeg", "image/jpeg", "jpg", 40, 30),
        GoodImage("gif", "still.gif", gif(), "image/gif", "image/gif", "gif", 24, 16),
        GoodImage(
            "animated-gif", "anim.gif", animated_gif(), "image/gif", "image/gif", "gif", 1, 1
        ),
        GoodImage("webp", "shot.webp", webp(), "image/webp", "image/webp", "webp", 20, 20),
        GoodImage(
            "lossless-webp", "l.webp", lossless_webp(), "image/webp", "image/webp", "webp", 20, 20
        ),
    ]


# --- bad files ---------------------------------------------------------------------------------


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)


@cache
def truncated_jpeg() -> bytes:
    """A noisy JPEG cut half-way through its scan data (after the SOS marker)."""
    data = encode(noise(256, 256, seed=8), "JPEG", quality=90)
    start_of_scan = data.index(b"\xff\xda")
    cut = start_of_scan + (len(data) - start_of_scan) // 2
    assert start_of_scan + 1000 < cut < len(data) - 1000, "the cut must be inside the scan data"
    return data[:cut]


@cache
def truncated_png() -> bytes:
    """A noisy PNG cut half-way through its IDAT chunk."""
    data = encode(noise(128, 128, seed=9), "PNG")
    idat = data.index(b"IDAT")
    cut = idat + (len(data) - idat) // 2
    assert idat + 1000 < cut < len(data) - 1000
    return data[:cut]


@cache
def truncated_gif() -> bytes:
    data = encode(noise(64, 64, seed=10).convert("P"), "GIF")
    return data[: len(data) // 2]


@cache
def pixel_bomb() -> bytes:
    """20000x20000 pixels (400 million, 400 MB decoded) in about 50 kB."""
    return raw_png(20000, 20000)


@cache
def moderate_bomb() -> bytes:
    """10000x5000 pixels: under Pillow's own guard, over the configured 40 million."""
    return raw_png(10000, 5000)


@cache
def many_frames_gif(frames: int = MAX_FRAMES + 1) -> bytes:
    images = _frames(frames)
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=10)


def _gif_image_block(gif: bytes) -> bytes:
    """The first image (descriptor, local colour table, LZW data) of a GIF Pillow wrote."""

    def skip_sub_blocks(position: int) -> int:
        while gif[position]:
            position += gif[position] + 1
        return position + 1

    flags = gif[10]
    position = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while gif[position] == 0x21:  # extensions before the image
        position = skip_sub_blocks(position + 2)
    assert gif[position] == 0x2C, "an image descriptor"
    start = position
    local = gif[start + 9]
    position = start + 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
    return gif[start : skip_sub_blocks(position + 1)]


def _black_and_white(width: int, height: int) -> bytes:
    image = Image.new("P", (width, height), 0)
    image.putpalette([0, 0, 0, 255, 255, 255])
    return encode(image, "GIF")


@cache
def gif_with_oversized_frame(width: int, height: int) -> bytes:
    """A GIF whose logical screen (and first frame) is 1x1 and whose second frame is
    ``width`` x ``height``: the header promises one pixel, decoding the second frame makes
    Pillow grow the image to the frame's size."""
    small = _black_and_white(1, 1)
    colour_table = 3 * 2 ** ((small[10] & 7) + 1) if small[10] & 0x80 else 0
    graphic_control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"
    return (
        small[: 13 + colour_table]
        + _gif_image_block(small)
        + graphic_control
        + _gif_image_block(_black_and_white(width, height))
        + b"\x3b"
    )


@cache
def bmp() -> bytes:
    return encode(noise(8, 8, seed=11), "BMP")


@cache
def tiff() -> bytes:
    return encode(noise(8, 8, seed=12), "TIFF")


@dataclass(frozen=True)
class BadFile:
    name: str
    filename: str
    data: bytes
    declared: str
    message: str


def bad_files(max_pixels: int = DEFAULT_MAX_PIXELS) -> list[BadFile]:
    """Files that must be refused, with the exact message, under the given pixel limit."""
    return [
        BadFile("html-named-png", "shot.png", HTML, "image/png", NOT_RASTER),
        BadFile("html-declared-html", "page.html", HTML, "text/html", not_image("text/html")),
        BadFile("svg", "logo.svg", SVG, "image/svg+xml", NOT_RASTER),
        BadFile("svg-named-png", "logo.png", SVG, "image/png", NOT_RASTER),
        BadFile("truncated-jpeg", "cut.jpg", truncated_jpeg(), "image/jpeg", DAMAGED),
        BadFile("truncated-png", "cut.png", truncated_png(), "image/png", DAMAGED),
        BadFile("truncated-gif", "cut.gif", truncated_gif(), "image/gif", DAMAGED),
        BadFile(
            "pixel-bomb",
            "bomb.png",
            pixel_bomb(),
            "image/png",
            too_many_pixels(20000, 20000, max_pixels),
        ),
        BadFile(
            "moderate-bomb",
            "big.png",
            moderate_bomb(),
            "image/png",
            too_many_pixels(10000, 5000, max_pixels),
        ),
        BadFile(
            "png-declared-jpeg", "x.jpg", png(), "image/jpeg", wrong_type("image/jpeg", "image/png")
        ),
        BadFile(
            "jpeg-declared-png", "x.png", jpeg(), "image/png", wrong_type("image/png", "image/jpeg")
        ),
        BadFile(
            "gif-declared-webp",
            "x.webp",
            gif(),
            "image/webp",
            wrong_type("image/webp", "image/gif"),
        ),
        BadFile(
            "webp-declared-gif", "x.gif", webp(), "image/gif", wrong_type("image/gif", "image/webp")
        ),
        BadFile("png-declared-text", "x.png", png(), "text/plain", not_image("text/plain")),
        BadFile(
            "png-declared-octet-stream",
            "x.png",
            png(),
            "application/octet-stream",
            not_image("application/octet-stream"),
        ),
        BadFile("empty", "empty.png", b"", "image/png", NOT_RASTER),
        BadFile("bmp", "x.bmp", bmp(), "image/bmp", NOT_RASTER),
        BadFile("tiff", "x.tiff", tiff(), "image/tiff", NOT_RASTER),
        BadFile("too-many-frames", "many.gif", many_frames_gif(), "image/gif", TOO_MANY_FRAMES),
    ]


def bad_file(name: str) -> BadFile:
    return next(bad for bad in bad_files() if bad.name == name)
