"""A channel's image-domain whitelist on JSON create and update: hosts are read the way browsers
read them, a string that is no URL is a 400 (never a 500), and images this service stored for the
same channel always pass."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from feedback_service.errors import InvalidInput
from feedback_service.extensions import db
from feedback_service.services.channel_images import configure_images
from tests.conftest import make_test_app
from tests.databases import TestDatabase
from tests.factories import ProjectWorld, World, make_channel
from tests.helpers import Sql, assert_empty, assert_json, bad_request
from tests.images import corpus

ALLOWED = "cdn.example.com"
NAME = "0123456789abcdef0123456789abcdef"


# --- helpers ---------------------------------------------------------------------------------


def feedbacks_path(pw: ProjectWorld) -> str:
    return f"{pw.channel}/feedbacks"


def feedback_path(pw: ProjectWorld, feedback_id: int) -> str:
    return f"{feedbacks_path(pw)}/{feedback_id}"


def create(client: FlaskClient, pw: ProjectWorld, urls: list[str], **headers: str) -> TestResponse:
    return client.post(feedbacks_path(pw), json={"shots": urls}, headers={**pw.headers, **headers})


def update(
    client: FlaskClient, pw: ProjectWorld, feedback_id: int, urls: list[str]
) -> TestResponse:
    return client.put(feedback_path(pw, feedback_id), json={"shots": urls}, headers=pw.headers)


def feedback_rows(sql: Sql) -> list[tuple[Any, ...]]:
    return sql("SELECT id, channel_id, data, updated_at FROM feedback ORDER BY id")


def stored_data(sql: Sql, feedback_id: int) -> dict[str, Any]:
    (row,) = sql("SELECT data FROM feedback WHERE id = ?", (feedback_id,))
    return json.loads(row[0])


def assert_created_with(
    response: TestResponse, sql: Sql, pw: ProjectWorld, urls: list[str]
) -> None:
    assert response.status_code == 201, response.get_json()
    feedback_id = response.get_json()["id"]
    (channel_id,) = sql("SELECT channel_id FROM feedback WHERE id = ?", (feedback_id,))[0]
    assert channel_id == pw.channel_id
    assert stored_data(sql, feedback_id) == {"shots": urls}


def domain_refused(host: str) -> str:
    return f"invalid domain in image link: {host} (fieldKey: shots)"


def link_refused(url: str) -> str:
    return f"invalid image link: {url} (fieldKey: shots)"


def own_url(pw: ProjectWorld, channel_id: int | None = None, name: str = NAME) -> str:
    return f"http://localhost/uploads/{pw.project_id}/{channel_id or pw.channel_id}/{name}.png"


@pytest.fixture
def whitelisted(app: Flask, world: World) -> World:
    """Project a's channel allows images from cdn.example.com only."""
    with app.app_context():
        channel = configure_images(world.a.project_id, world.a.channel_id, image_domains=[ALLOWED])
        assert channel.image_domains == [ALLOWED]
    return world


