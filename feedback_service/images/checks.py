"""Is this upload really a raster image, of a type we serve, of a size we accept?

Only the bytes decide: the declared type must agree with what Pillow finds, and the image is
decoded in full, so a truncated file or a renamed HTML page never reaches storage. The pixel
count is checked from the header, and again for each frame, before decoding, so a small file
that would decode into gigabytes (a decompression bomb) costs nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from feedback_service.errors import InvalidInput


@dataclass(frozen=True)
class ImageType:
    content_type: str
    extension: str


# Pillow format name -> what we store and serve it as.
TYPES = {
    "PNG": ImageType("image/png", "png"),
    "JPEG": ImageType("image/jpeg", "jpg"),
    "GIF": ImageType("image/gif", "gif"),
    "WEBP": ImageType("image/webp", "webp"),
}
# Spellings of a declared type that clients send for the same thing.
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}
# Extensions a client may ask an upload URL for, and the type the upload must then have.
EXTENSIONS = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}
# Frames of an animation are decoded one by one; a thousand of them is no screenshot.
MAX_FRAMES = 500
# Formats Pillow reports for what is served as one of ours: a multi-picture JPEG (phones write
# them) is a JPEG to every browser.
SAME_AS = {"MPO": "JPEG"}

# Our pixel limit (checked from each header and frame before decoding) replaces Pillow's global
# guard, which would otherwise refuse above its own fixed limit with a message of its own.
Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True)
class CheckedImage:
    type: ImageType
    width: int
    height: int


def canonical_type(declared: str | None) -> str:
    """The declared media type without parameters, lower case, aliases resolved."""
    base = (declared or "").split(";", 1)[0].strip().lower()
    return ALIASES.get(base, base)


def check_image(data: bytes, declared: str | None, max_pixels: int) -> CheckedImage:
    """:raises InvalidInput: with the reference server's messages where it has one.

    ``max_pixels`` bounds one image, all the frames of an animation together, so decoding
    any accepted file costs at most that many pixels.
    """
    declared_type = canonical_type(declared)
    if "image" not in declared_type:
        raise InvalidInput(f"Not Image File ({declared_type or 'none'})")
    image = _open(data)
    try:
        found = TYPES[SAME_AS.get(str(image.format), str(image.format))]
        if declared_type != found.content_type:
            raise InvalidInput(
                f"Invalid file (sent type: {declared_type}, detected type: [{found.content_type}])"
            )
        width, height = image.size
        _decode_within(image, max_pixels)
    except InvalidInput:
        raise
    except Exception:
        # A crafted file can fail anywhere inside a decoder (struct, index, type errors...):
        # whatever the decoder throws, the file is not an image we accept.
        raise InvalidInput("Invalid file: the image data is damaged or truncated") from None
    return CheckedImage(found, width, height)


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=list(TYPES))
    except Exception:
        raise InvalidInput("Invalid file: not a PNG, JPEG, GIF or WebP image") from None


def _too_large(image: Image.Image, max_pixels: int) -> InvalidInput:
    width, height = image.size
    return InvalidInput(f"Image is too large: {width}x{height} pixels (more than {max_pixels})")


def _decode_within(image: Image.Image, max_pixels: int) -> None:
    """Decode every frame, refusing before a frame would take the total past ``max_pixels``."""
    width, height = image.size
    frames = getattr(image, "n_frames", 1)
    if width * height > max_pixels:
        raise _too_large(image, max_pixels)
    if frames > MAX_FRAMES:
        raise InvalidInput(f"Image has too many frames (more than {MAX_FRAMES})")
    if width * height * frames > max_pixels:
        raise InvalidInput(
            f"Animation is too large: {frames} frames of {width}x{height} pixels "
            f"(more than {max_pixels} pixels in all)"
        )
    decoded = 0
    for frame in range(frames):
        image.seek(frame)
        # A later GIF frame can be larger than the header said: count it before decoding it.
        decoded += image.size[0] * image.size[1]
        if decoded > max_pixels:
            raise _too_large(image, max_pixels)
        image.load()
