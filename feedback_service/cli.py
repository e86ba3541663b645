"""The ``feedback-service`` command line (also ``flask --app app ...``).

With ``--json`` a command prints exactly one JSON object on stdout; errors go to stderr with a
non-zero exit status.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from feedback_service.cli_database import backup_command, copy_db_command
from feedback_service.cli_support import emit, json_option, needs_current_schema
from feedback_service.models import Channel, FieldFormat, FieldProperty, Role
from feedback_service.openapi.document import build_document
from feedback_service.schema import head_revision, schema_is_current, upgrade_to_head
from feedback_service.schemas.integration import FieldOut, ProjectOut
from feedback_service.services import (
    admin_users,
    api_keys,
    boards,
    channel_images,
    channels,
    identity,
    projects,
    public_keys,
    public_origins,
)
from feedback_service.services.admin_users import NewUser
from feedback_service.services.channels import FieldSpec
from feedback_service.timezones import DEFAULT_TIMEZONE


def parse_field_spec(spec: str) -> FieldSpec:
    """``KEY:FORMAT[:EDITABLE|READ_ONLY][:opt1|opt2...]``."""
    parts = spec.split(":")
    if len(parts) < 2 or len(parts) > 4 or not parts[0]:
        raise click.BadParameter(
            f"{spec!r} is not KEY:FORMAT[:EDITABLE|READ_ONLY][:opt1|opt2...]", param_hint="--field"
        )
    key, fmt, *rest = parts
    if fmt not in FieldFormat.__members__:
        formats = ", ".join(FieldFormat)
        raise click.BadParameter(f"unknown format {fmt!r} (one of {formats})", param_hint="--field")
    prop = FieldProperty.EDITABLE
    if rest and rest[0] in FieldProperty.__members__:
        prop = FieldProperty(rest.pop(0))
    if len(rest) > 1:
        raise click.BadParameter(
            f"{spec!r}: expected EDITABLE or READ_ONLY before the options", param_hint="--field"
        )
    options = tuple(rest[0].split("|")) if rest else ()
    return FieldSpec(key=key, format=FieldFormat(fmt), property=prop, options=options)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema to the latest revision (safe to repeat)."""
    upgrade_to_head()
    click.echo(f"database schema is at revision {head_revision()}", err=True)


@click.command("create-project")
@with_appcontext
@click.option("--name", required=True)
@click.option("--description", default=None)
@click.option("--timezone", default=DEFAULT_TIMEZONE, show_default=True, help="IANA zone name.")
@json_option
@needs_current_schema
def create_project_command(
    name: str, description: str | None, timezone: str, as_json: bool
) -> None:
    """Create a project."""
    project = projects.create_project(name, description, timezone)
    emit(as_json, ProjectOut().dump(project), f"created project {project.id} ({project.name})")


