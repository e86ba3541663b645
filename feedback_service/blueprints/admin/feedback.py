"""Feedback pages: each channel's table with filters, and one feedback's page for triage.

Viewers read; editors change fields, link issues, reply, move board statuses and delete.
Every change is a POST that redirects back to the feedback's page with a message; a change
the services refuse re-renders the page with the reason and status 400.
"""

from __future__ import annotations

from typing import Any, NoReturn
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from feedback_service.blueprints.admin import bp
from feedback_service.blueprints.admin.access import current_user, project_channels, requires
from feedback_service.errors import (
    AppError,
    ChannelNotFound,
    FeedbackNotFound,
    IssueNotFound,
    UnknownId,
)
from feedback_service.models import Channel, Feedback, Issue, Role
from feedback_service.schemas.public import MAX_COMMENT_LENGTH
from feedback_service.services import channels, comments, console_feedback, issues
from feedback_service.services import feedback as feedback_service
from feedback_service.services.boards import STATUSES
from feedback_service.services.console_feedback import Column, FeedbackFilters
from feedback_service.services.feedback_export import MAX_EXPORT_ROWS
from feedback_service.timezones import project_zone

PAGE_SIZE = 50
# Offsets beyond this would overflow SQL integers; nobody pages that far by hand.
MAX_PAGE = 1_000_000
# The issue selects list this many of the project's issues, by name.
MAX_ISSUE_CHOICES = 1000
MAX_COMMENTS_SHOWN = 500
PREFIX = "/projects/<id:project_id>/channels/<id:channel_id>/feedback"
ONE = PREFIX + "/<id:feedback_id>"
FILTER_NAMES = frozenset({"q", "from", "to", "issue", "sort"})


def _not_found(what: str) -> NoReturn:
    abort(404, f"There is no such {what} in this project.")


def _channel(project_id: int, channel_id: int) -> Channel:
    try:
        return channels.get_channel(project_id, channel_id)
    except ChannelNotFound:
        _not_found("channel")


def _feedback(project_id: int, channel_id: int, feedback_id: int) -> Feedback:
    try:
        return feedback_service.get_feedback(project_id, channel_id, feedback_id)
    except ChannelNotFound:
        _not_found("channel")
    except FeedbackNotFound:
        _not_found("feedback")


def _zone() -> ZoneInfo:
    return project_zone(g.project.timezone["name"])


def _issue_choices(project_id: int) -> list[Issue]:
    return issues.search_issues(project_id, {}, {"name": "ASC"}, 1, MAX_ISSUE_CHOICES).items


def _page_number() -> int:
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), MAX_PAGE)


def _filter_args() -> dict[str, list[str]]:
    """The list page's filters and sort: what exports and sort links carry along.

    Only the form's own names pass, so no query parameter can collide with a route's
    arguments (or url_for's own, such as ``_external``).
    """
    return {
        name: values
        for name, values in request.args.to_dict(flat=False).items()
        if name in FILTER_NAMES or name.startswith(console_feedback.FILTER_PREFIX)
    }


def _sort_links(project_id: int, channel_id: int, current: str) -> dict[str, str]:
    """For each sortable column, the table sorted by it (ascending first, then descending)."""
    args = {name: v for name, v in _filter_args().items() if name != "sort"}
    links = {}
    for key in ("id", "createdAt", "updatedAt"):
        target = f"-{key}" if current == key else key
        links[key] = url_for(
            "admin.feedback_list", project_id=project_id, channel_id=channel_id, sort=target, **args
        )
    return links


def image_link(url: str) -> bool:
    """Only web URLs become links and images; anything else is shown as text."""
    return urlsplit(url).scheme.lower() in ("http", "https")


@bp.get("/projects/<id:project_id>/feedback", endpoint="feedback_index")
def feedback_index(project_id: int) -> ResponseReturnValue:
    listed = project_channels()
    if listed:
        first = listed[0]
        return redirect(url_for("admin.feedback_list", project_id=project_id, channel_id=first.id))
    return render_template("admin/feedback_empty.html")


