"""Signed upload URLs of the local store: ``GET .../image-upload-url`` and ``PUT /uploads/<key>``.

The URL is absolute, signed by this app (HMAC over key, content type and expiry), expires after
``UPLOAD_URL_TTL`` seconds and can be used once. A PUT stores the image after the same content
checks as a multipart upload; anything tampered, expired, reused, foreign or malformed is
refused and leaves the upload folder as it was.
"""

from __future__ import annotations

import io
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from feedback_service.images.signed_urls import signature, signed_url
from feedback_service.services.channel_images import configure_images
from tests.factories import ProjectWorld, World, make_channel
from tests.helpers import assert_json, bad_request, domain_error, forbidden

SECRET = "test-secret-key"  # make_test_app's SECRET_KEY
LOCAL_URL = re.compile(
    r"http://localhost/uploads/(?P<project>\d+)/(?P<channel>\d+)/(?P<hex>[0-9a-f]{32})"
    r"\.(?P<ext>png|jpg|gif|webp)\?type=(?P<type>image%2F(?:png|jpeg|gif|webp))"
    r"&expires=(?P<expires>\d+)&signature=(?P<signature>[0-9a-f]{64})"
)
INVALID = {"error": "Upload URL is invalid"}
EXPIRED = {"error": "Upload URL has expired"}
USED = {"error": "Upload URL has been used already"}
EXTENSION_LIST = "Extension must be one of: png, jpg, jpeg, gif, webp"


# --- images ------------------------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (8, 6), color: Any = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


PNG = image_bytes("PNG")
OTHER_PNG = image_bytes("PNG", (5, 5), (0, 0, 255))
JPEG = image_bytes("JPEG")
GIF = image_bytes("GIF")
WEBP = image_bytes("WEBP")
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"


def noisy_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 * side**2 bytes."""
    image = Image.frombytes("RGB", (side, side), secrets.token_bytes(3 * side * side))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# --- helpers -----------------------------------------------------------------------------------


def url_path(project: ProjectWorld, query: str) -> str:
    path = f"{project.channel}/image-upload-url"
    return f"{path}?{query}" if query else path


def get_upload_url(client: FlaskClient, project: ProjectWorld, extension: str = "png") -> str:
    response = client.get(url_path(project, f"extension={extension}"), headers=project.headers)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def relative(url: str) -> str:
    """The path and query of an absolute URL, for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def key_of(url: str) -> str:
    path = urlsplit(url).path
    assert path.startswith("/uploads/")
    return path.removeprefix("/uploads/")


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str) -> str:
    """The URL with some query parameters replaced (order kept)."""
    query = {**query_of(url), **changes}
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


def put(
    client: FlaskClient, url: str, data: bytes, content_type: str = "image/png"
) -> TestResponse:
    return client.put(relative(url), data=data, content_type=content_type)


def stored_files(app: Flask) -> list[str]:
    """Every file under the upload folder (temporary ones included), relative, sorted."""
    folder = Path(app.config["UPLOAD_FOLDER"])
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def stored_bytes(app: Flask, key: str) -> bytes:
    return (Path(app.config["UPLOAD_FOLDER"]) / key).read_bytes()


# --- the URL -----------------------------------------------------------------------------------


def test_upload_url_is_a_bare_absolute_signed_url_expiring_after_the_default_ttl(
    app, client, world
):
    a = world.a
    before = int(time.time())
    response = client.get(url_path(a, "extension=png"), headers=a.headers)
    after = int(time.time())
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    url = response.get_data(as_text=True)
    match = LOCAL_URL.fullmatch(url)
    assert match, url
    assert (match["project"], match["channel"]) == (str(a.project_id), str(a.channel_id))
    assert (match["ext"], match["type"]) == ("png", "image%2Fpng")
    assert app.config["UPLOAD_URL_TTL"] == 300
    assert before + 300 <= int(match["expires"]) <= after + 300
    key = key_of(url)
    assert match["signature"] == signature(SECRET, key, "image/png", int(match["expires"]))
    # Asking for a URL stores nothing.
    assert stored_files(app) == []


def test_every_call_gives_a_new_key(client, world):
    urls = {key_of(get_upload_url(client, world.a)) for _ in range(5)}
    assert len(urls) == 5


