"""Issues of a project: the table, the kanban board, the issue form, and categories.

Everyone signed in reads these pages; editors and admins change issues and categories.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from feedback_service.blueprints.admin import bp
from feedback_service.blueprints.admin.access import current_user, require_role, requires
from feedback_service.errors import (
    AppError,
    CategoryNameDuplicated,
    CategoryNameInvalid,
    CategoryNotFound,
    IssueInvalidName,
    IssueNameDuplicated,
    IssueNotFound,
)
from feedback_service.ids import parse_id
from feedback_service.models import Issue, IssueStatus, Role
from feedback_service.services import categories, issues
from feedback_service.services.issues import IssueFields

PROJECT = "/projects/<id:project_id>"
ISSUES = PROJECT + "/issues"
ISSUE = ISSUES + "/<id:issue_id>"
CATEGORIES = PROJECT + "/categories"
CATEGORY = CATEGORIES + "/<id:category_id>"

STATUS_LABELS = {
    IssueStatus.INIT: "Init",
    IssueStatus.ON_REVIEW: "On review",
    IssueStatus.IN_PROGRESS: "In progress",
    IssueStatus.RESOLVED: "Resolved",
    IssueStatus.PENDING: "Pending",
}
STATUS_CHOICES = [SelectChoice(status.value, STATUS_LABELS[status]) for status in IssueStatus]
PAGE_SIZE = 50
# Far past any real project; keeps the row offset inside SQLite's integer range.
MAX_PAGE = 1_000_000
# A column longer than this is read in the table, where it can be filtered and paged.
BOARD_COLUMN_LIMIT = 200
LINKED_FEEDBACK_LIMIT = 100
# The order a column sorts in when its header is first clicked.
SORT_FIRST_ORDER = {
    "name": "asc",
    "status": "asc",
    "feedbackCount": "desc",
    "createdAt": "desc",
    "updatedAt": "desc",
}
SORT_LABELS = {
    "name": "Name",
    "status": "Status",
    "feedbackCount": "Feedback",
    "createdAt": "Created",
    "updatedAt": "Updated",
}
# The integration API's limits, so that an issue made here can be sent back through it as is.
NAME_MAX_LENGTH = 30
DESCRIPTION_MAX_LENGTH = 50
EXTERNAL_ID_MAX_LENGTH = 255
CATEGORY_NAME_MAX_LENGTH = 255
# The value of the "no category" choice in filters (the issue search's categoryId 0).
NO_CATEGORY = "none"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class IssueForm(FlaskForm):
    name = StringField(
        "Name", filters=[_strip], validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)]
    )
    description = TextAreaField(
        "Description",
        filters=[_strip],
        validators=[Optional(), Length(max=DESCRIPTION_MAX_LENGTH)],
    )
    status = SelectField("Status", choices=STATUS_CHOICES, default=IssueStatus.INIT.value)
    # Choices are the project's categories, set per request; "" is "no category".
    category = SelectField("Category", choices=[])
    external_issue_id = StringField(
        "External issue id",
        filters=[_strip],
        validators=[Optional(), Length(max=EXTERNAL_ID_MAX_LENGTH)],
    )

    def issue_fields(self) -> IssueFields:
        return IssueFields(
            name=self.name.data or "",
            description=self.description.data or None,
            status=IssueStatus(self.status.data),
            external_issue_id=self.external_issue_id.data or None,
        )

    def category_id(self) -> int | None:
        return int(self.category.data) if self.category.data else None


class CategoryForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[_strip],
        validators=[DataRequired(), Length(max=CATEGORY_NAME_MAX_LENGTH)],
    )


@bp.context_processor
def issue_status_labels() -> dict[str, Any]:
    return {"issue_status_labels": STATUS_LABELS}


# The table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableView:
    """The table's filters, sort and page as read from the query string (bad values ignored)."""

    q: str
    status: IssueStatus | None
    category: str
    sort: str
    order: str
    page: int

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> TableView:
        sort = args.get("sort", "")
        if sort not in SORT_FIRST_ORDER:
            sort = "createdAt"
        order = args.get("order", "")
        if order not in ("asc", "desc"):
            order = SORT_FIRST_ORDER[sort]
        status = args.get("status", "")
        category = args.get("category", "")
        if category != NO_CATEGORY and parse_id(category) is None:
            category = ""
        return cls(
            q=args.get("q", "").strip(),
            status=IssueStatus(status) if status in IssueStatus.__members__ else None,
            category=category,
            sort=sort,
            order=order,
            page=min(max(parse_id(args.get("page", "")) or 1, 1), MAX_PAGE),
        )

    def search_query(self) -> dict[str, Any]:
        """The filters as the issue search's query object."""
        query: dict[str, Any] = {}
        if self.q:
            query["searchText"] = self.q
        if self.status:
            query["status"] = self.status.value
        if self.category == NO_CATEGORY:
            query["categoryId"] = 0
        elif self.category:
            query["categoryId"] = parse_id(self.category)
        return query

    def search_sort(self) -> dict[str, str]:
        return {self.sort: self.order.upper()}

    def next_order(self, key: str) -> str:
        """The order a click on ``key``'s header asks for: flipped when already sorted by it."""
        if key == self.sort:
            return "asc" if self.order == "desc" else "desc"
        return SORT_FIRST_ORDER[key]

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.status or self.category)


