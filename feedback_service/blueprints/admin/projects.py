"""Projects: the list every user starts from, and creating and editing them (admins)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from feedback_service.blueprints.admin import bp
from feedback_service.blueprints.admin.access import require_role, requires
from feedback_service.blueprints.admin.forms import ProjectForm, form_status
from feedback_service.errors import AppError
from feedback_service.models import Role
from feedback_service.services import projects
from feedback_service.timezones import DEFAULT_TIMEZONE, timezone_names


@bp.get("/")
def projects_home() -> ResponseReturnValue:
    return redirect(url_for("admin.projects"))


@bp.get("/projects", endpoint="projects")
def projects_list() -> ResponseReturnValue:
    return render_template("admin/projects.html", projects=projects.list_projects())


@bp.route("/projects/new", methods=["GET", "POST"])
@requires(Role.admin)
def project_new() -> ResponseReturnValue:
    form = ProjectForm(data={"timezone": DEFAULT_TIMEZONE})
    if form.validate_on_submit():
        try:
            project = projects.create_project(
                form.name.data or "", form.description.data or None, form.timezone.data or ""
            )
        except AppError as error:
            form.form_errors.append(str(error.message))
        else:
            flash(f"Project {project.name} created. Add a channel to start collecting feedback.")
            return redirect(url_for("admin.channels", project_id=project.id))
    page = render_template("admin/project_form.html", form=form, timezones=timezone_names())
    return page, form_status(form)


@bp.route("/projects/<id:project_id>/settings", methods=["GET", "POST"])
def project_settings(project_id: int) -> ResponseReturnValue:
    project = g.project
    form = ProjectForm(obj=project, data={"timezone": project.timezone["name"]})
    if form.validate_on_submit():
        require_role(Role.admin)
        try:
            projects.update_project(
                project_id,
                form.name.data or "",
                form.description.data or None,
                form.timezone.data or "",
            )
        except AppError as error:
            form.form_errors.append(str(error.message))
        else:
            flash("Project saved.")
            return redirect(url_for("admin.project_settings", project_id=project_id))
    page = render_template("admin/project_form.html", form=form, timezones=timezone_names())
    return page, form_status(form)