def test_ttl_is_configurable(make_app, world):
    client = make_app(UPLOAD_URL_TTL=45).test_client()
    before = int(time.time())
    url = get_upload_url(client, world.a)
    after = int(time.time())
    assert before + 45 <= int(query_of(url)["expires"]) <= after + 45


@pytest.mark.parametrize(
    ("extension", "stored_extension", "content_type"),
    [
        ("png", "png", "image/png"),
        ("PNG", "png", "image/png"),
        ("jpg", "jpg", "image/jpeg"),
        ("jpeg", "jpg", "image/jpeg"),
        ("JPG", "jpg", "image/jpeg"),
        ("gif", "gif", "image/gif"),
        ("webp", "webp", "image/webp"),
    ],
)
def test_extension_decides_the_key_suffix_and_the_signed_type(
    client, world, extension, stored_extension, content_type
):
    url = get_upload_url(client, world.a, extension)
    assert LOCAL_URL.fullmatch(url), url
    assert key_of(url).endswith(f".{stored_extension}")
    assert query_of(url)["type"] == content_type


@pytest.mark.parametrize("query", ["", "extension=", "ext=png", "extension"])
def test_missing_extension_is_400(client, world, query):
    path = url_path(world.a, query)
    response = client.get(path, headers=world.a.headers)
    assert_json(response, 400, bad_request(path, "Extension is required in query parameter"))


@pytest.mark.parametrize(
    "extension", ["svg", "html", "exe", "bmp", "tiff", ".png", "png.html", "png%00", "jp%20g"]
)
def test_unsupported_extension_is_400(app, client, world, extension):
    path = url_path(world.a, f"extension={extension}")
    response = client.get(path, headers=world.a.headers)
    assert_json(response, 400, bad_request(path, EXTENSION_LIST))
    assert stored_files(app) == []


def test_another_projects_channel_answers_as_a_missing_channel(client, world):
    a, b = world.a, world.b
    foreign = f"{a.base}/channels/{b.channel_id}/image-upload-url?extension=png"
    missing = f"{a.base}/channels/987654/image-upload-url?extension=png"
    assert_json(
        client.get(foreign, headers=a.headers),
        400,
        domain_error(foreign, "ChannelNotFound", "channel is not found"),
    )
    assert_json(
        client.get(missing, headers=a.headers),
        400,
        domain_error(missing, "ChannelNotFound", "channel is not found"),
    )


@pytest.mark.parametrize("key", [None, "", "not-a-key", "other-project"])
def test_without_a_valid_key_of_the_project_is_403(client, world, key):
    path = url_path(world.a, "extension=png")
    if key is None:
        headers = {}
    elif key == "other-project":
        headers = world.b.headers
    else:
        headers = {"x-api-key": key}
    assert_json(client.get(path, headers=headers), 403, forbidden(path))


# --- the upload: success, single use -----------------------------------------------------------


def test_fresh_url_stores_the_bytes_once_and_they_are_served(app, client, world):
    url = get_upload_url(client, world.a)
    key = key_of(url)
    response = put(client, url, PNG)
    assert (response.status_code, response.data) == (200, b"")
    assert stored_files(app) == [key]
    assert stored_bytes(app, key) == PNG
    with client.get(f"/uploads/{key}") as served:
        assert (served.status_code, served.mimetype, served.data) == (200, "image/png", PNG)

    again = put(client, url, OTHER_PNG)
    assert_json(again, 403, USED)
    assert stored_files(app) == [key]
    assert stored_bytes(app, key) == PNG


@pytest.mark.parametrize(
    ("extension", "data", "declared", "served_type"),
    [
        ("jpg", JPEG, "image/jpeg", "image/jpeg"),
        ("jpeg", JPEG, "image/jpg", "image/jpeg"),
        ("gif", GIF, "image/gif", "image/gif"),
        ("webp", WEBP, "image/webp", "image/webp"),
    ],
    ids=["jpg", "jpeg declared as image/jpg", "gif", "webp"],
)
def test_other_image_types_upload_to_their_urls(
    app, client, world, extension, data, declared, served_type
):
    url = get_upload_url(client, world.a, extension)
    key = key_of(url)
    assert (put(client, url, data, declared).status_code) == 200
    assert stored_files(app) == [key]
    assert stored_bytes(app, key) == data
    with client.get(f"/uploads/{key}") as served:
        assert (served.status_code, served.mimetype, served.data) == (200, served_type, data)