@pytest.fixture
def other_app(app: Flask, database: TestDatabase) -> Iterator[Any]:
    """``other_app(**config)``: a client of a second app on the same database."""
    apps: list[Flask] = []

    def build(**config: Any) -> FlaskClient:
        other = make_test_app(database, UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"], **config)
        apps.append(other)
        return other.test_client()

    yield build
    for other in apps:
        with other.app_context():
            db.engine.dispose()


# --- URL vectors -------------------------------------------------------------------------------

ALLOWED_URLS = [
    f"https://{ALLOWED}/x.png",
    f"http://{ALLOWED}:8443/x.png?size=2#top",
    f"https://{ALLOWED.upper()}/x.png",  # browsers lower-case the host
    f"HTTPS://{ALLOWED}/x.png",
    f"https://user:pw@{ALLOWED}/x.png",  # userinfo is not the host
    f"https://evil.net%2f@{ALLOWED}/x.png",  # an encoded slash stays in the userinfo
    "https://cdn\u3002example\u3002com/x.png",  # ideographic full stops are dots
    "https://\uff43\uff44\uff4e.example.com/x.png",  # fullwidth letters map to ASCII
    f"https://{ALLOWED}\\x.png",  # a backslash is a slash in special URLs
]

# (url, the host a browser would contact)
REFUSED_URLS = [
    ("https://evil.net/x.png", "evil.net"),
    (f"https://evil.net\\@{ALLOWED}/x.png", "evil.net"),
    (f"https://{ALLOWED}.evil.net/", f"{ALLOWED}.evil.net"),
    (f"https://{ALLOWED}@evil.net/x.png", "evil.net"),
    (f"https://{ALLOWED}:443@evil.net/x.png", "evil.net"),
    (f"https://evil.net#@{ALLOWED}/x.png", "evil.net"),
    (f"https://evil.net?@{ALLOWED}/x.png", "evil.net"),
    (f"https://evil.net/{ALLOWED}/x.png", "evil.net"),
    (f"https://evil.net/?{ALLOWED}", "evil.net"),
    ("https://cdn.example.com%2eevil.net/x.png", f"{ALLOWED}.evil.net"),
    ("https://cdn.ex\u0430mple.com/x.png", "cdn.xn--exmple-4nf.com"),  # U+0430, a Cyrillic a
    ("https://0x7f.1/x.png", "127.0.0.1"),
    ("http://[::1]/x.png", "[::1]"),
    ("https://example.com/x.png", "example.com"),
    ("https://com/x.png", "com"),
]

NOT_URLS = [
    "not a url",
    "",
    " ",
    "https://",
    f"//{ALLOWED}/x.png",
    "/uploads/1/1/x.png",
    f"{ALLOWED}/x.png",
    "https://exa mple.com/x.png",
    "https://cdn.example.com%00.evil.net/x.png",
    "http://[::1/x.png",
    "https://a\u2025b/x.png",
]


@pytest.mark.usefixtures("whitelisted")
@pytest.mark.parametrize("url", ALLOWED_URLS)
def test_create_accepts_a_link_whose_host_is_allowed(client, world, sql, url):
    response = create(client, world.a, [url])

    assert_created_with(response, sql, world.a, [url])


@pytest.mark.usefixtures("whitelisted")
@pytest.mark.parametrize(("url", "host"), REFUSED_URLS)
def test_create_refuses_a_link_to_another_host(client, world, sql, url, host):
    before = feedback_rows(sql)

    response = create(client, world.a, [f"https://{ALLOWED}/ok.png", url])

    assert_json(response, 400, bad_request(feedbacks_path(world.a), domain_refused(host)))
    assert feedback_rows(sql) == before


@pytest.mark.usefixtures("whitelisted")
@pytest.mark.parametrize("url", NOT_URLS)
def test_create_refuses_a_string_that_is_no_url_with_400(client, world, sql, url):
    before = feedback_rows(sql)

    response = create(client, world.a, [url])

    assert_json(response, 400, bad_request(feedbacks_path(world.a), link_refused(url)))
    assert feedback_rows(sql) == before


@pytest.mark.usefixtures("whitelisted")
@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:image/png;base64,iVBORw0KGgo=", "mailto:a@cdn.example.com"],
)
def test_create_refuses_a_url_without_a_host(client, world, sql, url):
    """As in the reference server (new URL() succeeds, its hostname is empty): the empty host
    is not on the whitelist."""
    before = feedback_rows(sql)

    response = create(client, world.a, [url])

    assert_json(response, 400, bad_request(feedbacks_path(world.a), domain_refused("")))
    assert feedback_rows(sql) == before


