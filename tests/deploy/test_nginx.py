"""``docs/deploy/nginx.conf`` as shipped, run by Debian's nginx in front of two served app servers.

The shipped file is included from a minimal top-level config of the test's own (pid, logs and
temporary files in the test's folder, in the foreground, as the current user), after replacing
only the values it marks with ``<-``: listen addresses, the app servers and the certificate. The
app is mounted under ``/feedback`` over TLS, exactly as shipped.

Clients connect from different loopback addresses (Linux answers all of 127/8), so nginx sees
distinct client addresses, and what the app made of them is read back from the database: the
anonymous voter keys and the rate-limit counters are keyed hashes of the address the app saw.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import re
import secrets
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from feedback_service import server as app_server
from tests import served
from tests.admin.console import PASSWORD, csrf_token_in
from tests.databases import SqliteFile, TestDatabase
from tests.helpers import too_large
from tests.images import corpus
from tests.served import Reply, Served, Site
from tests.test_e2e_serve import STARTUP_TIMEOUT, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = REPO_ROOT / "docs" / "deploy" / "nginx.conf"
CONSOLE_STATIC = REPO_ROOT / "feedback_service" / "blueprints" / "admin" / "static"
NGINX = Path(os.environ.get("NGINX_PATH", "/usr/sbin/nginx"))
HOST = "feedback.example.com"
PREFIX = "/feedback"
# The app servers trust nginx as their one proxy hop, as the shipped config says they must.
TRUST_ONE_HOP = {
    "FEEDBACK_PROXY_FIX_X_FOR": "1",
    "FEEDBACK_PROXY_FIX_X_PROTO": "1",
    "FEEDBACK_PROXY_FIX_X_HOST": "1",
    "FEEDBACK_PROXY_FIX_X_PREFIX": "1",
}
# Public API writes per client address and minute: small enough to reach in a test. Each test
# uses client addresses of its own, so no test spends another's budget.
WRITE_LIMIT = 4
APP_ENV = {**TRUST_ONE_HOP, "FEEDBACK_RATELIMIT_PUBLIC_WRITE": f"{WRITE_LIMIT} per minute"}
# A channel with an images field, for uploads.
SHOTS_CHANNEL = ("--name", "shots", "--field", "shots:images")
ADMIN_EMAIL = "admin@example.com"
LINK = re.compile(r'(?:href|src|action)="([^"#][^"]*)"')
# nginx's own refusal of an oversized body, not the app's.
NGINX_413 = b"<head><title>413 Request Entity Too Large</title></head>"
MiB = 1024 * 1024


# --- running nginx on the shipped config -------------------------------------------------------


def write_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``HOST`` and 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def substitute(text: str, replacements: Mapping[str, str]) -> str:
    """Replace each marked value, which must occur exactly once in the shipped file."""
    for old, new in replacements.items():
        assert text.count(old) == 1, f"{SHIPPED.name} should contain {old!r} exactly once"
        text = text.replace(old, new)
    return text


def top_level_config(directory: Path, site_config: Path) -> str:
    # As root, nginx's workers would run as "nobody" and could not enter the test's folder.
    user = "user root;" if os.geteuid() == 0 else ""
    temp = {name: directory / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    return f"""
{user}
worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} notice;
events {{ worker_connections 256; }}
http {{
    access_log {directory / "access.log"};
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {site_config};
}}
"""


@dataclass(frozen=True)
class Nginx:
    process: subprocess.Popen[bytes]
    https_port: int
    http_port: int
    tls: ssl.SSLContext
    directory: Path

    @property
    def host(self) -> str:
        """The Host header a browser sends to this nginx."""
        return f"{HOST}:{self.https_port}"

    @property
    def origin(self) -> str:
        return f"https://{self.host}"

    def log(self) -> str:
        return (self.directory / "error.log").read_text()

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        source: str = "127.0.0.1",
    ) -> Reply:
        connection = http.client.HTTPSConnection(
            "127.0.0.1",
            self.https_port,
            timeout=served.REQUEST_TIMEOUT,
            context=self.tls,
            source_address=(source, 0),
        )
        return exchange(connection, method, path, body, {"Host": self.host, **(headers or {})})

    def request_json(
        self,
        method: str,
        path: str,
        payload: Any = None,
        key: str = "",
        source: str = "127.0.0.1",
        forwarded_for: str | None = None,
    ) -> Reply:
        headers = {"content-type": "application/json"}
        if key:
            headers["x-api-key"] = key
        if forwarded_for is not None:
            headers["X-Forwarded-For"] = forwarded_for
        body = None if payload is None else json.dumps(payload).encode()
        return self.request(method, path, body, headers, source)

    def plain_request(self, method: str, path: str) -> Reply:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.http_port, timeout=served.REQUEST_TIMEOUT
        )
        return exchange(connection, method, path, None, {"Host": HOST})


def exchange(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None,
    headers: Mapping[str, str],
) -> Reply:
    try:
        connection.request(method, path, body=body, headers=dict(headers))
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, raw)


def wait_until_answering(nginx: Nginx) -> None:
    """Until the app's health check answers through nginx (and so through TLS and the prefix)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        assert nginx.process.poll() is None, f"nginx exited:\n{nginx.log()}"
        try:
            if nginx.request("GET", f"{PREFIX}/api/health").status == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"nginx did not answer:\n{nginx.log()}"
        time.sleep(0.05)


