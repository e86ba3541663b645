"""``feedback-service channel-images``: a channel's image storage and whitelist.

The output contract (stdout, stderr, exit status, the secret never printed) is checked on the
real console script; sweeps over many bad inputs run the same command in process through
Flask's CLI runner, which is several times faster. Settings are checked in the database; the S3
secret goes in (preferably through ``FEEDBACK_S3_SECRET_ACCESS_KEY``) and never comes out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from feedback_service.services.channel_images import S3Changes, configure_images
from tests.factories import World
from tests.helpers import Sql, database_rows

SECRET = "cli-s3-secret-5e8b2a91d0-never-printed"
ENDPOINT = "https://s3.eu-west-1.amazonaws.com"
SETTINGS = (
    "image_storage, s3_endpoint, s3_bucket, s3_region, s3_access_key_id, s3_secret_access_key, "
    "image_domains"
)


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class InProcess:
    """The same commands through ``app.test_cli_runner()``, with ``Cli``'s ``run``/``json``."""

    app: Flask
    extra_env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str) -> Outcome:
        result = self.app.test_cli_runner().invoke(args=list(args), env=self.extra_env)
        # Anything but a clean exit (SystemExit from click) is a crash, not a refusal.
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Outcome(result.exit_code, result.stdout, result.stderr)

    def json(self, *args: str) -> dict[str, Any]:
        result = self.run(*args, "--json")
        assert result.returncode == 0, result.stderr
        loaded = json.loads(result.stdout)
        assert isinstance(loaded, dict)
        return loaded


@pytest.fixture
def runner(app: Flask) -> InProcess:
    return InProcess(app)


def images_args(project_id: int, channel_id: int, *more: str) -> list[str]:
    return ["channel-images", "--project", str(project_id), "--channel", str(channel_id), *more]


def settings(sql: Sql, channel_id: int) -> tuple[Any, ...]:
    (row,) = sql(f"SELECT {SETTINGS} FROM channel WHERE id = ?", (channel_id,))
    return (*row[:-1], json.loads(row[-1]))


def payload(channel_id: int, **changes: Any) -> dict[str, Any]:
    s3 = {
        "endpoint": None,
        "bucket": None,
        "region": None,
        "accessKeyId": None,
        "secretAccessKeySet": False,
    }
    s3.update(changes.pop("s3", {}))
    return {"channelId": channel_id, "storage": "local", "imageDomains": [], "s3": s3, **changes}


def assert_no_secret(*outputs: str) -> None:
    for output in outputs:
        assert SECRET not in output


def configure_s3(app: Flask, project_id: int, channel_id: int) -> None:
    with app.app_context():
        configure_images(
            project_id,
            channel_id,
            storage="s3",
            s3=S3Changes(
                endpoint=ENDPOINT,
                bucket="shots",
                region="eu-west-1",
                access_key_id="AKIAEXAMPLE",
                secret_access_key=SECRET,
            ),
            image_domains=["old.example.com"],
        )


S3_PAYLOAD = {
    "endpoint": ENDPOINT,
    "bucket": "shots",
    "region": "eu-west-1",
    "accessKeyId": "AKIAEXAMPLE",
    "secretAccessKeySet": True,
}


# --- showing -----------------------------------------------------------------------------------


def test_shows_the_defaults_in_json_and_text_and_changes_nothing(cli, world: World, sql):
    a = world.a
    before = database_rows(sql)
    assert cli.json(*images_args(a.project_id, a.channel_id)) == payload(a.channel_id)
    text = cli.ok(*images_args(a.project_id, a.channel_id))
    assert json.loads(text.stdout) == payload(a.channel_id)
    assert database_rows(sql) == before


def test_shows_s3_settings_with_the_secret_only_as_set(app, cli, world: World, sql):
    a = world.a
    configure_s3(app, a.project_id, a.channel_id)
    before = database_rows(sql)
    expected = payload(a.channel_id, storage="s3", imageDomains=["old.example.com"], s3=S3_PAYLOAD)
    shown = cli.ok(*images_args(a.project_id, a.channel_id), "--json")
    text = cli.ok(*images_args(a.project_id, a.channel_id))
    assert json.loads(shown.stdout) == expected
    assert json.loads(text.stdout) == expected
    assert_no_secret(shown.stdout, shown.stderr, text.stdout, text.stderr)
    assert database_rows(sql) == before