@click.command("create-channel")
@with_appcontext
@click.option("--project", "project_id", type=int, required=True)
@click.option("--name", required=True)
@click.option("--description", default=None)
@click.option(
    "--field",
    "field_specs",
    multiple=True,
    help="KEY:FORMAT[:EDITABLE|READ_ONLY][:opt1|opt2...]; repeat for each field.",
)
@click.option("--image-domain", "image_domains", multiple=True, help="Allowed image URL host.")
@json_option
@needs_current_schema
def create_channel_command(
    project_id: int,
    name: str,
    description: str | None,
    field_specs: tuple[str, ...],
    image_domains: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create a channel; the default fields id, createdAt, updatedAt, issues come first."""
    specs = [parse_field_spec(spec) for spec in field_specs]
    channel = channels.create_channel(project_id, name, specs, image_domains, description)
    payload = {
        "id": channel.id,
        "projectId": channel.project_id,
        "name": channel.name,
        "imageDomains": channel.image_domains,
        "fields": FieldOut(many=True).dump(channel.fields),
    }
    emit(as_json, payload, f"created channel {channel.id} ({channel.name}) in project {project_id}")


@click.command("create-api-key")
@with_appcontext
@click.option("--project", "project_id", type=int, required=True)
@json_option
@needs_current_schema
def create_api_key_command(project_id: int, as_json: bool) -> None:
    """Issue a secret API key; it is printed once and cannot be shown again."""
    key, raw_key = api_keys.create_api_key(project_id)
    emit(
        as_json,
        {"id": key.id, "key": raw_key},
        f"API key {key.id} for project {project_id} (store it now, it is not shown again):\n"
        f"{raw_key}",
    )


@click.command("revoke-api-key")
@with_appcontext
@click.option("--project", "project_id", type=int, required=True)
@click.option("--id", "key_id", type=int, required=True)
@json_option
@needs_current_schema
def revoke_api_key_command(project_id: int, key_id: int, as_json: bool) -> None:
    """Revoke a secret API key; requests with it are refused from then on."""
    key = api_keys.revoke_api_key(project_id, key_id)
    emit(as_json, {"id": key.id, "revoked": True}, f"revoked API key {key.id}")


S3_SECRET_VARIABLE = "FEEDBACK_S3_SECRET_ACCESS_KEY"


def channel_images_payload(channel: Channel) -> dict[str, Any]:
    """A channel's image settings; the S3 secret is only ever reported as set or not."""
    return {
        "channelId": channel.id,
        "storage": channel.image_storage,
        "imageDomains": channel.image_domains,
        "s3": {
            "endpoint": channel.s3_endpoint,
            "bucket": channel.s3_bucket,
            "region": channel.s3_region,
            "accessKeyId": channel.s3_access_key_id,
            "secretAccessKeySet": channel.s3_secret_access_key is not None,
        },
    }


@click.command("channel-images")
@with_appcontext
@click.option("--project", "project_id", type=int, required=True)
@click.option("--channel", "channel_id", type=int, required=True)
@click.option("--storage", type=click.Choice(channel_images.STORAGES), default=None)
@click.option("--s3-endpoint", default=None, help="e.g. https://s3.eu-west-1.amazonaws.com")
@click.option("--s3-bucket", default=None)
@click.option("--s3-region", default=None)
@click.option("--s3-access-key-id", default=None)
@click.option(
    "--s3-secret-access-key",
    default=None,
    help=f"Better given in {S3_SECRET_VARIABLE} than on the command line.",
)
@click.option("--image-domain", "image_domains", multiple=True, help="Replaces the whitelist.")
@click.option("--any-image-domain", is_flag=True, help="Clear the whitelist: any host.")
@json_option
@needs_current_schema
def channel_images_command(
    project_id: int,
    channel_id: int,
    storage: str | None,
    s3_endpoint: str | None,
    s3_bucket: str | None,
    s3_region: str | None,
    s3_access_key_id: str | None,
    s3_secret_access_key: str | None,
    image_domains: tuple[str, ...],
    any_image_domain: bool,
    as_json: bool,
) -> None:
    """Show or change where a channel's images are stored and which hosts its URLs may use."""
    if image_domains and any_image_domain:
        raise click.UsageError("give --image-domain or --any-image-domain, not both")
    changing_s3 = any((storage, s3_endpoint, s3_bucket, s3_region, s3_access_key_id))
    if s3_secret_access_key is None and changing_s3:
        # Read only when S3 settings change, so showing the settings never stores it.
        s3_secret_access_key = os.environ.get(S3_SECRET_VARIABLE)
    channel = channel_images.configure_images(
        project_id,
        channel_id,
        storage=storage,
        s3=channel_images.S3Changes(
            endpoint=s3_endpoint,
            bucket=s3_bucket,
            region=s3_region,
            access_key_id=s3_access_key_id,
            secret_access_key=s3_secret_access_key,
        ),
        image_domains=[] if any_image_domain else (list(image_domains) or None),
    )
    payload = channel_images_payload(channel)
    emit(as_json, payload, json.dumps(payload, indent=2))


@click.command("create-board")
@with_appcontext
@click.option("--project", "project_id", type=int, required=True)
@click.option("--name", required=True)
@click.option("--description", default=None)
@json_option
@needs_current_schema
def create_board_command(
    project_id: int, name: str, description: str | None, as_json: bool
) -> None:
    """Create a board: a channel with title, description, type and status for the public API."""
    board = boards.create_board(project_id, name, description)
    payload = {
        "id": board.id,
        "projectId": board.project_id,
        "name": board.name,
        "fields": FieldOut(many=True).dump(board.fields),
    }
    emit(as_json, payload, f"created board {board.id} ({board.name}) in project {project_id}")


@click.command("create-public-key")
@with_appcontext
@click.option("--project", "project_id", type=int, required=True)
@click.option("--channel", "channel_id", type=int, required=True, help="A board of the project.")
@json_option
@needs_current_schema
def create_public_key_command(project_id: int, channel_id: int, as_json: bool) -> None:
    """Issue a public key (fhpk_...) for a board; browsers use it with the public API."""
    key = public_keys.create_public_key(project_id, channel_id)
    emit(
        as_json,
        {"id": key.id, "key": key.key, "projectId": project_id, "channelId": channel_id},
        f"public key {key.id} for board {channel_id}:\n{key.key}",
    )


@click.command("revoke-public-key")
@with_appcontext
@click.option("--project", "project_id", type=int, required=True)
@click.option("--id", "key_id", type=int, required=True)
@json_option
@needs_current_schema
def revoke_public_key_command(project_id: int, key_id: int, as_json: bool) -> None:
    """Revoke a public key; the public API refuses it from then on."""
    key = public_keys.revoke_public_key(project_id, key_id)
    emit(as_json, {"id": key.id, "revoked": True}, f"revoked public key {key.id}")


@click.command("identity-secret")
@with_appcontext
@click.option("--project", "project_id", type=int, required=True)
@click.option(
    "--require/--no-require",
    default=None,
    help="Refuse (or accept again) end-user writes without a valid userHash.",
)
@click.option("--rotate", is_flag=True, help="Replace the secret; old hashes stop working.")
@json_option
@needs_current_schema
def identity_secret_command(
    project_id: int, require: bool | None, rotate: bool, as_json: bool
) -> None:
    """Show the project's identity verification secret (created on first use).

    Your server sends userHash = hex(HMAC-SHA256(secret, externalId)) with each end user.
    """
    settings = identity.configure_identity(project_id, rotate=rotate, required=require)
    state = "required" if settings.required else "optional"
    emit(
        as_json,
        {"projectId": project_id, "secret": settings.secret, "required": settings.required},
        f"identity secret of project {project_id} (verification {state}):\n{settings.secret}",
    )


@click.command("allowed-origins")
@with_appcontext
@click.option("--project", "project_id", type=int, required=True)
@click.option("--origin", "origins", multiple=True, help="e.g. https://app.example.com; repeat.")
@click.option("--any", "allow_any", is_flag=True, help="Allow every origin (the default).")
@json_option
@needs_current_schema
def allowed_origins_command(
    project_id: int, origins: tuple[str, ...], allow_any: bool, as_json: bool
) -> None:
    """Show or set the browser origins allowed to call the public API."""
    if origins and allow_any:
        raise click.UsageError("give --origin or --any, not both")
    if origins or allow_any:
        allowed = public_origins.set_allowed_origins(project_id, origins)
    else:
        allowed = public_origins.allowed_origins(project_id)
    emit(
        as_json,
        {"projectId": project_id, "allowedOrigins": allowed},
        "any origin" if not allowed else "\n".join(allowed),
    )


def read_new_password() -> str:
    """From a hidden prompt (asked twice) on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@click.command("create-admin")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", default=None)
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.admin.value,
    show_default=True,
)
@json_option
@needs_current_schema
def create_admin_command(email: str, name: str | None, role: str, as_json: bool) -> None:
    """Create a console user; the password comes from a prompt or the first line of stdin."""
    user = admin_users.create_user(
        NewUser(email=email, password=read_new_password(), role=Role(role), name=name)
    )
    payload = {"id": user.id, "email": user.email, "name": user.name, "role": user.role.value}
    emit(as_json, payload, f"created {user.role.value} {user.email}")


def announce_setup_link(app: Flask, host: str, port: int) -> None:
    """On a database without console users, print a one-time link that creates the first."""
    token = admin_users.issue_setup_token()
    if token is None:
        return
    base = app.config["PUBLIC_URL"] or f"http://{host}:{port}"
    path = f"/admin/setup/{token}"
    click.echo(
        f"No console user yet. Create the first admin within "
        f"{admin_users.SETUP_TOKEN_TTL.seconds // 60} minutes at:\n  {base.rstrip('/')}{path}",
        err=True,
    )


SERVER_SIZE = click.IntRange(1, 64)


def server_size(name: str, given: int | None) -> int:
    """The option if given, else the setting (``FEEDBACK_WORKERS``, ``instance/config.py``...)."""
    if given is not None:
        return given
    value = current_app.config[name]
    try:
        return int(SERVER_SIZE.convert(value, None, None))
    except click.BadParameter as error:
        raise click.ClickException(f"setting {name}: {error.message}") from None


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", type=SERVER_SIZE, help="Worker processes  [default: setting WORKERS]")
@click.option("--threads", type=SERVER_SIZE, help="Threads per worker  [default: setting THREADS]")
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="Upgrade the database schema before serving.",
)
def serve_command(
    host: str, port: int, workers: int | None, threads: int | None, migrate: bool
) -> None:
    """Serve the app with gunicorn (production server).

    SIGTERM stops it gracefully: workers finish the requests in hand (up to 30 s) first.
    """
    from feedback_service.server import serve

    workers, threads = server_size("WORKERS", workers), server_size("THREADS", threads)
    if migrate:
        upgrade_to_head()
    elif not schema_is_current():
        raise click.ClickException("the database schema is not up to date: run init-db")
    announce_setup_link(current_app, host, port)
    serve(host=host, port=port, workers=workers, threads=threads)


@click.command("openapi")
@with_appcontext
def openapi_command() -> None:
    """Print the OpenAPI document of both APIs (what /openapi.json serves)."""
    click.echo(json.dumps(build_document(current_app), indent=2))


COMMANDS = (
    init_db_command,
    create_admin_command,
    create_project_command,
    create_channel_command,
    create_api_key_command,
    revoke_api_key_command,
    create_board_command,
    create_public_key_command,
    revoke_public_key_command,
    identity_secret_command,
    allowed_origins_command,
    channel_images_command,
    serve_command,
    backup_command,
    copy_db_command,
    openapi_command,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def main() -> None:
    from feedback_service import create_app

    FlaskGroup(create_app=create_app, help="Run and administer feedback_service.")()
