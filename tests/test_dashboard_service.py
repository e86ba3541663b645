"""The dashboard's counts: local days in the project's zone, exact across clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from feedback_service.database import unit_of_work
from feedback_service.errors import InvalidInput
from feedback_service.models import Feedback, Issue, IssueStatus
from feedback_service.repositories.dashboard import OffsetSpan, local_day
from feedback_service.services.dashboard import (
    Dashboard,
    Window,
    WindowQuery,
    local_midnight,
    offset_spans,
    project_dashboard,
    resolve_window,
)
from tests.factories import make_channel, make_feedback, make_issue, make_project


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_feedback(
    app: Flask, project_id: int, channel_id: int, *created: str, **body: object
) -> None:
    """Feedback created at each UTC time in ``created`` (``YYYY-MM-DDTHH:MM:SS``)."""
    for when in created:
        make_feedback(app, project_id, channel_id, {"createdAt": f"{when}Z", **body})


def board(app: Flask, timezone: str, *channels: str) -> tuple[int, list[int]]:
    project_id = make_project(app, f"In {timezone}", timezone=timezone)
    return project_id, [make_channel(app, project_id, name, specs=()) for name in channels]


def dashboard(app: Flask, project_id: int, now: str, **query: str | None) -> Dashboard:
    with app.app_context():
        return project_dashboard(project_id, WindowQuery(**query), now=utc(now))


def per_day(result: Dashboard, channel: int = 0) -> dict[date, int]:
    return dict(zip(result.window.days, result.series[channel].counts, strict=True))


def test_days_around_spring_forward_in_berlin(app: Flask) -> None:
    project_id, (web,) = board(app, "Europe/Berlin", "web")
    add_feedback(
        app,
        project_id,
        web,
        "2024-03-30T22:30:00",  # 23:30 CET, Saturday
        "2024-03-30T23:30:00",  # 00:30 CET, Sunday: the clocks change at 02:00 that night
        "2024-03-31T01:30:00",  # 03:30 CEST, Sunday
        "2024-03-31T21:30:00",  # 23:30 CEST, Sunday
        "2024-03-31T22:30:00",  # 00:30 CEST, Monday
    )
    result = dashboard(app, project_id, "2024-04-10T12:00:00", start="2024-03-29", end="2024-04-02")
    assert per_day(result) == {
        date(2024, 3, 29): 0,
        date(2024, 3, 30): 1,
        date(2024, 3, 31): 3,
        date(2024, 4, 1): 1,
        date(2024, 4, 2): 0,
    }


def test_days_around_fall_back_in_berlin(app: Flask) -> None:
    project_id, (web,) = board(app, "Europe/Berlin", "web")
    add_feedback(
        app,
        project_id,
        web,
        "2024-10-26T21:30:00",  # 23:30 CEST, Saturday
        "2024-10-26T22:30:00",  # 00:30 CEST, Sunday, a 25-hour day
        "2024-10-27T00:30:00",  # 02:30 CEST, the first time
        "2024-10-27T01:30:00",  # 02:30 CET, the second time
        "2024-10-27T22:30:00",  # 23:30 CET, Sunday
        "2024-10-27T23:30:00",  # 00:30 CET, Monday
    )
    result = dashboard(app, project_id, "2024-11-01T12:00:00", start="2024-10-26", end="2024-10-28")
    assert per_day(result) == {date(2024, 10, 26): 1, date(2024, 10, 27): 4, date(2024, 10, 28): 1}


def test_half_hour_offsets_and_their_clock_change(app: Flask) -> None:
    # Lord Howe Island: +11:00 in summer, +10:30 in winter, changing on 2024-04-07.
    project_id, (web,) = board(app, "Australia/Lord_Howe", "web")
    add_feedback(
        app,
        project_id,
        web,
        "2024-04-06T12:50:00",  # 23:50 +11:00, Saturday
        "2024-04-06T13:20:00",  # 00:20 +11:00, Sunday
        "2024-04-06T15:15:00",  # 01:45 +10:30, Sunday, after the change
        "2024-04-07T13:10:00",  # 23:40 +10:30, Sunday ...
        "2024-04-07T13:40:00",  # 00:10 +10:30, Monday: the same UTC hour, another day
    )
    result = dashboard(app, project_id, "2024-05-01T00:00:00", start="2024-04-06", end="2024-04-08")
    assert per_day(result) == {date(2024, 4, 6): 1, date(2024, 4, 7): 3, date(2024, 4, 8): 1}


def test_stat_windows_start_at_local_midnight(app: Flask) -> None:
    project_id, (web, app_channel) = board(app, "Europe/Berlin", "web", "app")
    add_feedback(
        app,
        project_id,
        web,
        "2024-06-14T22:00:01",  # 2024-06-15 00:00:01 local: today
        "2024-06-14T21:59:59",  # yesterday 23:59:59
        "2024-06-08T22:00:00",  # 06-09 00:00:00, the first of the last 7 days
        "2024-06-08T21:59:59",  # 06-08 23:59:59
        "2024-05-16T22:00:00",  # 05-17 00:00:00, the first of the last 30 days
        "2024-05-16T21:59:59",  # 05-16 23:59:59
        "2024-06-15T22:00:00",  # tomorrow 00:00:00 (backdated feedback can be in the future)
    )
    add_feedback(app, project_id, app_channel, "2024-06-15T09:59:00")
    result = dashboard(app, project_id, "2024-06-15T10:00:00")
    assert (result.today, result.timezone) == (date(2024, 6, 15), "Europe/Berlin")
    feedback = result.feedback
    assert (feedback.today, feedback.last_7_days, feedback.last_30_days) == (2, 4, 6)
    assert feedback.total == 8
    # The default window: the last 30 local days, ending today.
    assert result.window == Window(date(2024, 5, 17), date(2024, 6, 15), 30)
    assert sum(result.series[0].counts) + sum(result.series[1].counts) == 6
    assert per_day(result, 1)[date(2024, 6, 15)] == 1


def test_series_are_per_channel_with_zero_days(app: Flask) -> None:
    project_id, (web, quiet) = board(app, "Asia/Seoul", "web", "quiet")
    other_project, (elsewhere,) = board(app, "UTC", "web")
    add_feedback(app, project_id, web, "2024-01-01T15:00:00", "2024-01-01T14:59:59")
    add_feedback(app, other_project, elsewhere, "2024-01-01T15:00:00")
    result = dashboard(app, project_id, "2024-01-05T00:00:00", days="7")
    assert result.window == Window(date(2023, 12, 30), date(2024, 1, 5), 7)
    assert [(s.channel_id, s.name) for s in result.series] == [(quiet, "quiet"), (web, "web")]
    assert result.series[0].counts == [0] * 7
    # 15:00 UTC is midnight in Seoul.
    assert result.series[1].counts == [0, 0, 1, 1, 0, 0, 0]
    assert result.feedback.total == 2


def backdate_issue(app: Flask, issue_id: int, when: datetime) -> None:
    with app.app_context(), unit_of_work(write=True) as session:
        session.execute(update(Issue).where(Issue.id == issue_id).values(created_at=when))


def test_issue_counts_statuses_and_top_issues(app: Flask) -> None:
    project_id, (web,) = board(app, "Europe/Berlin", "web")
    other_project, (elsewhere,) = board(app, "UTC", "web")
    statuses = [IssueStatus.INIT, IssueStatus.RESOLVED, IssueStatus.RESOLVED, IssueStatus.PENDING]
    ids = [
        make_issue(app, project_id, f"issue {n}", status=status)
        for n, status in enumerate(statuses)
    ]
    backdate_issue(app, ids[0], utc("2024-06-14T22:00:00"))  # today 00:00 local
    backdate_issue(app, ids[1], utc("2024-06-14T21:59:59"))  # yesterday
    backdate_issue(app, ids[2], utc("2024-05-20T10:00:00"))
    backdate_issue(app, ids[3], utc("2024-01-01T10:00:00"))
    for n in range(12):
        make_issue(app, other_project, f"foreign {n}")
    add_feedback(app, project_id, web, "2024-06-01T00:00:00", issueNames=["issue 1"])
    add_feedback(app, project_id, web, "2024-06-01T00:00:00", issueNames=["issue 1", "issue 3"])
    add_feedback(app, other_project, elsewhere, "2024-06-01T00:00:00", issueNames=["foreign 1"])

    result = dashboard(app, project_id, "2024-06-15T10:00:00")
    issues = result.issues
    assert (issues.today, issues.last_7_days, issues.last_30_days, issues.total) == (1, 2, 3, 4)
    assert result.statuses == [
        (IssueStatus.INIT, 1),
        (IssueStatus.ON_REVIEW, 0),
        (IssueStatus.IN_PROGRESS, 0),
        (IssueStatus.RESOLVED, 2),
        (IssueStatus.PENDING, 1),
    ]
    # Only issues with feedback, most first; another project's issues never appear.
    assert [(i.id, i.name, i.feedback_count) for i in result.top_issues] == [
        (ids[1], "issue 1", 2),
        (ids[3], "issue 3", 1),
    ]


def test_top_issues_are_ten(app: Flask) -> None:
    project_id, (web,) = board(app, "UTC", "web")
    names = [f"issue {n:02d}" for n in range(12)]
    add_feedback(app, project_id, web, "2024-06-01T00:00:00", issueNames=names)
    add_feedback(app, project_id, web, "2024-06-01T00:00:00", issueNames=names[5:7])
    result = dashboard(app, project_id, "2024-06-15T10:00:00")
    assert [i.name for i in result.top_issues] == [
        "issue 05",
        "issue 06",
        *names[:5],
        *names[7:10],
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"days": "14"}, "'days' must be one of 7, 30, 90."),
        ({"days": "7d"}, "'days' must be one of 7, 30, 90."),
        ({"days": " 30"}, "'days' must be one of 7, 30, 90."),
        ({"start": "2024-1-01"}, "from: '2024-1-01' is not a date (use YYYY-MM-DD)."),
        ({"start": "20240101"}, "from: '20240101' is not a date (use YYYY-MM-DD)."),
        ({"end": "2024-W01-1"}, "to: '2024-W01-1' is not a date (use YYYY-MM-DD)."),
        # Full-width digits, which int() and a Unicode \d would take.
        (
            {"end": "\uff12\uff10\uff12\uff14-01-01"},
            "to: '\uff12\uff10\uff12\uff14-01-01' is not a date (use YYYY-MM-DD).",
        ),
        ({"start": "2024-02-30"}, "from: '2024-02-30' is not a day of the calendar."),
        ({"start": "0001-01-01"}, "from: choose a day between 1970-01-01 and 2999-12-31."),
        ({"end": "9999-12-31"}, "to: choose a day between 1970-01-01 and 2999-12-31."),
        ({"start": "2024-03-02", "end": "2024-03-01"}, "'from' must not be after 'to'."),
        ({"start": "2023-01-01", "end": "2024-01-02"}, "A date range can cover at most 366 days."),
        (
            {"days": "7", "start": "2024-01-01"},
            "Choose either a number of days or a date range, not both.",
        ),
    ],
)
def test_bad_windows(query: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        resolve_window(WindowQuery(**query), date(2024, 6, 15))
    assert raised.value.message == message


@pytest.mark.parametrize(
    ("query", "window"),
    [
        ({}, Window(date(2024, 5, 17), date(2024, 6, 15), 30)),
        ({"days": ""}, Window(date(2024, 5, 17), date(2024, 6, 15), 30)),
        ({"days": "90"}, Window(date(2024, 3, 18), date(2024, 6, 15), 90)),
        ({"start": "2024-06-01"}, Window(date(2024, 6, 1), date(2024, 6, 15), None)),
        ({"end": "2024-01-30"}, Window(date(2024, 1, 1), date(2024, 1, 30), None)),
        (
            {"start": "2024-06-15", "end": "2024-06-15"},
            Window(date(2024, 6, 15), date(2024, 6, 15), None),
        ),
        (
            {"start": "2023-01-01", "end": "2024-01-01"},
            Window(date(2023, 1, 1), date(2024, 1, 1), None),
        ),
        (
            {"days": "", "start": "", "end": "2024-01-30"},
            Window(date(2024, 1, 1), date(2024, 1, 30), None),
        ),
    ],
)
def test_windows(query: dict[str, str], window: Window) -> None:
    assert resolve_window(WindowQuery(**query), date(2024, 6, 15)) == window


def test_long_window_over_two_clock_changes(app: Flask) -> None:
    project_id, (web,) = board(app, "Europe/Berlin", "web")
    add_feedback(app, project_id, web, "2023-03-25T23:30:00", "2023-10-28T22:30:00")
    result = dashboard(app, project_id, "2024-06-01T00:00:00", start="2023-01-01", end="2024-01-01")
    assert len(result.window.days) == 366
    days = per_day(result)
    assert days[date(2023, 3, 26)] == 1  # 00:30 CET
    assert days[date(2023, 10, 29)] == 1  # 00:30 CEST
    assert sum(days.values()) == 2


def test_day_starts() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert local_midnight(date(2024, 3, 31), berlin) == utc("2024-03-30T23:00:00")
    assert local_midnight(date(2024, 4, 1), berlin) == utc("2024-03-31T22:00:00")
    # Santiago skips from 00:00 to 01:00: the day starts at the change.
    assert local_midnight(date(2024, 9, 8), ZoneInfo("America/Santiago")) == utc(
        "2024-09-08T04:00:00"
    )
    # Havana goes back from 01:00 to 00:00: the day starts at the first midnight.
    assert local_midnight(date(2024, 11, 3), ZoneInfo("America/Havana")) == utc(
        "2024-11-03T04:00:00"
    )


def test_offset_spans_find_the_exact_second() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    spans = offset_spans(utc("2024-03-01T00:00:00"), utc("2024-11-01T00:00:00"), berlin)
    assert spans == [
        OffsetSpan(utc("2024-03-31T01:00:00"), 3600),
        OffsetSpan(utc("2024-10-27T01:00:00"), 7200),
        OffsetSpan(None, 3600),
    ]
    assert offset_spans(utc("2024-06-01T00:00:00"), utc("2024-07-01T00:00:00"), berlin) == [
        OffsetSpan(None, 7200)
    ]


def test_local_day_sql_per_dialect() -> None:
    spans = [OffsetSpan(utc("2024-03-31T01:00:00"), 3600), OffsetSpan(None, 7200)]
    stmt = select(local_day("sqlite", Feedback.created_at, spans))
    text = str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    assert "CASE WHEN (feedback.created_at < '2024-03-31 01:00:00.000000')" in text
    assert "THEN date(feedback.created_at, '+3600 seconds')" in text
    assert "ELSE date(feedback.created_at, '+7200 seconds') END" in text
    stmt = select(local_day("postgresql", Feedback.created_at, spans))
    text = str(stmt.compile(dialect=postgresql.dialect()))
    assert text.count("CAST(feedback.created_at + ") == 2
    assert "AS DATE)" in text