# --- changing S3 settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "source", "as_json"),
    [
        ("cli", "environment", True),
        ("cli", "environment", False),
        ("runner", "option", True),
        ("runner", "option", False),
    ],
    ids=["environment, json", "environment, text", "option, json", "option, text"],
)
def test_configures_s3_and_stores_the_secret_without_printing_it(
    request, world: World, sql, tool, source, as_json
):
    cli = request.getfixturevalue(tool)
    a = world.a
    args = images_args(
        a.project_id,
        a.channel_id,
        "--storage",
        "s3",
        "--s3-endpoint",
        ENDPOINT,
        "--s3-bucket",
        "shots",
        "--s3-region",
        "eu-west-1",
        "--s3-access-key-id",
        "AKIAEXAMPLE",
    )
    if source == "environment":
        cli.extra_env["FEEDBACK_S3_SECRET_ACCESS_KEY"] = SECRET
    else:
        args += ["--s3-secret-access-key", SECRET]
    result = cli.run(*args, *(["--json"] if as_json else []))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == payload(a.channel_id, storage="s3", s3=S3_PAYLOAD)
    assert_no_secret(result.stdout, result.stderr)
    assert settings(sql, a.channel_id) == (
        "s3",
        ENDPOINT,
        "shots",
        "eu-west-1",
        "AKIAEXAMPLE",
        SECRET,
        [],
    )
    # Project B's channel is untouched.
    assert settings(sql, world.b.channel_id) == ("local", None, None, None, None, None, [])


def test_partial_changes_keep_the_other_settings(app, runner, world: World, sql):
    cli = runner
    a = world.a
    configure_s3(app, a.project_id, a.channel_id)
    region = cli.json(*images_args(a.project_id, a.channel_id, "--s3-region", "us-west-2"))
    assert region["s3"] == {**S3_PAYLOAD, "region": "us-west-2"}
    assert region["imageDomains"] == ["old.example.com"]
    local = cli.json(*images_args(a.project_id, a.channel_id, "--storage", "local"))
    assert local == payload(
        a.channel_id,
        storage="local",
        imageDomains=["old.example.com"],
        s3={**S3_PAYLOAD, "region": "us-west-2"},
    )
    assert settings(sql, a.channel_id) == (
        "local",
        ENDPOINT,
        "shots",
        "us-west-2",
        "AKIAEXAMPLE",
        SECRET,
        ["old.example.com"],
    )


@pytest.mark.parametrize(
    ("tool", "more"),
    [
        ("cli", ["--storage", "s3"]),
        ("runner", ["--storage", "s3", "--s3-endpoint", ENDPOINT, "--s3-region", "eu-west-1"]),
        ("runner", ["--storage", "s3", "--s3-bucket", ""]),
    ],
    ids=["storage only", "with endpoint and region", "empty bucket"],
)
def test_s3_storage_without_a_bucket_fails_and_changes_nothing(
    request, world: World, sql, tool, more
):
    cli = request.getfixturevalue(tool)
    a = world.a
    cli.extra_env["FEEDBACK_S3_SECRET_ACCESS_KEY"] = SECRET
    before = database_rows(sql)
    result = cli.run(*images_args(a.project_id, a.channel_id, *more), "--json")
    assert (result.returncode, result.stdout) == (1, "")
    assert "S3 image storage needs a bucket (--s3-bucket)" in result.stderr
    assert_no_secret(result.stderr)
    assert database_rows(sql) == before


@pytest.mark.parametrize(
    "endpoint",
    ["ftp://s3.example.com", "s3.example.com", "file:///var/s3", "javascript:alert(1)", "http://"],
)
def test_s3_endpoint_must_be_an_http_url(runner, world: World, sql, endpoint):
    cli = runner
    a = world.a
    before = database_rows(sql)
    args = images_args(a.project_id, a.channel_id, "--s3-endpoint", endpoint, "--s3-bucket", "b")
    result = cli.run(*args, "--json")
    assert (result.returncode, result.stdout) == (1, "")
    assert "invalid S3 endpoint" in result.stderr
    assert database_rows(sql) == before


def test_http_and_https_endpoints_are_accepted(runner, world: World, sql):
    cli = runner
    a = world.a
    for endpoint in ("http://127.0.0.1:9000", "https://storage.example.net"):
        shown = cli.json(*images_args(a.project_id, a.channel_id, "--s3-endpoint", endpoint))
        assert shown["s3"]["endpoint"] == endpoint
        assert settings(sql, a.channel_id)[1] == endpoint


# --- the whitelist -----------------------------------------------------------------------------