@pytest.mark.usefixtures("whitelisted")
@pytest.mark.parametrize("url", ALLOWED_URLS)
def test_update_accepts_a_link_whose_host_is_allowed(client, world, sql, url):
    feedback_id = world.a.feedback_ids[0]

    response = update(client, world.a, feedback_id, [url])

    assert_empty(response)
    assert stored_data(sql, feedback_id) == {"message": "alpha feedback 1", "shots": [url]}


@pytest.mark.usefixtures("whitelisted")
@pytest.mark.parametrize(
    ("url", "message"),
    [(url, domain_refused(host)) for url, host in REFUSED_URLS]
    + [(url, link_refused(url)) for url in NOT_URLS]
    + [("javascript:alert(1)", domain_refused(""))],
)
def test_update_refuses_what_create_refuses(client, world, sql, url, message):
    feedback_id = world.a.feedback_ids[0]
    before = feedback_rows(sql)

    response = update(client, world.a, feedback_id, [f"https://{ALLOWED}/ok.png", url])

    assert_json(response, 400, bad_request(feedback_path(world.a, feedback_id), message))
    assert feedback_rows(sql) == before


def test_whitelist_hosts_are_stored_lower_case_and_match_any_case(app, client, world, sql):
    with app.app_context():
        channel = configure_images(
            world.a.project_id,
            world.a.channel_id,
            image_domains=["CDN.Example.COM", "cdn.example.com", "xn--bcher-kva.example"],
        )
        assert channel.image_domains == [ALLOWED, "xn--bcher-kva.example"]
    urls = [
        "https://B\u00dcCHER.example/a.png",  # a browser contacts xn--bcher-kva.example
        "https://xn--bcher-kva.example/b.png",
        f"https://{ALLOWED.title()}/c.png",
    ]

    assert_created_with(create(client, world.a, urls), sql, world.a, urls)


def test_a_unicode_whitelist_host_is_stored_in_its_ascii_form(app, client, world, sql):
    """normalise_image_domain promises the host "as a browser would parse it (lower case,
    IDNA)": an internationalised name is that host, spelt in Unicode."""
    with app.app_context():
        channel = configure_images(
            world.a.project_id, world.a.channel_id, image_domains=["B\u00fccher.example"]
        )
        assert channel.image_domains == ["xn--bcher-kva.example"]

    urls = ["https://b\u00fccher.example/a.png"]
    assert_created_with(create(client, world.a, urls), sql, world.a, urls)


@pytest.mark.parametrize(
    "domain",
    ["https://cdn.example.com", "cdn.example.com/x", "evil.net\\@cdn.example.com", "a b.com", ""],
)
def test_a_whitelist_entry_that_is_not_a_host_is_refused(app, world, sql, domain):
    before = sql("SELECT image_domains FROM channel ORDER BY id")

    with app.app_context(), pytest.raises(InvalidInput):
        configure_images(world.a.project_id, world.a.channel_id, image_domains=[domain])

    assert sql("SELECT image_domains FROM channel ORDER BY id") == before


# --- this service's own images -----------------------------------------------------------------

# Ways the app knows its own address, so that its /uploads URLs are exempt from the whitelist.
KNOWN_ADDRESS = [
    pytest.param({"PUBLIC_URL": "http://localhost"}, id="PUBLIC_URL"),
    pytest.param({"TRUSTED_HOSTS": ["localhost"]}, id="TRUSTED_HOSTS"),
]


def upload_png(client: FlaskClient, pw: ProjectWorld) -> TestResponse:
    boundary, body = encode_multipart(
        MultiDict(
            [("shots", FileStorage(io.BytesIO(corpus.png()), "a.png", content_type="image/png"))]
        )
    )
    return client.post(
        f"{pw.channel}/feedbacks-with-images",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=pw.headers,
    )


