"""A project's dashboard: feedback and issue counts by local day in the project's timezone.

A "day" is a calendar day in the project's zone, so its UTC length is 23, 24 or 25 hours (or
another length where a zone moved its clocks by other amounts). Each local date is computed in
SQL as ``date(created_at + offset)`` with the UTC offset in force at that instant: Python finds
the instants where the offset changes inside the window (from the IANA data in ``zoneinfo``)
and the query gets one CASE branch per change. This is exact for every zone, including those
at half- and quarter-hour offsets where folding UTC hours into days would not be, and it
returns at most one row per channel and day (a 366-day window: 366 rows a channel) whatever
the number of feedback. A single fixed offset (``date(created_at, '+60 minutes')``) would put
the night hours of every day on the other side of a DST change into the wrong day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from feedback_service.database import unit_of_work
from feedback_service.errors import InvalidInput, ProjectNotFound
from feedback_service.models import IssueStatus
from feedback_service.repositories import channels as channels_repo
from feedback_service.repositories import dashboard as repo
from feedback_service.repositories import projects as projects_repo
from feedback_service.repositories.dashboard import OffsetSpan
from feedback_service.services.query_parsing import parse_day
from feedback_service.timestamps import utcnow
from feedback_service.timezones import project_zone

PRESET_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 366
# Counts shown as "today", "last 7 days" and "last 30 days" (today included).
STAT_DAYS = (1, 7, 30)
TOP_ISSUES = 10
# Far enough apart for any real range, close enough that no UTC conversion overflows.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2999, 12, 31)
# A zone changes its offset at most a few times a year; probing every hour cannot step over
# a change and back, and a binary search then finds the exact second.
PROBE_STEP = timedelta(hours=1)


@dataclass(frozen=True)
class WindowQuery:
    """The dashboard's query arguments as received (``None`` or ``""`` when absent)."""

    days: str | None = None
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class Window:
    """Local days ``first`` to ``last`` inclusive; ``preset`` is the day count a link chose."""

    first: date
    last: date
    preset: int | None

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class Counts:
    today: int
    last_7_days: int
    last_30_days: int
    total: int


@dataclass(frozen=True)
class ChannelSeries:
    channel_id: int
    name: str
    # One count per day of the window, in order; days without feedback count 0.
    counts: list[int]


@dataclass(frozen=True)
class TopIssue:
    id: int
    name: str
    status: IssueStatus
    feedback_count: int


@dataclass(frozen=True)
class Dashboard:
    timezone: str
    today: date
    window: Window
    feedback: Counts
    issues: Counts
    series: list[ChannelSeries]
    statuses: list[tuple[IssueStatus, int]]
    top_issues: list[TopIssue]


