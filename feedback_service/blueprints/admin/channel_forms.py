"""Forms of the channel settings pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from feedback_service.models import FieldFormat, FieldProperty, FieldStatus
from feedback_service.services.channel_images import STORAGES

FORMAT_CHOICES = [SelectChoice(fmt.value) for fmt in FieldFormat]
PROPERTY_CHOICES = [
    SelectChoice(prop.value, prop.value.replace("_", " ").lower()) for prop in FieldProperty
]
STATUS_CHOICES = [SelectChoice(status.value, status.value.lower()) for status in FieldStatus]


def option_lines(text: str | None) -> tuple[str, ...]:
    """One option per line; blank lines ignored."""
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


class NewChannelForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=255)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    board = BooleanField("Public board (title, description, type, status; votes and comments)")


class ChannelForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=255)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    search_max_days = IntegerField(
        "Search window (days, -1 for unlimited)",
        validators=[InputRequired(), NumberRange(min=-1, max=36_500)],
    )


class NewFieldForm(FlaskForm):
    key = StringField("Key", validators=[DataRequired(), Length(max=255)])
    name = StringField("Name", validators=[Optional(), Length(max=255)])
    format = SelectField("Format", choices=FORMAT_CHOICES)
    property = SelectField("Property", choices=PROPERTY_CHOICES, default="EDITABLE")
    description = StringField("Description", validators=[Optional(), Length(max=10_000)])
    options = TextAreaField("Options (select and multiSelect; one per line)")


class FieldForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=255)])
    description = StringField("Description", validators=[Optional(), Length(max=10_000)])
    property = SelectField("Property", choices=PROPERTY_CHOICES)
    status = SelectField("Status", choices=STATUS_CHOICES)
    order = IntegerField("Order", validators=[InputRequired(), NumberRange(min=0, max=10_000)])
    new_options = TextAreaField("Add options (one per line)")


class ImagesForm(FlaskForm):
    storage = SelectField("Storage", choices=[SelectChoice(name) for name in STORAGES])
    image_domains = TextAreaField("Allowed image hosts (one per line; none allows any)")
    s3_endpoint = StringField("S3 endpoint", validators=[Optional(), Length(max=2048)])
    s3_bucket = StringField("S3 bucket", validators=[Optional(), Length(max=255)])
    s3_region = StringField("S3 region", validators=[Optional(), Length(max=64)])
    s3_access_key_id = StringField("S3 access key id", validators=[Optional(), Length(max=255)])
    # Never shown back: left blank, the stored secret stays.
    s3_secret_access_key = StringField(
        "S3 secret access key", validators=[Optional(), Length(max=255)]
    )