def require_nginx() -> None:
    if not os.access(NGINX, os.X_OK):
        pytest.fail(f"no nginx at {NGINX}: run `make services` (scripts/ensure-nginx.sh)")


@contextmanager
def running_nginx(directory: Path, app_ports: list[int]) -> Iterator[Nginx]:
    """The shipped config in front of the app servers on ``app_ports`` until the block ends."""
    require_nginx()
    directory.mkdir(parents=True, exist_ok=True)
    https_port, http_port = free_port(), free_port()
    cert, key = write_certificate(directory)
    first, second = app_ports
    site_config = directory / "feedback-service.conf"
    site_config.write_text(
        substitute(
            SHIPPED.read_text(),
            {
                "listen 80;": f"listen 127.0.0.1:{http_port};",
                "listen [::]:80;": "",
                "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
                "listen [::]:443 ssl;": "",
                "server 127.0.0.1:8000;": f"server 127.0.0.1:{first};",
                "server 10.0.0.12:8000;": f"server 127.0.0.1:{second};",
                "/etc/letsencrypt/live/feedback.example.com/fullchain.pem": str(cert),
                "/etc/letsencrypt/live/feedback.example.com/privkey.pem": str(key),
            },
        )
    )
    config = directory / "nginx.conf"
    config.write_text(top_level_config(directory, site_config))
    command = [str(NGINX), "-p", str(directory), "-c", str(config), "-e", "error.log"]
    checked = subprocess.run(
        [*command, "-t"], capture_output=True, text=True, timeout=30, check=False
    )
    # Not even a warning (a deprecated directive, a duplicate header...).
    assert checked.returncode == 0, checked.stderr
    assert "[" not in checked.stderr, checked.stderr
    with (directory / "nginx.out").open("wb") as output:
        process = subprocess.Popen(
            [*command, "-g", "daemon off;"], stdout=output, stderr=subprocess.STDOUT
        )
    tls = ssl.create_default_context(cafile=str(cert))
    nginx = Nginx(process, https_port, http_port, tls, directory)
    try:
        wait_until_answering(nginx)
        yield nginx
    finally:
        # SIGQUIT: nginx's graceful shutdown.
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- fixtures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    nginx: Nginx
    apps: tuple[Served, ...]
    site: Site
    shots_channel: int

    @property
    def database(self) -> TestDatabase:
        return self.site.cli.database

    @property
    def project(self) -> str:
        return f"{PREFIX}/api/projects/{self.site.ids.project_id}"

    def app_logs(self) -> str:
        return "".join(app.log() for app in self.apps)

    def client_hash(self, address: str) -> str:
        """How the app keys a client address: an HMAC with the site's secret key."""
        secret = (self.site.cli.instance / "secret_key").read_text().strip()
        return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, template: Site) -> Iterator[Deployment]:
    require_nginx()  # before the app servers are set up for nothing
    directory = tmp_path_factory.mktemp("nginx")
    site = served.copy_site(template, directory / "site")
    project = str(site.ids.project_id)
    # Two at a time, here and below: each process spends most of its time starting Python.
    with ThreadPoolExecutor(max_workers=2) as pool:
        admin = pool.submit(site.cli.create_user, ADMIN_EMAIL, PASSWORD)
        shots = pool.submit(site.cli.json, "create-channel", "--project", project, *SHOTS_CHANNEL)
        admin.result()
        shots_channel = shots.result()["id"]
    with ExitStack() as stack:
        # Both app servers share the site: its database, secret key, uploads and counters.
        with ThreadPoolExecutor(max_workers=2) as pool:
            apps = tuple(
                pool.map(
                    lambda _: stack.enter_context(served.serve(site, workers=1, env=APP_ENV)),
                    range(2),
                )
            )
        nginx = stack.enter_context(running_nginx(directory / "nginx", [app.port for app in apps]))
        yield Deployment(nginx, apps, site, shots_channel)