@pytest.mark.usefixtures("whitelisted")
@pytest.mark.parametrize("config", KNOWN_ADDRESS)
@pytest.mark.parametrize(
    "template",
    [
        "http://localhost/uploads/{p}/{c}/{name}.png",
        "http://LOCALHOST/uploads/{p}/{c}/{name}.jpg",
        "http://localhost:80/uploads/{p}/{c}/{name}.webp",
        "http://localhost/uploads/{p}/{c}/{name}.gif?v=1",
    ],
)
def test_a_link_to_an_image_stored_for_this_channel_passes(world, sql, other_app, config, template):
    client = other_app(**config)
    url = template.format(p=world.a.project_id, c=world.a.channel_id, name=NAME)

    assert_created_with(create(client, world.a, [url]), sql, world.a, [url])


@pytest.mark.usefixtures("whitelisted")
@pytest.mark.parametrize("config", KNOWN_ADDRESS)
def test_an_image_uploaded_here_can_be_linked_again_on_create_and_update(
    world, sql, other_app, config
):
    client = other_app(**config)
    uploaded = upload_png(client, world.a)
    assert uploaded.status_code == 201, uploaded.get_json()
    (url,) = stored_data(sql, uploaded.get_json()["id"])["shots"]
    assert url.startswith(own_url(world.a).rsplit("/", 1)[0] + "/")

    assert_created_with(create(client, world.a, [url]), sql, world.a, [url])
    feedback_id = world.a.feedback_ids[1]
    assert_empty(update(client, world.a, feedback_id, [url, f"https://{ALLOWED}/x.png"]))
    assert stored_data(sql, feedback_id)["shots"] == [url, f"https://{ALLOWED}/x.png"]


@pytest.mark.usefixtures("whitelisted")
@pytest.mark.parametrize("config", KNOWN_ADDRESS)
def test_links_under_uploads_of_another_channel_or_host_do_not_pass(
    app, world, sql, other_app, config
):
    client = other_app(**config)
    other_channel = make_channel(app, world.a.project_id, name="other")
    p, c = world.a.project_id, world.a.channel_id
    cases = [
        (own_url(world.a, other_channel), "localhost"),  # same project, other channel
        (own_url(world.b), "localhost"),  # other project
        (f"http://localhost/uploads/{p}/{c}0/{NAME}.png", "localhost"),  # channel 10, not 1
        (f"http://localhost/uploads/{p}/{c}", "localhost"),
        (f"http://localhost/uploads/{p}/{c}/../{other_channel}/{NAME}.png", "localhost"),
        (f"http://localhost/uploads/{p}/{c}/%2e%2e/{other_channel}/{NAME}.png", "localhost"),
        (f"http://localhost/uploads/{p}/{c}/.%2E/{other_channel}/{NAME}.png", "localhost"),
        (f"http://localhost/elsewhere/uploads/{p}/{c}/{NAME}.png", "localhost"),
        (f"https://localhost/uploads/{p}/{c}/{NAME}.png", "localhost"),  # other scheme
        (f"http://localhost:8080/uploads/{p}/{c}/{NAME}.png", "localhost"),  # other port
        (f"http://evil.net/uploads/{p}/{c}/{NAME}.png", "evil.net"),
        (f"http://localhost@evil.net/uploads/{p}/{c}/{NAME}.png", "evil.net"),
        (f"http://evil.net\\@localhost/uploads/{p}/{c}/{NAME}.png", "evil.net"),
        (f"http://localhost.evil.net/uploads/{p}/{c}/{NAME}.png", "localhost.evil.net"),
    ]
    before = feedback_rows(sql)
    problems = []

    for url, host in cases:
        response = create(client, world.a, [url])
        expected = bad_request(feedbacks_path(world.a), domain_refused(host))
        if (response.status_code, response.get_json()) != (400, expected):
            problems.append(f"{url}: {response.status_code} {response.get_json()}")

    assert problems == []
    assert feedback_rows(sql) == before