@bp.get(PREFIX, endpoint="feedback_list")
def feedback_list(project_id: int, channel_id: int) -> ResponseReturnValue:
    filters = FeedbackFilters.from_args(request.args.to_dict(flat=False))
    zone = _zone()
    page_number = _page_number()
    error = None
    try:
        page = console_feedback.search(
            project_id, channel_id, filters, zone, page_number, PAGE_SIZE
        )
    except ChannelNotFound:
        _not_found("channel")
    except AppError as refused:
        error, page = str(refused.message), None
    channel = _channel(project_id, channel_id)
    choices = _issue_choices(project_id)
    columns = console_feedback.table_columns(channel)
    rows = [
        (item, console_feedback.row_values(columns, item, zone))
        for item in (page.items if page else [])
    ]
    total = page.total if page else 0
    html = render_template(
        "admin/feedback_list.html",
        channel=channel,
        channels=project_channels(),
        columns=columns,
        filter_columns=console_feedback.filter_columns(channel),
        filters=filters,
        rows=rows,
        page=page_number,
        total=total,
        total_pages=(total + PAGE_SIZE - 1) // PAGE_SIZE,
        error=error,
        issues=choices,
        export_args=_filter_args(),
        sort_links=_sort_links(project_id, channel_id, filters.sort),
        max_export_rows=MAX_EXPORT_ROWS,
        zone_name=zone.key,
        image_link=image_link,
    )
    return html, 400 if error else 200


def _edit_columns(channel: Channel) -> list[Column]:
    # A board's status has a form of its own.
    exclude = ("status",) if channel.is_board else ()
    return console_feedback.editable_columns(channel, exclude=exclude)


def _detail_page(
    project_id: int,
    channel_id: int,
    feedback_id: int,
    *,
    error: str | None = None,
    submitted: dict[str, Any] | None = None,
    reply: str = "",
    status: int = 200,
) -> ResponseReturnValue:
    channel = _channel(project_id, channel_id)
    item = _feedback(project_id, channel_id, feedback_id)
    choices = _issue_choices(project_id)
    thread = (
        comments.list_comments(project_id, channel_id, feedback_id, MAX_COMMENTS_SHOWN)
        if channel.is_board
        else []
    )
    zone = _zone()
    columns = console_feedback.table_columns(channel)
    edit_columns = _edit_columns(channel)
    current = {c.key: console_feedback.input_value(c, item, zone) for c in edit_columns}
    linked = {issue.id for issue in item.issues}
    status_column = next((c for c in columns if c.key == "status"), None)
    html = render_template(
        "admin/feedback_detail.html",
        channel=channel,
        item=item,
        values=list(zip(columns, console_feedback.row_values(columns, item, zone), strict=True)),
        edit_columns=edit_columns,
        edit_values={**current, **(submitted or {})},
        linkable=[issue for issue in choices if issue.id not in linked],
        comments=thread,
        max_comments=MAX_COMMENTS_SHOWN,
        board_statuses=STATUSES,
        current_status=item.data.get("status") if status_column else None,
        error=error,
        zone=zone,
        zone_name=zone.key,
        max_comment_length=MAX_COMMENT_LENGTH,
        reply=reply,
        image_link=image_link,
    )
    return html, status


@bp.get(ONE, endpoint="feedback_detail")
def feedback_detail(project_id: int, channel_id: int, feedback_id: int) -> ResponseReturnValue:
    return _detail_page(project_id, channel_id, feedback_id)


def _back(project_id: int, channel_id: int, feedback_id: int) -> ResponseReturnValue:
    return redirect(
        url_for(
            "admin.feedback_detail",
            project_id=project_id,
            channel_id=channel_id,
            feedback_id=feedback_id,
        )
    )


def _refused(
    project_id: int, channel_id: int, feedback_id: int, error: AppError | str, **page: Any
) -> ResponseReturnValue:
    message = error if isinstance(error, str) else str(error.message)
    return _detail_page(project_id, channel_id, feedback_id, error=message, status=400, **page)


