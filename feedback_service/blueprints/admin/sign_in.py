"""Sign in, sign out, and the first-run page that creates the first admin."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from feedback_service.blueprints.admin import bp
from feedback_service.blueprints.admin.access import safe_next, sign_in_session
from feedback_service.blueprints.admin.forms import LoginForm, SetupForm, form_status
from feedback_service.errors import InvalidInput, SetupClosed
from feedback_service.services import admin_users


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        user = admin_users.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            sign_in_session(user)
            return redirect(safe_next(request.args.get("next")))
        # One message for every failure: it must not tell which addresses have accounts.
        form.form_errors.append("Wrong email or password.")
    status = 401 if form.form_errors else 200
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("admin.login"))


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> ResponseReturnValue:
    if not admin_users.setup_token_is_live(token):
        abort(404, SetupClosed.default_message)
    form = SetupForm()
    if form.validate_on_submit():
        try:
            user = admin_users.create_first_admin(
                token, form.email.data or "", form.password.data or "", form.name.data
            )
        except InvalidInput as error:
            form.form_errors.append(str(error.message))
        except SetupClosed:
            abort(404, SetupClosed.default_message)
        else:
            sign_in_session(user)
            flash("Welcome. Your admin account is ready: create your first project.")
            return redirect(url_for("admin.projects"))
    return render_template("admin/setup.html", form=form), form_status(form)
