"""The console's forms (WTForms through Flask-WTF, which also carries the CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from feedback_service.models import Role
from feedback_service.services.admin_users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

ROLE_CHOICES = [SelectChoice(role.value, role.value.capitalize()) for role in Role]


def form_status(form: FlaskForm) -> int:
    """400 when a submitted form is shown again with its errors, else 200."""
    return 400 if form.errors else 200


def new_password(label: str = "Password") -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=f"A password needs at least {MIN_PASSWORD_LENGTH} characters "
                f"(and at most {MAX_PASSWORD_LENGTH}).",
            ),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class SetupForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    name = StringField("Name", validators=[Optional(), Length(max=255)])
    password = new_password()
    confirm = PasswordField("Repeat password", validators=[EqualTo("password")])


class NewUserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    name = StringField("Name", validators=[Optional(), Length(max=255)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.viewer.value)
    password = new_password("Initial password")


class UserForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active")


class PasswordForm(FlaskForm):
    password = new_password("New password")
    confirm = PasswordField("Repeat password", validators=[EqualTo("password")])


class ProjectForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=255)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    timezone = StringField("Timezone", validators=[DataRequired(), Length(max=64)])