@bp.post(ONE, endpoint="feedback_update")
@requires(Role.editor)
def feedback_update(project_id: int, channel_id: int, feedback_id: int) -> ResponseReturnValue:
    zone = _zone()
    channel = _channel(project_id, channel_id)
    item = _feedback(project_id, channel_id, feedback_id)
    form = request.form.to_dict(flat=False)
    # The board status form edits "status"; the main form edits the other fields.
    columns = console_feedback.editable_columns(channel)
    try:
        body = console_feedback.update_body(columns, item, form, zone)
        if body:
            feedback_service.update_feedback(project_id, channel_id, feedback_id, body)
    except (ChannelNotFound, FeedbackNotFound):
        _not_found("feedback")
    except AppError as error:
        shown = console_feedback.form_values(columns, form)
        return _refused(project_id, channel_id, feedback_id, error, submitted=shown)
    flash("Feedback saved." if body else "Nothing changed.")
    return _back(project_id, channel_id, feedback_id)


@bp.post(ONE + "/delete", endpoint="feedback_delete")
@requires(Role.editor)
def feedback_delete(project_id: int, channel_id: int, feedback_id: int) -> ResponseReturnValue:
    try:
        deleted = feedback_service.delete_feedback(project_id, channel_id, [feedback_id])
    except ChannelNotFound:
        _not_found("channel")
    if not deleted:
        _not_found("feedback")
    flash(f"Feedback {feedback_id} deleted.")
    return redirect(url_for("admin.feedback_list", project_id=project_id, channel_id=channel_id))


@bp.post(ONE + "/issues", endpoint="feedback_link_issue")
@requires(Role.editor)
def feedback_link_issue(project_id: int, channel_id: int, feedback_id: int) -> ResponseReturnValue:
    new_name = request.form.get("new_issue", "").strip()
    chosen = request.form.get("issue_id", "").strip()
    try:
        if new_name:
            issue = feedback_service.link_new_issue(project_id, channel_id, feedback_id, new_name)
            flash(f"Issue {issue.name} created and linked.")
        elif chosen.isdecimal():
            feedback_service.attach_issue(project_id, channel_id, feedback_id, int(chosen))
            flash("Issue linked.")
        else:
            return _refused(
                project_id, channel_id, feedback_id, "Choose an issue, or name a new one."
            )
    except ChannelNotFound:
        _not_found("channel")
    except FeedbackNotFound:
        _not_found("feedback")
    except (UnknownId, IssueNotFound):
        _not_found("issue")
    except AppError as error:
        return _refused(project_id, channel_id, feedback_id, error)
    return _back(project_id, channel_id, feedback_id)


@bp.post(ONE + "/issues/<id:issue_id>/unlink", endpoint="feedback_unlink_issue")
@requires(Role.editor)
def feedback_unlink_issue(
    project_id: int, channel_id: int, feedback_id: int, issue_id: int
) -> ResponseReturnValue:
    try:
        feedback_service.detach_issue(project_id, channel_id, feedback_id, issue_id)
    except ChannelNotFound:
        _not_found("channel")
    except FeedbackNotFound:
        _not_found("feedback")
    except UnknownId:
        _not_found("issue")
    flash("Issue unlinked.")
    return _back(project_id, channel_id, feedback_id)


@bp.post(ONE + "/comments", endpoint="feedback_reply")
@requires(Role.editor)
def feedback_reply(project_id: int, channel_id: int, feedback_id: int) -> ResponseReturnValue:
    if not _channel(project_id, channel_id).is_board:
        abort(404, "Only a board's feedback has comments.")
    content = request.form.get("content", "").replace("\r\n", "\n").strip()
    problem = None
    if not content:
        problem = "Write a reply first."
    elif len(content) > MAX_COMMENT_LENGTH:
        problem = f"A reply holds at most {MAX_COMMENT_LENGTH} characters."
    if problem:
        return _refused(project_id, channel_id, feedback_id, problem, reply=content)
    author = current_user().name or current_user().email
    try:
        comments.add_team_comment(project_id, channel_id, feedback_id, content, author)
    except (ChannelNotFound, FeedbackNotFound):
        _not_found("feedback")
    flash("Reply posted.")
    return _back(project_id, channel_id, feedback_id)