# --- the prefix --------------------------------------------------------------------------------


def links_in(html: str) -> list[str]:
    links = LINK.findall(html)
    assert links, "the page has no links"
    return links


def session_cookie(reply: Reply) -> str:
    """The ``name=value`` of the console's session cookie, after checking its attributes."""
    cookie = reply.headers["set-cookie"]
    attributes = [part.strip() for part in cookie.split(";")]
    assert attributes[0].startswith("feedback_console=")
    assert {"Secure", "HttpOnly", f"Path={PREFIX}", "SameSite=Lax"} <= set(attributes), cookie
    return attributes[0]


def test_the_console_lives_under_the_prefix(deployment: Deployment):
    nginx = deployment.nginx
    health = [nginx.request("GET", f"{PREFIX}/api/health") for _ in range(4)]
    assert [(reply.status, reply.json()["status"]) for reply in health] == [(200, "ok")] * 4
    # nginx takes turns between the two app servers (one worker process each).
    assert len({reply.json()["details"]["process"]["pid"] for reply in health}) == 2

    refused = nginx.request("GET", f"{PREFIX}/admin/projects")
    assert refused.status == 302
    assert refused.headers["location"] == f"{PREFIX}/admin/login?next=/admin/projects"

    login_url = refused.headers["location"]
    page = nginx.request("GET", login_url)
    assert page.status == 200
    html = page.raw.decode()
    assert all(link.startswith(f"{PREFIX}/") for link in links_in(html)), links_in(html)
    stylesheet = f"{PREFIX}/admin/static/console.css"
    assert f'href="{stylesheet}"' in html
    css = nginx.request("GET", stylesheet)
    assert css.status == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.raw == (CONSOLE_STATIC / "console.css").read_bytes()

    # Sign in as a browser does: the form's token, the cookie, and a same-origin Referer
    # (CSRF protection over https checks it against the host the app believes it is).
    form = {"email": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": csrf_token_in(html)}
    signed_in = nginx.request(
        "POST",
        login_url,
        urlencode(form).encode(),
        {
            "content-type": "application/x-www-form-urlencoded",
            "cookie": session_cookie(page),
            "referer": nginx.origin + login_url,
        },
    )
    assert signed_in.status == 302, signed_in
    assert signed_in.headers["location"] == f"{PREFIX}/admin/projects"

    projects = nginx.request(
        "GET", f"{PREFIX}/admin/projects", headers={"cookie": session_cookie(signed_in)}
    )
    assert projects.status == 200
    links = links_in(projects.raw.decode())
    assert all(link.startswith(f"{PREFIX}/") for link in links), links
    project_id = deployment.site.ids.project_id
    assert f"{PREFIX}/admin/projects/{project_id}/" in links


def test_plain_http_redirects_to_https_and_the_rest_of_the_host_is_not_the_app(
    deployment: Deployment,
):
    nginx = deployment.nginx
    redirected = nginx.plain_request("GET", f"{PREFIX}/api/health?x=1")
    assert redirected.status == 301
    assert redirected.headers["location"] == f"https://{HOST}{PREFIX}/api/health?x=1"
    assert nginx.request("GET", "/api/health").status == 404
    assert nginx.request("GET", "/admin/login").status == 404


def test_metrics_stay_off_the_public_address_and_one_request_id_names_a_request(
    deployment: Deployment,
):
    nginx = deployment.nginx
    assert nginx.request("GET", f"{PREFIX}/metrics").status == 404
    answered = nginx.request("GET", f"{PREFIX}/api/health?probe=request-id")
    # nginx's $request_id, passed on and kept by the app: 32 hex digits.
    request_id = answered.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    [line] = logged_lines(deployment, "/api/health?probe=request-id")
    assert line.endswith(f" {request_id}")
    forged = nginx.request(
        "GET", f"{PREFIX}/api/health?probe=forged-id", headers={"X-Request-Id": "client-chosen"}
    )
    assert forged.headers["x-request-id"] != "client-chosen"


def test_the_public_and_integration_apis_answer_under_the_prefix(deployment: Deployment):
    nginx, ids = deployment.nginx, deployment.site.ids
    created = nginx.request_json(
        "POST", f"{PREFIX}/api/v1/feedback", {"title": "Behind nginx"}, ids.public_key
    )
    assert created.status == 201, created
    public_id = created.json()["feedback"]["id"]
    listed = nginx.request_json("GET", f"{PREFIX}/api/v1/feedback", key=ids.public_key)
    assert listed.status == 200
    assert [item["title"] for item in listed.json()["items"]] == ["Behind nginx"]
    detail = nginx.request_json("GET", f"{PREFIX}/api/v1/feedback/{public_id}", key=ids.public_key)
    assert detail.status == 200
    assert detail.json()["feedback"]["id"] == public_id

    project = nginx.request_json("GET", deployment.project, key=ids.secret_key)
    assert project.status == 200
    assert project.json()["name"] == "Served"
    missing = nginx.request_json("GET", f"{deployment.project}/nothing", key=ids.secret_key)
    assert missing.status == 404
    assert missing.json()["message"] == f"Cannot GET {deployment.project}/nothing"


def test_upload_urls_and_stored_images_carry_the_public_address(deployment: Deployment):
    nginx, ids = deployment.nginx, deployment.site.ids
    channel = f"{deployment.project}/channels/{deployment.shots_channel}"
    # Larger than nginx's cap for most routes (2m): the upload routes have caps of their own.
    image = corpus.encode(corpus.noise(1000, 1000), "PNG")
    assert 2 * MiB < len(image) < 10 * MiB

    answered = nginx.request(
        "GET", f"{channel}/image-upload-url?extension=png", headers={"x-api-key": ids.secret_key}
    )
    assert answered.status == 200, answered
    upload_url = urlsplit(answered.raw.decode())
    assert (upload_url.scheme, upload_url.netloc) == ("https", nginx.host)
    assert upload_url.path.startswith(f"{PREFIX}/uploads/{ids.project_id}/")
    put = nginx.request(
        "PUT",
        f"{upload_url.path}?{upload_url.query}",
        image,
        {"content-type": "image/png"},
    )
    assert put.status == 200, put
    fetched = nginx.request("GET", upload_url.path)
    assert (fetched.status, fetched.headers["content-type"]) == (200, "image/png")
    assert fetched.raw == image

    boundary = secrets.token_hex(16)
    multipart = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="shots"; filename="shot.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    created = nginx.request(
        "POST",
        f"{channel}/feedbacks-with-images",
        multipart,
        {"content-type": f"multipart/form-data; boundary={boundary}", "x-api-key": ids.secret_key},
    )
    assert created.status == 201, created
    feedback = nginx.request_json(
        "GET", f"{channel}/feedbacks/{created.json()['id']}", key=ids.secret_key
    )
    [stored_url] = feedback.json()["shots"]
    stored = urlsplit(stored_url)
    assert (stored.scheme, stored.netloc) == ("https", nginx.host)
    assert stored.path.startswith(f"{PREFIX}/uploads/{ids.project_id}/")
    assert nginx.request("GET", stored.path).raw == image