def test_image_domains_replace_the_whitelist_normalised_and_any_clears_it(
    app, runner, world: World, sql
):
    cli = runner
    a = world.a
    with app.app_context():
        configure_images(a.project_id, a.channel_id, image_domains=["old.example.com"])
    replaced = cli.json(
        *images_args(
            a.project_id,
            a.channel_id,
            "--image-domain",
            "CDN.Example.com",
            "--image-domain",
            "img.example.org",
            "--image-domain",
            "cdn.example.COM",
        )
    )
    domains = ["cdn.example.com", "img.example.org"]
    assert replaced == payload(a.channel_id, imageDomains=domains)
    assert settings(sql, a.channel_id)[-1] == domains
    cleared = cli.json(*images_args(a.project_id, a.channel_id, "--any-image-domain"))
    assert cleared == payload(a.channel_id)
    assert settings(sql, a.channel_id)[-1] == []


@pytest.mark.parametrize("domain", ["https://cdn.example.com", "cdn example.com", ""])
def test_invalid_image_domain_fails_and_changes_nothing(app, runner, world: World, sql, domain):
    cli = runner
    a = world.a
    with app.app_context():
        configure_images(a.project_id, a.channel_id, image_domains=["old.example.com"])
    before = database_rows(sql)
    args = images_args(
        a.project_id, a.channel_id, "--image-domain", "ok.example.com", "--image-domain", domain
    )
    result = cli.run(*args, "--json")
    assert (result.returncode, result.stdout) == (1, "")
    assert "invalid image domain" in result.stderr
    assert database_rows(sql) == before


def test_image_domain_and_any_image_domain_together_is_a_usage_error(cli, world: World, sql):
    a = world.a
    before = database_rows(sql)
    args = images_args(
        a.project_id,
        a.channel_id,
        "--image-domain",
        "cdn.example.com",
        "--any-image-domain",
        "--storage",
        "s3",
        "--s3-bucket",
        "shots",
    )
    result = cli.run(*args, "--json")
    assert (result.returncode, result.stdout) == (2, "")
    assert "give --image-domain or --any-image-domain, not both" in result.stderr
    assert database_rows(sql) == before


def test_unknown_storage_is_a_usage_error(runner, world: World, sql):
    cli = runner
    a = world.a
    before = database_rows(sql)
    result = cli.run(*images_args(a.project_id, a.channel_id, "--storage", "ftp"), "--json")
    assert (result.returncode, result.stdout) == (2, "")
    assert "'ftp' is not one of 'local', 's3'" in result.stderr
    assert database_rows(sql) == before


# --- scope -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "target"),
    [
        ("cli", "another project's channel"),
        ("runner", "unknown channel"),
        ("runner", "no project"),
    ],
    ids=["another project's channel", "unknown channel", "no project"],
)
def test_channel_outside_the_project_fails_and_changes_nothing(
    request, world: World, sql, tool, target
):
    cli = request.getfixturevalue(tool)
    a, b = world.a, world.b
    project_id, channel_id = {
        "another project's channel": (a.project_id, b.channel_id),
        "unknown channel": (a.project_id, 987654),
        "no project": (987654, a.channel_id),
    }[target]
    cli.extra_env["FEEDBACK_S3_SECRET_ACCESS_KEY"] = SECRET
    before = database_rows(sql)
    args = images_args(
        project_id, channel_id, "--storage", "s3", "--s3-bucket", "x", "--any-image-domain"
    )
    result = cli.run(*args, "--json")
    assert (result.returncode, result.stdout) == (1, "")
    assert "channel is not found" in result.stderr
    assert_no_secret(result.stderr)
    assert database_rows(sql) == before


def test_create_channel_image_domain_still_sets_the_whitelist(cli, runner, world: World, sql):
    a = world.a
    created = cli.json(
        "create-channel",
        "--project",
        str(a.project_id),
        "--name",
        "mobile",
        "--field",
        "shots:images",
        "--image-domain",
        "CDN.Example.com",
        "--image-domain",
        "img.example.org",
    )
    assert created["imageDomains"] == ["cdn.example.com", "img.example.org"]
    assert settings(sql, created["id"]) == (
        "local",
        None,
        None,
        None,
        None,
        None,
        ["cdn.example.com", "img.example.org"],
    )
    shown = runner.json(*images_args(a.project_id, created["id"]))
    assert shown == payload(created["id"], imageDomains=["cdn.example.com", "img.example.org"])
