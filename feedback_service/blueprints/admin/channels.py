"""Channel settings: create channels and boards, edit their info, fields and image storage."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from feedback_service.blueprints.admin import bp
from feedback_service.blueprints.admin.access import project_channels, require_role, requires
from feedback_service.blueprints.admin.channel_forms import (
    ChannelForm,
    FieldForm,
    ImagesForm,
    NewChannelForm,
    NewFieldForm,
    option_lines,
)
from feedback_service.blueprints.admin.forms import form_status
from feedback_service.errors import AppError, ChannelNotFound, FieldNotFound
from feedback_service.models import Channel, FieldFormat, FieldProperty, FieldStatus, Role
from feedback_service.services import boards, channel_images, channels, fields
from feedback_service.services.channel_images import S3Changes
from feedback_service.services.fields import FieldChanges, FieldDraft


def _channel(project_id: int, channel_id: int) -> Channel:
    try:
        return channels.get_channel(project_id, channel_id)
    except ChannelNotFound:
        abort(404, "There is no such channel in this project.")


def _settings_url(channel: Channel) -> str:
    return url_for("admin.channel_settings", project_id=channel.project_id, channel_id=channel.id)


@bp.get("/projects/<id:project_id>/channels", endpoint="channels")
def channels_list(project_id: int) -> ResponseReturnValue:
    return render_template("admin/channels.html", channels=project_channels())


@bp.route("/projects/<id:project_id>/channels/new", methods=["GET", "POST"])
@requires(Role.admin)
def channel_new(project_id: int) -> ResponseReturnValue:
    form = NewChannelForm()
    if form.validate_on_submit():
        name, description = form.name.data or "", form.description.data or None
        try:
            if form.board.data:
                channel = boards.create_board(project_id, name, description)
            else:
                channel = channels.create_channel(project_id, name, (), (), description)
        except AppError as error:
            form.form_errors.append(str(error.message))
        else:
            flash(f"Channel {channel.name} created. Add its fields below.")
            return redirect(_settings_url(channel))
    return render_template("admin/channel_new.html", form=form), form_status(form)


# The channel's own form shares a page with the field form: a prefix keeps ids and labels apart.
CHANNEL_FORM_PREFIX = "channel"


def _images_form(channel: Channel) -> ImagesForm:
    """The saved image settings; the S3 secret is never put back into a page."""
    form = ImagesForm(formdata=None, obj=channel, storage=channel.image_storage)
    # `obj` wins over keyword values, and the column holds a list, not the form's lines.
    form.image_domains.data = "\n".join(channel.image_domains)
    form.s3_secret_access_key.data = None
    return form


def _settings_page(
    channel: Channel,
    info: ChannelForm | None = None,
    new_field: NewFieldForm | None = None,
    images: ImagesForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    info = info or ChannelForm(
        formdata=None,
        obj=channel,
        search_max_days=channel.feedback_search_max_days,
        prefix=CHANNEL_FORM_PREFIX,
    )
    images = images or _images_form(channel)
    page = render_template(
        "admin/channel_settings.html",
        channel=channel,
        info=info,
        new_field=new_field or NewFieldForm(formdata=None),
        images=images,
        locked={f.id for f in channel.fields if fields.is_locked(channel, f)},
    )
    return page, status


@bp.route("/projects/<id:project_id>/channels/<id:channel_id>", methods=["GET", "POST"])
def channel_settings(project_id: int, channel_id: int) -> ResponseReturnValue:
    channel = _channel(project_id, channel_id)
    info = ChannelForm(prefix=CHANNEL_FORM_PREFIX)
    if not info.is_submitted():
        return _settings_page(channel)
    require_role(Role.admin)
    if info.validate():
        try:
            channels.update_channel(
                project_id,
                channel_id,
                info.name.data or "",
                info.description.data or None,
                info.search_max_days.data or 0,
            )
        except AppError as error:
            info.form_errors.append(str(error.message))
        else:
            flash("Channel saved.")
            return redirect(_settings_url(channel))
    return _settings_page(channel, info=info, status=400)


@bp.post("/projects/<id:project_id>/channels/<id:channel_id>/fields")
@requires(Role.admin)
def field_new(project_id: int, channel_id: int) -> ResponseReturnValue:
    channel = _channel(project_id, channel_id)
    form = NewFieldForm()
    if form.validate():
        draft = FieldDraft(
            key=(form.key.data or "").strip(),
            name=form.name.data or "",
            format=FieldFormat(form.format.data),
            property=FieldProperty(form.property.data),
            description=form.description.data or None,
            options=option_lines(form.options.data),
        )
        try:
            added = fields.add_field(project_id, channel_id, draft)
        except AppError as error:
            form.form_errors.append(str(error.message))
        else:
            flash(f"Field {added.key} added.")
            return redirect(_settings_url(channel))
    return _settings_page(channel, new_field=form, status=400)


@bp.route(
    "/projects/<id:project_id>/channels/<id:channel_id>/fields/<id:field_id>",
    methods=["GET", "POST"],
)
def field_edit(project_id: int, channel_id: int, field_id: int) -> ResponseReturnValue:
    channel = _channel(project_id, channel_id)
    field_ = next((f for f in channel.fields if f.id == field_id), None)
    if field_ is None:
        abort(404, FieldNotFound.default_message)
    form = FieldForm(obj=field_, property=field_.property.value, status=field_.status.value)
    status = 200
    if form.is_submitted():
        require_role(Role.admin)
        status = 400
    if form.validate_on_submit():
        changes = FieldChanges(
            name=form.name.data or "",
            description=form.description.data or None,
            property=FieldProperty(form.property.data),
            status=FieldStatus(form.status.data),
            order=form.order.data or 0,
            new_options=option_lines(form.new_options.data),
        )
        try:
            fields.update_field(project_id, channel_id, field_id, changes)
        except AppError as error:
            form.form_errors.append(str(error.message))
        else:
            flash(f"Field {field_.key} saved.")
            return redirect(_settings_url(channel))
    page = render_template(
        "admin/field_edit.html",
        channel=channel,
        field=field_,
        form=form,
        locked=fields.is_locked(channel, field_),
    )
    return page, status


@bp.post("/projects/<id:project_id>/channels/<id:channel_id>/images")
@requires(Role.admin)
def channel_images_update(project_id: int, channel_id: int) -> ResponseReturnValue:
    channel = _channel(project_id, channel_id)
    form = ImagesForm()
    if form.validate():
        s3 = S3Changes(
            endpoint=form.s3_endpoint.data or None,
            bucket=form.s3_bucket.data or None,
            region=form.s3_region.data or None,
            access_key_id=form.s3_access_key_id.data or None,
            secret_access_key=form.s3_secret_access_key.data or None,
        )
        try:
            channel_images.configure_images(
                project_id,
                channel_id,
                storage=form.storage.data,
                s3=s3,
                image_domains=option_lines(form.image_domains.data),
            )
        except AppError as error:
            form.form_errors.append(str(error.message))
        else:
            flash("Image settings saved.")
            return redirect(_settings_url(channel))
    return _settings_page(channel, images=form, status=400)
