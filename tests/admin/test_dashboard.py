"""The project dashboard page: stats, charts, the period picker, escaping and scoping."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedback_service.services import dashboard as dashboard_service
from tests.admin.console import Console
from tests.factories import World, make_channel, make_feedback, make_issue, make_project

NOW = datetime(2024, 6, 15, 10, 0, tzinfo=UTC)  # 12:00 in Berlin


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard_service, "utcnow", lambda: NOW)


@pytest.fixture
def berlin(app: Flask) -> dict[str, int]:
    """A Berlin project with channels "web" and "app" and a few feedback in June 2024."""
    project_id = make_project(app, "Berlin shop", timezone="Europe/Berlin")
    web = make_channel(app, project_id, "web", specs=())
    app_channel = make_channel(app, project_id, "app", specs=())
    for when in (
        "2024-06-14T22:00:01Z",  # today, 00:00:01 local
        "2024-06-14T21:59:59Z",  # yesterday, 23:59:59 local
        "2024-06-01T12:00:00Z",
        "2024-04-01T12:00:00Z",
    ):
        make_feedback(app, project_id, web, {"createdAt": when, "issueNames": ["Checkout"]})
    make_feedback(app, project_id, app_channel, {"createdAt": "2024-06-15T09:00:00Z"})
    make_issue(app, project_id, "Empty issue")
    return {"project": project_id, "web": web, "app": app_channel}


def page_of(console: Console, url: str, status: int = 200) -> str:
    response = console.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def stat(html: str, key: str) -> int:
    match = re.search(rf'<strong data-stat="{key}">(\d+)</strong>', html)
    assert match, f"no stat {key}"
    return int(match.group(1))


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", html, re.DOTALL)


def test_viewer_sees_the_numbers(viewer_console: Console, berlin: dict[str, int]) -> None:
    html = page_of(viewer_console, f"/admin/projects/{berlin['project']}/")
    assert {key: stat(html, f"feedback-{key}") for key in ("today", "7", "30", "total")} == {
        "today": 2,
        "7": 3,
        "30": 4,
        "total": 5,
    }
    # Issues are stamped by the real clock, later than the fixed "now": only the total has them.
    assert [stat(html, f"issues-{key}") for key in ("today", "7", "30")] == [0, 0, 0]
    assert stat(html, "issues-total") == 2
    assert "Days in Europe/Berlin" in html
    # The default period is the last 30 days, highlighted among the presets.
    assert re.search(
        r'class="button primary" href="[^"]+days=30"\s+aria-current="page">Last 30 days', html
    )
    assert 'value="2024-05-17"' in html and 'value="2024-06-15"' in html


def test_charts_have_a_line_per_channel_and_accessible_numbers(
    viewer_console: Console, berlin: dict[str, int]
) -> None:
    html = page_of(viewer_console, f"/admin/projects/{berlin['project']}/?days=7")
    per_day, statuses = svgs(html)
    assert per_day.count("<polyline ") == 2
    assert re.findall(r"<polyline [^>]*><title>([^<]*)</title>", per_day) == ["app", "web"]
    for svg in (per_day, statuses):
        assert 'role="img"' in svg and "viewBox=" in svg and "<title id=" in svg
    assert statuses.count("<rect ") == 5
    for status in ("INIT", "ON_REVIEW", "IN_PROGRESS", "RESOLVED", "PENDING"):
        assert f">{status}</text>" in statuses
    assert "<title>INIT: 2</title>" in statuses
    # The table behind the chart: 7 days, one column per channel.
    table = html[html.index("<details>") : html.index("</details>")]
    assert table.count('<th scope="row">') == 7
    assert '<th scope="row">2024-06-14</th><td>0</td><td>1</td>' in table
    assert '<th scope="row">2024-06-15</th><td>1</td><td>1</td>' in table
    # No inline style anywhere: the CSP would refuse it.
    assert "style=" not in html


def test_top_issues_link_to_their_page(viewer_console: Console, berlin: dict[str, int]) -> None:
    html = page_of(viewer_console, f"/admin/projects/{berlin['project']}/")
    top = html[html.index('id="top-heading"') :]
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a></td>', top)
    assert len(links) == 1
    href, name = links[0]
    assert name == "Checkout"
    assert re.fullmatch(rf"/admin/projects/{berlin['project']}/issues/\d+", href)
    assert "Empty issue" not in top


def test_channel_names_are_escaped_in_the_chart(viewer_console: Console, app: Flask) -> None:
    project_id = make_project(app, "Escapes", timezone="UTC")
    make_channel(app, project_id, "<script>alert(1)</script>", specs=())
    make_channel(app, project_id, 'quote " & amp', specs=())
    html = page_of(viewer_console, f"/admin/projects/{project_id}/")
    per_day = svgs(html)[0]
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in per_day
    assert ">&lt;script&gt;alert(1)&lt;/script&gt;</text>" in per_day
    assert "quote &#34; &amp; amp" in per_day
    assert "<script>" not in html


def test_another_project_is_out_of_sight(viewer_console: Console, app: Flask, world: World) -> None:
    body = {"message": "x", "issueNames": ["beta only"]}
    make_feedback(app, world.b.project_id, world.b.channel_id, body)
    html = page_of(viewer_console, f"/admin/projects/{world.a.project_id}/")
    assert "beta" not in html
    assert stat(html, "feedback-total") == 2
    assert stat(html, "issues-total") == 2


def test_missing_project_is_404(viewer_console: Console, world: World) -> None:
    page_of(viewer_console, "/admin/projects/999/", 404)


def test_signed_out_visitors_go_to_sign_in(client: FlaskClient, berlin: dict[str, int]) -> None:
    response = client.get(f"/admin/projects/{berlin['project']}/")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=14", "&#39;days&#39; must be one of 7, 30, 90."),
        ("days=%3Cb%3E", "&#39;days&#39; must be one of 7, 30, 90."),
        ("from=2024-02-30", "from: &#39;2024-02-30&#39; is not a day of the calendar."),
        ("to=yesterday", "to: &#39;yesterday&#39; is not a date (use YYYY-MM-DD)."),
        ("from=2024-06-02&to=2024-06-01", "&#39;from&#39; must not be after &#39;to&#39;."),
        ("from=2023-01-01&to=2024-06-01", "A date range can cover at most 366 days."),
        ("days=7&from=2024-06-01", "Choose either a number of days or a date range, not both."),
    ],
)
def test_bad_periods_answer_400_with_a_message(
    viewer_console: Console, berlin: dict[str, int], query: str, message: str
) -> None:
    html = page_of(viewer_console, f"/admin/projects/{berlin['project']}/?{query}", 400)
    assert f'<p class="error" role="alert">{message}</p>' in html
    assert "<svg" not in html
    # The picker stays, with what was typed, for another try.
    assert 'name="from"' in html and 'name="to"' in html


def test_a_typed_value_is_escaped_back(viewer_console: Console, berlin: dict[str, int]) -> None:
    html = page_of(
        viewer_console, f"/admin/projects/{berlin['project']}/?to=%22%3E%3Cscript%3E", 400
    )
    assert 'value="&#34;&gt;&lt;script&gt;"' in html
    assert "<script>" not in html


def test_a_date_range(viewer_console: Console, berlin: dict[str, int]) -> None:
    url = f"/admin/projects/{berlin['project']}/?from=2024-04-01&to=2024-04-03"
    html = page_of(viewer_console, url)
    assert "Feedback per day, 2024-04-01 to 2024-04-03" in html
    table = html[html.index("<details>") : html.index("</details>")]
    assert '<th scope="row">2024-04-01</th><td>0</td><td>1</td>' in table
    assert table.count('<th scope="row">') == 3
    assert 'aria-current="page">Last' not in html
    # The stats do not depend on the period.
    assert stat(html, "feedback-today") == 2


def test_a_project_without_channels(viewer_console: Console, app: Flask) -> None:
    project_id = make_project(app, "Empty")
    html = page_of(viewer_console, f"/admin/projects/{project_id}/")
    assert "This project has no channels yet." in html
    assert stat(html, "feedback-total") == 0
    assert len(svgs(html)) == 1