@pytest.mark.usefixtures("whitelisted")
def test_without_a_known_address_local_links_are_held_to_the_whitelist(app, client, world, sql):
    """Unset PUBLIC_URL and TRUSTED_HOSTS, the app's address would come from the client's Host
    header, so its own /uploads URLs get no exemption (docs/images.md): adding the service's
    host to the whitelist lets them pass."""
    url = own_url(world.a)
    before = feedback_rows(sql)

    refused = create(client, world.a, [url])

    assert_json(refused, 400, bad_request(feedbacks_path(world.a), domain_refused("localhost")))
    assert feedback_rows(sql) == before

    with app.app_context():
        configure_images(
            world.a.project_id, world.a.channel_id, image_domains=[ALLOWED, "localhost"]
        )
    assert_created_with(create(client, world.a, [url]), sql, world.a, [url])


@pytest.mark.usefixtures("whitelisted")
def test_a_forged_host_header_does_not_make_another_site_own(client, world, sql):
    """Without PUBLIC_URL the request's address names this service; a client choosing the Host
    header must still not get links to its own site past the whitelist."""
    before = feedback_rows(sql)
    url = f"http://evil.net/uploads/{world.a.project_id}/{world.a.channel_id}/{NAME}.png"

    response = create(client, world.a, [url], Host="evil.net")

    assert_json(response, 400, bad_request(feedbacks_path(world.a), domain_refused("evil.net")))
    assert feedback_rows(sql) == before


@pytest.mark.usefixtures("whitelisted")
def test_with_trusted_hosts_a_forged_host_header_is_refused(world, sql, other_app):
    client = other_app(TRUSTED_HOSTS=["localhost"])
    before = feedback_rows(sql)
    url = f"http://evil.net/uploads/{world.a.project_id}/{world.a.channel_id}/{NAME}.png"

    response = create(client, world.a, [url], Host="evil.net")

    message = "Host 'evil.net' is not trusted."
    assert_json(response, 400, bad_request(feedbacks_path(world.a), message))
    assert feedback_rows(sql) == before


@pytest.mark.usefixtures("whitelisted")
def test_with_public_url_set_only_images_under_it_are_own(world, sql, other_app):
    public = other_app(PUBLIC_URL="https://feedback.example.com")
    p, c = world.a.project_id, world.a.channel_id
    own = f"https://feedback.example.com/uploads/{p}/{c}/{NAME}.png"
    before = feedback_rows(sql)

    for url, headers in [
        (own_url(world.a), {}),
        (f"http://evil.net/uploads/{p}/{c}/{NAME}.png", {"Host": "evil.net"}),
    ]:
        refused = create(public, world.a, [url], **headers)
        host = url.split("/")[2]
        expected = bad_request(feedbacks_path(world.a), domain_refused(host))
        assert (refused.status_code, refused.get_json()) == (400, expected), url
    assert feedback_rows(sql) == before

    assert_created_with(create(public, world.a, [own]), sql, world.a, [own])


# --- no whitelist --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "urls",
    [
        ["https://evil.net/x.png", f"https://evil.net\\@{ALLOWED}/x.png"],
        ["javascript:alert(1)", "not a url", ""],
        [f"http://localhost/uploads/1/1/{NAME}.png", "https://0x7f.1/"],
    ],
)
def test_without_a_whitelist_any_string_passes(client, world, sql, urls):
    with client.application.app_context():
        assert configure_images(world.b.project_id, world.b.channel_id).image_domains == []

    assert_created_with(create(client, world.b, urls), sql, world.b, urls)


def test_an_emptied_whitelist_lets_any_url_pass_again(app, client, world, sql, whitelisted):
    refused = create(client, world.a, ["https://evil.net/x.png"])
    assert_json(refused, 400, bad_request(feedbacks_path(world.a), domain_refused("evil.net")))

    with app.app_context():
        configure_images(world.a.project_id, world.a.channel_id, image_domains=[])

    response = create(client, world.a, ["https://evil.net/x.png"])
    assert_created_with(response, sql, world.a, ["https://evil.net/x.png"])
