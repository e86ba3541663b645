"""Console users (admins only), and each user's own password."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from feedback_service.blueprints.admin import bp
from feedback_service.blueprints.admin.access import current_user, requires, sign_in_session
from feedback_service.blueprints.admin.forms import (
    NewUserForm,
    PasswordForm,
    UserForm,
    form_status,
)
from feedback_service.errors import AppError
from feedback_service.models import Role
from feedback_service.services import admin_users
from feedback_service.services.admin_users import NewUser


@bp.route("/users", methods=["GET", "POST"])
@requires(Role.admin)
def users() -> ResponseReturnValue:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            created = admin_users.create_user(
                NewUser(
                    email=form.email.data or "",
                    password=form.password.data or "",
                    role=Role(form.role.data),
                    name=form.name.data,
                )
            )
        except AppError as error:
            form.form_errors.append(str(error.message))
        else:
            flash(f"{created.email} can now sign in as {created.role.value}.")
            return redirect(url_for("admin.users"))
    page = render_template("admin/users.html", form=form, users=admin_users.list_users())
    return page, form_status(form)


@bp.post("/users/<id:user_id>")
@requires(Role.admin)
def user_update(user_id: int) -> ResponseReturnValue:
    form = UserForm()
    if not form.validate():
        flash("Choose a role.", "error")
    else:
        try:
            changed = admin_users.update_user(
                user_id, role=Role(form.role.data), active=bool(form.active.data)
            )
        except AppError as error:
            flash(str(error.message), "error")
        else:
            state = "active" if changed.active else "deactivated"
            flash(f"{changed.email}: {changed.role.value}, {state}.")
    return redirect(url_for("admin.users"))


@bp.route("/account", methods=["GET", "POST"])
def account() -> ResponseReturnValue:
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user()
        admin_users.change_password(user.id, form.password.data or "")
        # Other sessions end with the old epoch; this one continues on the new.
        refreshed = admin_users.get_user(user.id)
        sign_in_session(refreshed)
        flash("Password changed. Other sessions of yours are signed out.")
        return redirect(url_for("admin.account"))
    return render_template("admin/account.html", form=form), form_status(form)