# --- the client's address ----------------------------------------------------------------------


def public_write_counters(deployment: Deployment) -> dict[str, int]:
    """Public-write rate-limit hits per client hash, from the app servers' shared counters."""
    counters = SqliteFile(deployment.site.cli.instance / "ratelimit.sqlite")
    rows = counters.query("SELECT key, count FROM ratelimit_counter")
    return {
        key.split("/")[1]: count
        for key, count in rows
        if key.endswith(f"/public-write/{WRITE_LIMIT}/1/minute")
    }


def test_each_address_has_its_own_budget_and_a_forged_header_buys_none(deployment: Deployment):
    nginx, key = deployment.nginx, deployment.site.ids.public_key
    forged = [f"203.0.113.{n}" for n in range(1, WRITE_LIMIT + 2)]

    def identify(name: str, source: str, forwarded_for: str | None = None) -> int:
        payload = {"externalId": name}
        path = f"{PREFIX}/api/v1/identify"
        return nginx.request_json("POST", path, payload, key, source, forwarded_for).status

    # A fresh forged address with every request: all count against the real one.
    statuses = [identify(f"a-{n}", "127.0.0.2", address) for n, address in enumerate(forged)]
    assert statuses == [200] * WRITE_LIMIT + [429]
    assert identify("a-last", "127.0.0.2") == 429
    # Another address has a budget of its own, across both app servers.
    assert identify("b-0", "127.0.0.3", forged[0]) == 200

    counters = public_write_counters(deployment)
    assert counters[deployment.client_hash("127.0.0.2")] == WRITE_LIMIT + 2
    assert counters[deployment.client_hash("127.0.0.3")] == 1
    assert not {deployment.client_hash(address) for address in forged} & set(counters)
    names = deployment.database.query(
        "SELECT external_id FROM end_user WHERE external_id LIKE 'a-%' OR external_id LIKE 'b-%'"
        " ORDER BY external_id"
    )
    assert names == [(f"a-{n}",) for n in range(WRITE_LIMIT)] + [("b-0",)]