def test_a_url_without_content_length_is_still_size_limited_and_works(app, client, world):
    """A chunked body (no Content-Length, as gunicorn passes it) is read up to the limit."""
    url = get_upload_url(client, world.a)
    response = client.put(
        relative(url),
        input_stream=io.BytesIO(PNG),
        content_type="image/png",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200
    assert stored_bytes(app, key_of(url)) == PNG


def test_concurrent_puts_to_one_url_store_exactly_one_file(app, world):
    url = get_upload_url(app.test_client(), world.a)
    bodies = [image_bytes("PNG", (4, 4), (n, n, n)) for n in range(8)]
    barrier = threading.Barrier(len(bodies))

    def send(data: bytes) -> tuple[int, Any, bytes]:
        sender = app.test_client()
        barrier.wait()
        response = put(sender, url, data)
        return response.status_code, response.get_json(silent=True), data

    with ThreadPoolExecutor(len(bodies)) as pool:
        results = list(pool.map(send, bodies))
    winners = [data for status, _, data in results if status == 200]
    assert len(winners) == 1
    refused = [(status, body) for status, body, _ in results if status != 200]
    assert refused == [(403, USED)] * (len(bodies) - 1)
    assert stored_files(app) == [key_of(url)]
    assert stored_bytes(app, key_of(url)) == winners[0]


# --- refused URLs ------------------------------------------------------------------------------


def test_expired_url_from_the_endpoint_is_403_and_stores_nothing(app, client, make_app, world):
    expired_client = make_app(UPLOAD_URL_TTL=-1).test_client()
    url = get_upload_url(expired_client, world.a)
    assert int(query_of(url)["expires"]) < time.time()
    for sender in (client, expired_client):
        assert_json(put(sender, url, PNG), 403, EXPIRED)
    assert stored_files(app) == []


def test_hand_signed_url_works_until_its_expiry(app, client, world):
    a = world.a
    base = "http://localhost/uploads/"
    fresh_key = f"{a.project_id}/{a.channel_id}/{secrets.token_hex(16)}.png"
    past_key = f"{a.project_id}/{a.channel_id}/{secrets.token_hex(16)}.png"
    now = int(time.time())
    past = signed_url(base, SECRET, past_key, "image/png", now - 5)
    fresh = signed_url(base, SECRET, fresh_key, "image/png", now + 60)
    assert_json(put(client, past, PNG), 403, EXPIRED)
    assert stored_files(app) == []
    assert put(client, fresh, PNG).status_code == 200
    assert stored_files(app) == [fresh_key]


def _tampered(url: str, world: World, second_channel: int) -> dict[str, str]:
    a, b = world.a, world.b
    query = query_of(url)
    key = key_of(url)
    hex_name = key.rsplit("/", 1)[1]
    signature_value = query["signature"]
    flipped = ("0" if signature_value[0] != "0" else "1") + signature_value[1:]

    def at(new_key: str) -> str:
        return f"http://localhost/uploads/{new_key}?{urlsplit(url).query}"

    return {
        "signature flipped": with_query(url, signature=flipped),
        "signature upper case": with_query(url, signature=signature_value.upper()),
        "signature truncated": with_query(url, signature=signature_value[:-1]),
        "signature empty": with_query(url, signature=""),
        "signature missing": at(key).replace(f"&signature={signature_value}", ""),
        "type changed": with_query(url, type="image/jpeg"),
        "type with parameter": with_query(url, type="image/png; charset=x"),
        "expires later": with_query(url, expires=str(int(query["expires"]) + 3600)),
        "expires earlier": with_query(url, expires=str(int(query["expires"]) - 1)),
        "expires not a number": with_query(url, expires="soon"),
        "expires negative": with_query(url, expires="-1"),
        "expires with sign": with_query(url, expires="+" + query["expires"]),
        "expires huge": with_query(url, expires="9" * 20),
        "another random key": at(f"{a.project_id}/{a.channel_id}/{secrets.token_hex(16)}.png"),
        "another extension": at(key.replace(".png", ".gif")),
        "another project's key": at(f"{b.project_id}/{b.channel_id}/{hex_name}"),
        "another project, same channel id": at(f"{b.project_id}/{a.channel_id}/{hex_name}"),
        "another channel of the project": at(f"{a.project_id}/{second_channel}/{hex_name}"),
    }


TAMPER_CASES = [
    "signature flipped",
    "signature upper case",
    "signature truncated",
    "signature empty",
    "signature missing",
    "type changed",
    "type with parameter",
    "expires later",
    "expires earlier",
    "expires not a number",
    "expires negative",
    "expires with sign",
    "expires huge",
    "another random key",
    "another extension",
    "another project's key",
    "another project, same channel id",
    "another channel of the project",
]


@pytest.mark.parametrize("case", TAMPER_CASES)
def test_tampered_url_is_403_invalid_and_stores_nothing(app, client, world, case):
    second_channel = make_channel(app, world.a.project_id, "second")
    url = get_upload_url(client, world.a)
    tampered = _tampered(url, world, second_channel)
    assert set(tampered) == set(TAMPER_CASES)
    bad = tampered[case]
    assert bad != url
    data, content_type = (GIF, "image/gif") if case == "another extension" else (PNG, "image/png")
    if case == "type changed":
        data, content_type = JPEG, "image/jpeg"
    assert_json(put(client, bad, data, content_type), 403, INVALID)
    assert stored_files(app) == []
    # The untouched URL still works: only the tampering was refused.
    assert put(client, url, PNG).status_code == 200
    assert stored_files(app) == [key_of(url)]


def test_url_signed_with_another_secret_key_is_403(app, client, make_app, world):
    other = make_app(SECRET_KEY="another-secret-key").test_client()
    url = get_upload_url(other, world.a)
    assert_json(put(client, url, PNG), 403, INVALID)
    assert stored_files(app) == []
    # And the other way round: each app accepts only its own signatures.
    assert_json(put(other, get_upload_url(client, world.a), PNG), 403, INVALID)
    assert stored_files(app) == []
    assert put(other, url, PNG).status_code == 200
    assert stored_files(app) == [key_of(url)]


def test_each_url_is_single_use_independently_of_the_others(app, client, world):
    first = get_upload_url(client, world.a)
    second = get_upload_url(client, world.a)
    assert put(client, first, PNG).status_code == 200
    assert put(client, second, OTHER_PNG).status_code == 200
    assert_json(put(client, first, OTHER_PNG), 403, USED)
    assert_json(put(client, second, PNG), 403, USED)
    assert stored_bytes(app, key_of(first)) == PNG
    assert stored_bytes(app, key_of(second)) == OTHER_PNG
    assert stored_files(app) == sorted([key_of(first), key_of(second)])


# --- refused content ---------------------------------------------------------------------------


BAD_CONTENT = {
    "html declared as html": ("png", HTML, "text/html", "Not Image File (text/html)"),
    "html declared as png": (
        "png",
        HTML,
        "image/png",
        "Invalid file: not a PNG, JPEG, GIF or WebP image",
    ),
    "no content type": ("png", PNG, None, "Not Image File (none)"),
    "png declared as jpeg": (
        "png",
        PNG,
        "image/jpeg",
        "Invalid file (sent type: image/jpeg, detected type: [image/png])",
    ),
    "png bytes to a jpeg url": (
        "jpg",
        PNG,
        "image/png",
        "this upload URL is for image/jpeg, not image/png",
    ),
    "gif bytes to a png url": (
        "png",
        GIF,
        "image/gif",
        "this upload URL is for image/png, not image/gif",
    ),
    "truncated png": (
        "png",
        noisy_png(40)[:-200],
        "image/png",
        "Invalid file: the image data is damaged or truncated",
    ),
    "empty body": ("png", b"", "image/png", "Invalid file: not a PNG, JPEG, GIF or WebP image"),
}


@pytest.mark.parametrize(
    ("extension", "data", "declared", "message"), BAD_CONTENT.values(), ids=BAD_CONTENT.keys()
)
def test_bad_content_is_400_stores_nothing_and_leaves_the_url_usable(
    app, client, world, extension, data, declared, message
):
    url = get_upload_url(client, world.a, extension)
    if declared is None:
        response = client.put(relative(url), data=data)
    else:
        response = client.put(relative(url), data=data, content_type=declared)
    assert_json(response, 400, {"error": message})
    assert stored_files(app) == []
    good, good_type = (JPEG, "image/jpeg") if extension == "jpg" else (PNG, "image/png")
    assert put(client, url, good, good_type).status_code == 200
    assert stored_files(app) == [key_of(url)]
    assert stored_bytes(app, key_of(url)) == good


def test_body_over_the_file_limit_is_413_and_stores_nothing(app, make_app, world):
    small = noisy_png(16)
    big = noisy_png(40)
    assert len(small) < len(big)
    limited = make_app(UPLOAD_MAX_FILE_BYTES=len(small)).test_client()
    url = get_upload_url(limited, world.a)
    assert_json(put(limited, url, big), 413, {"error": "Request Entity Too Large"})
    assert stored_files(app) == []
    # Without a Content-Length the body is cut at the limit all the same.
    chunked = limited.put(
        relative(url),
        input_stream=io.BytesIO(big),
        content_type="image/png",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_json(chunked, 413, {"error": "Request Entity Too Large"})
    assert stored_files(app) == []
    # Exactly the limit is accepted, and the URL was not spent by the refusals.
    assert put(limited, url, small).status_code == 200
    assert stored_bytes(app, key_of(url)) == small


def _bad_keys(project: ProjectWorld) -> list[str]:
    p, c, h = project.project_id, project.channel_id, secrets.token_hex(16)
    return [
        f"{p}/{c}/{h[:31]}.png",
        f"{p}/{c}/{h}0.png",
        f"{p}/{c}/{h.upper()}.png",
        f"{p}/{c}/{h}.svg",
        f"{p}/{c}/{h}.jpeg",
        f"{p}/{c}/{h}.png.html",
        f"{p}/{c}/{h}",
        f"{p}/{c}/sub/{h}.png",
        f"{p}/{h}.png",
        f"x/{c}/{h}.png",
        f"{p}/{c}/.{h}.png",
        f"{p}/{c}/../{c}/{h}.png",
        f"../{p}/{c}/{h}.png",
        "secret_key",
    ]


def instance_files(app: Flask) -> list[str]:
    return sorted(str(p) for p in Path(app.instance_path).rglob("*") if p.is_file())


def test_put_to_a_key_not_of_the_generated_shape_is_404_even_if_signed(app, client, world):
    before = instance_files(app)
    for key in _bad_keys(world.a):
        # Correctly signed for that key: only its shape is wrong.
        url = signed_url(
            "http://localhost/uploads/", SECRET, key, "image/png", int(time.time()) + 60
        )
        response = put(client, url, PNG)
        assert (response.status_code, response.get_json()) == (404, {"error": "Not Found"}), key
    assert stored_files(app) == []
    assert instance_files(app) == before


# --- using the uploaded image ------------------------------------------------------------------


def test_uploaded_image_passes_the_channels_whitelist_in_a_json_create(app, make_app, world, sql):
    """With a known own address (here TRUSTED_HOSTS), the app's uploads pass the whitelist."""
    trusted = make_app(TRUSTED_HOSTS=["localhost"])
    client = trusted.test_client()
    a, b = world.a, world.b
    with app.app_context():
        configure_images(a.project_id, a.channel_id, image_domains=["cdn.example.com"])
        configure_images(b.project_id, b.channel_id, image_domains=["cdn.example.com"])
    url = get_upload_url(client, a)
    assert put(client, url, PNG).status_code == 200
    image_url = url.split("?", 1)[0]
    created = client.post(f"{a.channel}/feedbacks", json={"shots": [image_url]}, headers=a.headers)
    assert created.status_code == 201
    feedback_id = created.get_json()["id"]
    shown = client.get(f"{a.channel}/feedbacks/{feedback_id}", headers=a.headers)
    assert shown.status_code == 200
    assert shown.get_json()["shots"] == [image_url]

    # Only the channel's own images pass: not another project's, nor an escape from the folder.
    b_url = get_upload_url(client, b).split("?", 1)[0]
    escaped = (
        f"http://localhost/uploads/{a.project_id}/{a.channel_id}/../../"
        f"{b.project_id}/{b.channel_id}/{secrets.token_hex(16)}.png"
    )
    count = sql("SELECT COUNT(*) FROM feedback")
    path = f"{a.channel}/feedbacks"
    for refused in (b_url, escaped, "http://evil.example/x.png"):
        host = urlsplit(refused).hostname
        assert_json(
            client.post(path, json={"shots": [refused]}, headers=a.headers),
            400,
            bad_request(path, f"invalid domain in image link: {host} (fieldKey: shots)"),
        )
    # The same URL is refused by project B's channel, whose own images live elsewhere.
    b_path = f"{b.channel}/feedbacks"
    assert_json(
        client.post(b_path, json={"shots": [image_url]}, headers=b.headers),
        400,
        bad_request(b_path, "invalid domain in image link: localhost (fieldKey: shots)"),
    )
    assert sql("SELECT COUNT(*) FROM feedback") == count


def test_without_a_known_own_address_uploads_are_held_to_the_whitelist(app, client, world):
    """Unset PUBLIC_URL and TRUSTED_HOSTS, the address would come from the client's Host."""
    a = world.a
    with app.app_context():
        configure_images(a.project_id, a.channel_id, image_domains=["cdn.example.com"])
    url = get_upload_url(client, a)
    assert put(client, url, PNG).status_code == 200
    path = f"{a.channel}/feedbacks"
    assert_json(
        client.post(path, json={"shots": [url.split("?", 1)[0]]}, headers=a.headers),
        400,
        bad_request(path, "invalid domain in image link: localhost (fieldKey: shots)"),
    )


def test_public_url_is_the_base_of_upload_urls_and_of_own_images(app, make_app, world):
    a = world.a
    public = make_app(PUBLIC_URL="https://feedback.example.com").test_client()
    url = get_upload_url(public, a)
    pattern = LOCAL_URL.pattern.replace("http://localhost", "https://feedback\\.example\\.com")
    assert re.fullmatch(pattern, url), url
    response = public.put(relative(url), data=PNG, content_type="image/png")
    assert response.status_code == 200
    assert stored_files(app) == [key_of(url)]
    with app.app_context():
        configure_images(a.project_id, a.channel_id, image_domains=["cdn.example.com"])
    path = f"{a.channel}/feedbacks"
    image_url = url.split("?", 1)[0]
    assert public.post(path, json={"shots": [image_url]}, headers=a.headers).status_code == 201
    # Under PUBLIC_URL, the address of the request is no longer this service's own.
    local_image = image_url.replace("https://feedback.example.com", "http://localhost")
    assert_json(
        public.post(path, json={"shots": [local_image]}, headers=a.headers),
        400,
        bad_request(path, "invalid domain in image link: localhost (fieldKey: shots)"),
    )
    # Nor does a forged Host header make another host this service's own.
    forged = image_url.replace("https://feedback.example.com", "http://evil.example")
    assert_json(
        public.post(path, json={"shots": [forged]}, headers={**a.headers, "Host": "evil.example"}),
        400,
        bad_request(path, "invalid domain in image link: evil.example (fieldKey: shots)"),
    )


def test_a_forged_host_header_does_not_bypass_the_whitelist(app, client, world, sql):
    """Without PUBLIC_URL, "this service's own images" are those under the request's Host, which
    the client chooses: any host then passes the whitelist by being named in the Host header.
    """
    a = world.a
    with app.app_context():
        configure_images(a.project_id, a.channel_id, image_domains=["cdn.example.com"])
    path = f"{a.channel}/feedbacks"
    tracker = f"http://evil.example/uploads/{a.project_id}/{a.channel_id}/tracker.gif"
    count = sql("SELECT COUNT(*) FROM feedback")
    response = client.post(
        path, json={"shots": [tracker]}, headers={**a.headers, "Host": "evil.example"}
    )
    assert_json(
        response,
        400,
        bad_request(path, "invalid domain in image link: evil.example (fieldKey: shots)"),
    )
    assert sql("SELECT COUNT(*) FROM feedback") == count