def _local_date(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def _first_second(lo: datetime, hi: datetime, reached: Callable[[datetime], bool]) -> datetime:
    """The first whole second in ``(lo, hi]`` where ``reached`` turns true (false at ``lo``,
    true at ``hi``, both whole seconds, and once true it stays true)."""
    while hi - lo > timedelta(seconds=1):
        middle = (lo + (hi - lo) / 2).replace(microsecond=0)
        if reached(middle):
            hi = middle
        else:
            lo = middle
    return hi


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first UTC instant of a local day."""
    naive = datetime.combine(day, time())
    # Two readings differ only when midnight is repeated (the earlier one starts the day)
    # or skipped by a clock change (the day starts at the change, between them).
    lo, hi = sorted(naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    if _local_date(lo, zone) >= day:
        return lo
    return _first_second(lo, hi, lambda instant: _local_date(instant, zone) >= day)


def _offset(instant: datetime, zone: ZoneInfo) -> int:
    offset = instant.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _offset_differs(zone: ZoneInfo, offset: int, instant: datetime) -> bool:
    return _offset(instant, zone) != offset


def offset_spans(start: datetime, end: datetime, zone: ZoneInfo) -> list[OffsetSpan]:
    """The zone's UTC offsets over ``[start, end)``, each with the instant it gives way."""
    spans: list[OffsetSpan] = []
    current = _offset(start, zone)
    probe = start
    while probe < end:
        following = min(probe + PROBE_STEP, end)
        if _offset(following, zone) != current:
            change = _first_second(probe, following, partial(_offset_differs, zone, current))
            spans.append(OffsetSpan(until=change, offset_seconds=current))
            current = _offset(change, zone)
        probe = following
    spans.append(OffsetSpan(until=None, offset_seconds=current))
    return spans


def resolve_window(query: WindowQuery, today: date) -> Window:
    """The window a query asks for: ``days`` (7, 30 or 90) up to today, or ``from``/``to``.

    A missing ``to`` means today; a missing ``from`` means 30 days up to ``to``.

    :raises InvalidInput: an unknown ``days``, a bad date, both kinds at once, ``from`` after
        ``to``, or more than 366 days.
    """
    if query.start or query.end:
        if query.days:
            raise InvalidInput("Choose either a number of days or a date range, not both.")
        last = parse_day("to", query.end, EARLIEST_DATE, LATEST_DATE) if query.end else today
        first = (
            parse_day("from", query.start, EARLIEST_DATE, LATEST_DATE)
            if query.start
            else max(last - timedelta(days=DEFAULT_DAYS - 1), EARLIEST_DATE)
        )
        if first > last:
            raise InvalidInput("'from' must not be after 'to'.")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise InvalidInput(f"A date range can cover at most {MAX_RANGE_DAYS} days.")
        return Window(first, last, None)
    days = DEFAULT_DAYS
    if query.days:
        if query.days not in {str(n) for n in PRESET_DAYS}:
            choices = ", ".join(str(n) for n in PRESET_DAYS)
            raise InvalidInput(f"'days' must be one of {choices}.")
        days = int(query.days)
    return Window(today - timedelta(days=days - 1), today, days)


def _series(
    rows: Sequence[tuple[int, date, int]],
    channels: Sequence[tuple[int, str]],
    window: Window,
) -> list[ChannelSeries]:
    position = {day: n for n, day in enumerate(window.days)}
    counts = {channel_id: [0] * len(position) for channel_id, _name in channels}
    for channel_id, day, count in rows:
        if day in position and channel_id in counts:
            counts[channel_id][position[day]] += count
    return [ChannelSeries(cid, name, counts[cid]) for cid, name in channels]


def project_dashboard(
    project_id: int, query: WindowQuery, now: datetime | None = None
) -> Dashboard:
    """Everything the dashboard shows, read in one transaction.

    :raises ProjectNotFound: :raises InvalidInput: see ``resolve_window``.
    """
    with unit_of_work(write=False) as session:
        project = projects_repo.get_project(session, project_id)
        if project is None:
            raise ProjectNotFound()
        zone_name = str(project.timezone.get("name", "UTC"))
        zone = project_zone(zone_name)
        today = (now or utcnow()).astimezone(zone).date()
        window = resolve_window(query, today)
        tomorrow = local_midnight(today + timedelta(days=1), zone)
        stat_starts = [local_midnight(today - timedelta(days=n - 1), zone) for n in STAT_DAYS]

        channels = [(c.id, c.name) for c in channels_repo.list_channels(session, project_id)]
        channel_ids = [channel_id for channel_id, _name in channels]
        start = local_midnight(window.first, zone)
        end = local_midnight(window.last + timedelta(days=1), zone)
        rows = repo.feedback_per_local_day(
            session, channel_ids, start, end, offset_spans(start, end, zone)
        )
        feedback_counts = repo.count_feedback_since(session, channel_ids, stat_starts, tomorrow)
        issue_counts, issue_total = repo.count_issues_since(
            session, project_id, stat_starts, tomorrow
        )
        by_status = repo.issues_by_status(session, project_id)
        top = [
            TopIssue(issue.id, issue.name, issue.status, issue.feedback_count)
            for issue in repo.top_issues(session, project_id, TOP_ISSUES)
        ]
        feedback_total = repo.count_feedback(session, project_id)
    return Dashboard(
        timezone=zone_name,
        today=today,
        window=window,
        feedback=Counts(*feedback_counts, total=feedback_total),
        issues=Counts(*issue_counts, total=issue_total),
        series=_series(rows, channels, window),
        statuses=[(status, by_status.get(status, 0)) for status in IssueStatus],
        top_issues=top,
    )