def votes_on(deployment: Deployment, public_id: str) -> set[str]:
    rows = deployment.database.query(
        "SELECT v.voter_key FROM vote v JOIN feedback f ON f.id = v.feedback_id"
        " WHERE f.public_id = ?",
        (public_id,),
    )
    return {voter for (voter,) in rows}


def submit_through(nginx: Nginx, key: str, title: str, author: str, source: str) -> str:
    """A feedback submitted through nginx by an identified author (its own vote counts); its
    public id."""
    body = {"title": title, "endUser": {"externalId": author}}
    created = nginx.request_json("POST", f"{PREFIX}/api/v1/feedback", body, key, source=source)
    assert created.status == 201, created
    return str(created.json()["feedback"]["id"])


def test_a_forged_header_does_not_make_an_anonymous_voter_someone_else(deployment: Deployment):
    nginx, key = deployment.nginx, deployment.site.ids.public_key
    public_id = submit_through(nginx, key, "Vote for me", "author", "127.0.0.6")
    vote_path = f"{PREFIX}/api/v1/feedback/{public_id}/vote"

    def vote(source: str, forwarded_for: str | None = None) -> Any:
        reply = nginx.request_json("POST", vote_path, {}, key, source, forwarded_for)
        assert reply.status == 200, reply
        return reply.json()

    assert vote("127.0.0.4") == {"voted": True, "voteCount": 2}
    # The same client claiming to be someone else toggles its own vote off, and on again.
    assert vote("127.0.0.4", "198.51.100.7") == {"voted": False, "voteCount": 1}
    state = nginx.request_json("GET", vote_path, key=key, source="127.0.0.4")
    assert state.json() == {"voted": False, "voteCount": 1}
    assert vote("127.0.0.4", "198.51.100.8, 198.51.100.9") == {"voted": True, "voteCount": 2}
    # A genuinely different address is a different voter.
    assert vote("127.0.0.5", "198.51.100.7") == {"voted": True, "voteCount": 3}

    [(author_id,)] = deployment.database.query(
        "SELECT id FROM end_user WHERE external_id = 'author'"
    )
    assert votes_on(deployment, public_id) == {
        f"u{author_id}",
        "a" + deployment.client_hash("127.0.0.4"),
        "a" + deployment.client_hash("127.0.0.5"),
    }