@bp.get(ISSUES, endpoint="issues")
def issue_table(project_id: int) -> ResponseReturnValue:
    view = TableView.from_args(request.args)
    found = issues.search_issues(
        project_id, view.search_query(), view.search_sort(), view.page, PAGE_SIZE
    )
    return render_template(
        "admin/issues.html",
        view=view,
        found=found,
        total_pages=-(-found.total // PAGE_SIZE),
        categories=categories.all_categories(project_id),
        sort_labels=SORT_LABELS,
        no_category=NO_CATEGORY,
    )


# The board ---------------------------------------------------------------------------------


@bp.get(ISSUES + "/board", endpoint="issue_board")
def issue_board(project_id: int) -> ResponseReturnValue:
    return render_template(
        "admin/issue_board.html",
        columns=issues.board_columns(project_id, BOARD_COLUMN_LIMIT),
        column_limit=BOARD_COLUMN_LIMIT,
    )


def _wants_json() -> bool:
    # The board's script asks for JSON; a plain form post (no script) gets a page.
    best = request.accept_mimetypes.best_match(("text/html", "application/json"))
    return best == "application/json"


def _refuse(code: int, message: str, as_json: bool) -> ResponseReturnValue:
    if as_json:
        return jsonify(error=message), code
    abort(code, message)


@bp.post(ISSUE + "/status", endpoint="issue_status")
def issue_status(project_id: int, issue_id: int) -> ResponseReturnValue:
    as_json = _wants_json()
    if not current_user().role.allows(Role.editor):
        return _refuse(403, f"This needs the {Role.editor.value} role.", as_json)
    status = request.form.get("status", "")
    if status not in IssueStatus.__members__:
        return _refuse(400, "Choose one of the statuses: " + ", ".join(IssueStatus), as_json)
    try:
        issue = issues.set_status(project_id, issue_id, IssueStatus(status))
    except IssueNotFound:
        return _refuse(404, "There is no such issue.", as_json)
    if as_json:
        return jsonify(id=issue.id, status=issue.status.value)
    flash(f"{issue.name} moved to {STATUS_LABELS[issue.status]}.")
    return redirect(url_for("admin.issue_board", project_id=project_id))


# One issue ---------------------------------------------------------------------------------


def _issue_form(project_id: int, issue: Issue | None = None) -> IssueForm:
    data: dict[str, Any] = {}
    if issue is not None:
        data = {
            "name": issue.name,
            "description": issue.description,
            "status": issue.status.value,
            "category": str(issue.category_id) if issue.category_id else "",
            "external_issue_id": issue.external_issue_id,
        }
    form = IssueForm(data=data)
    form.category.choices = [SelectChoice("", "None")] + [
        SelectChoice(str(category.id), category.name)
        for category in categories.all_categories(project_id)
    ]
    return form


def _show_save_error(form: IssueForm, error: AppError) -> None:
    if isinstance(error, IssueNameDuplicated | IssueInvalidName):
        form.name.errors = [*form.name.errors, "Another issue of this project has this name."]
    elif isinstance(error, CategoryNotFound):
        form.category.errors = [*form.category.errors, "That category was just deleted."]
    else:
        form.form_errors.append(str(error.message))


def _get_issue(project_id: int, issue_id: int) -> Issue:
    try:
        return issues.get_issue(project_id, issue_id)
    except IssueNotFound:
        abort(404, "There is no such issue.")


@bp.route(ISSUES + "/new", methods=["GET", "POST"], endpoint="issue_new")
@requires(Role.editor)
def issue_new(project_id: int) -> ResponseReturnValue:
    form = _issue_form(project_id)
    if form.validate_on_submit():
        try:
            issue = issues.create_issue(project_id, form.issue_fields(), form.category_id())
        except AppError as error:
            _show_save_error(form, error)
        else:
            flash(f"Issue {issue.name} created.")
            return redirect(url_for("admin.issue_edit", project_id=project_id, issue_id=issue.id))
    page = render_template("admin/issue_form.html", form=form, issue=None, linked=[])
    return page, 400 if form.is_submitted() else 200


@bp.route(ISSUE, methods=["GET", "POST"], endpoint="issue_edit")
def issue_edit(project_id: int, issue_id: int) -> ResponseReturnValue:
    if request.method == "POST":
        require_role(Role.editor)
    issue = _get_issue(project_id, issue_id)
    form = _issue_form(project_id, issue)
    if form.validate_on_submit():
        try:
            issues.replace_issue(project_id, issue_id, form.issue_fields(), form.category_id())
        except IssueNotFound:
            abort(404, "There is no such issue.")
        except AppError as error:
            _show_save_error(form, error)
        else:
            flash("Issue saved.")
            return redirect(url_for("admin.issue_edit", project_id=project_id, issue_id=issue_id))
    try:
        linked = issues.linked_feedback(project_id, issue_id, LINKED_FEEDBACK_LIMIT)
    except IssueNotFound:
        abort(404, "There is no such issue.")
    page = render_template(
        "admin/issue_form.html",
        form=form,
        issue=issue,
        linked=linked,
        linked_limit=LINKED_FEEDBACK_LIMIT,
    )
    return page, 400 if form.is_submitted() else 200


@bp.post(ISSUE + "/delete", endpoint="issue_delete")
@requires(Role.editor)
def issue_delete(project_id: int, issue_id: int) -> ResponseReturnValue:
    issue = _get_issue(project_id, issue_id)
    try:
        issues.delete_issue(project_id, issue_id)
    except IssueNotFound:
        abort(404, "There is no such issue.")
    flash(f"Issue {issue.name} deleted; its feedback stays.")
    return redirect(url_for("admin.issues", project_id=project_id))


# Categories --------------------------------------------------------------------------------


def _categories_page(project_id: int, form: CategoryForm, code: int = 200) -> ResponseReturnValue:
    rows = categories.categories_with_issue_counts(project_id)
    return render_template("admin/categories.html", form=form, rows=rows), code


def _blank_category_form() -> CategoryForm:
    # Not filled from the request: that one was a rename, not a new category.
    return CategoryForm(formdata=None)


@bp.route(CATEGORIES, methods=["GET", "POST"], endpoint="categories")
def categories_page(project_id: int) -> ResponseReturnValue:
    form = CategoryForm()
    if request.method == "POST":
        require_role(Role.editor)
        if form.validate():
            try:
                created = categories.create_category(project_id, form.name.data or "")
            except CategoryNameDuplicated:
                form.name.errors = ["Another category of this project has this name."]
            else:
                flash(f"Category {created.name} created.")
                return redirect(url_for("admin.categories", project_id=project_id))
        return _categories_page(project_id, form, 400)
    return _categories_page(project_id, form)


@bp.post(CATEGORY + "/rename", endpoint="category_rename")
@requires(Role.editor)
def category_rename(project_id: int, category_id: int) -> ResponseReturnValue:
    form = CategoryForm()
    if not form.validate():
        flash("A category needs a name of at most 255 characters.", "error")
        return _categories_page(project_id, _blank_category_form(), 400)
    try:
        categories.rename_category(project_id, category_id, form.name.data or "")
    except CategoryNotFound:
        abort(404, "There is no such category.")
    except CategoryNameInvalid:
        flash(f"Another category is already called {form.name.data}.", "error")
        return _categories_page(project_id, _blank_category_form(), 400)
    flash(f"Category renamed to {form.name.data}.")
    return redirect(url_for("admin.categories", project_id=project_id))


@bp.post(CATEGORY + "/delete", endpoint="category_delete")
@requires(Role.editor)
def category_delete(project_id: int, category_id: int) -> ResponseReturnValue:
    try:
        categories.delete_category(project_id, category_id)
    except CategoryNotFound:
        abort(404, "There is no such category.")
    flash("Category deleted; its issues stay, without a category.")
    return redirect(url_for("admin.categories", project_id=project_id))
