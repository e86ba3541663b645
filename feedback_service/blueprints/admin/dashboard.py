"""A project's landing page: counts, feedback per day and channel, issues by status."""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from feedback_service.blueprints.admin import bp
from feedback_service.blueprints.admin.charts import Bar, Series, bar_chart, line_chart
from feedback_service.errors import InvalidInput, ProjectNotFound
from feedback_service.models import IssueStatus
from feedback_service.services import dashboard as dashboard_service
from feedback_service.services.dashboard import PRESET_DAYS, Dashboard, WindowQuery

# Strong enough to read as bars; the same hues as the console's status tags.
STATUS_COLORS = {
    IssueStatus.INIT: "#8a94a6",
    IssueStatus.ON_REVIEW: "#c99700",
    IssueStatus.IN_PROGRESS: "#2556d9",
    IssueStatus.RESOLVED: "#157f3b",
    IssueStatus.PENDING: "#8e44ad",
}


def _charts(dashboard: Dashboard) -> dict[str, Markup]:
    series = [Series(item.name, item.counts) for item in dashboard.series]
    bars = [Bar(status.value, count, STATUS_COLORS[status]) for status, count in dashboard.statuses]
    return {
        "per_day": line_chart(
            "feedback-per-day", "Feedback per day and channel", dashboard.window.days, series
        ),
        "statuses": bar_chart("issues-by-status", "Issues by status", bars),
    }


@bp.get("/projects/<id:project_id>/", endpoint="dashboard")
def dashboard(project_id: int) -> ResponseReturnValue:
    query = WindowQuery(
        days=request.args.get("days"),
        start=request.args.get("from"),
        end=request.args.get("to"),
    )
    try:
        data = dashboard_service.project_dashboard(project_id, query)
    except ProjectNotFound:
        abort(404, "There is no such project.")
    except InvalidInput as error:
        page = render_template(
            "admin/dashboard.html",
            dashboard=None,
            error=error.message,
            query=query,
            presets=PRESET_DAYS,
        )
        return page, 400
    return render_template(
        "admin/dashboard.html",
        dashboard=data,
        charts=_charts(data),
        query=query,
        presets=PRESET_DAYS,
    )