def test_nginx_hands_the_app_one_address_so_trusting_too_many_hops_reveals_no_forgery(
    deployment: Deployment, tmp_path: Path
):
    """nginx replaces the client's X-Forwarded-For rather than appending to it.

    An app told of two hops where there is one then finds no second address and takes nginx's
    own; had nginx appended, it would take the client's forged entry for the client.
    """
    nginx, key = deployment.nginx, deployment.site.ids.public_key
    public_id = submit_through(nginx, key, "Misconfigured", "careful-author", "127.0.0.8")

    env = {**APP_ENV, "FEEDBACK_PROXY_FIX_X_FOR": "2"}
    with (
        served.serve(deployment.site, workers=1, env=env) as app,
        running_nginx(tmp_path / "nginx", [app.port, app.port]) as misconfigured,
    ):
        vote = misconfigured.request_json(
            "POST", f"{PREFIX}/api/v1/feedback/{public_id}/vote", {}, key, "127.0.0.9", "192.0.2.1"
        )
    assert vote.status == 200, vote
    assert vote.json() == {"voted": True, "voteCount": 2}
    anonymous = {voter for voter in votes_on(deployment, public_id) if voter.startswith("a")}
    assert anonymous == {"a" + deployment.client_hash("127.0.0.1")}


# --- body sizes --------------------------------------------------------------------------------


def feedback_count(deployment: Deployment) -> int:
    [(count,)] = deployment.database.query(
        "SELECT COUNT(*) FROM feedback WHERE channel_id = ?", (deployment.site.ids.board_id,)
    )
    return int(count)


def logged_lines(deployment: Deployment, text: str) -> list[str]:
    """The app servers' access log lines holding ``text``, once there is at least one.

    gunicorn writes a request's line just after the response, so the client may be faster.
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        lines = [line for line in deployment.app_logs().splitlines() if text in line]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_bodies_over_the_apps_limit_get_its_413_and_far_larger_ones_nginxs(
    deployment: Deployment,
):
    nginx, ids = deployment.nginx, deployment.site.ids
    path = f"{deployment.project}/channels/{ids.board_id}/feedbacks"
    before = feedback_count(deployment)

    # Over the app's 1 MiB, under nginx's cap: the app answers, in the integration API's shape.
    over_the_app = {"title": "x" * (3 * MiB // 2)}
    refused = nginx.request_json("POST", path, over_the_app, ids.secret_key)
    assert refused.status == 413
    assert refused.headers["content-type"] == "application/json"
    assert refused.json() == too_large(path)

    # Over nginx's cap: nginx refuses it and the app never hears of it.
    probe = secrets.token_hex(8)
    over_nginx = {"title": "x" * (3 * MiB)}
    cut_off = nginx.request_json("POST", f"{path}?probe={probe}", over_nginx, ids.secret_key)
    assert cut_off.status == 413
    assert cut_off.headers["content-type"] == "text/html"
    assert NGINX_413 in cut_off.raw

    # The same request, small enough, reaches the app; once its line is in the app's log, the
    # refused one would be there too, had it reached an app server.
    accepted = nginx.request_json(
        "POST", f"{path}?probe={probe}", {"title": "Small"}, ids.secret_key
    )
    assert accepted.status == 201, accepted
    statuses = [line.split('" ')[1].split()[0] for line in logged_lines(deployment, probe)]
    assert statuses == ["201"]
    assert feedback_count(deployment) == before + 1


# --- the config beside the app -----------------------------------------------------------------


def test_nginx_drops_idle_app_connections_before_gunicorn_does():
    """Else a request sent on a connection gunicorn is just closing fails with 502."""
    timeouts = re.findall(r"^\s*keepalive_timeout (\d+)s;", SHIPPED.read_text(), re.MULTILINE)
    assert timeouts, "the upstream sets no keepalive_timeout"
    assert all(int(seconds) < app_server.KEEPALIVE for seconds in timeouts)
