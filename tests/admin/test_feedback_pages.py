"""The console's feedback pages: each channel's table with its filters, and one feedback's page
with edits, issue links, board status, team replies and deletion."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from feedback_service.services import boards, channels, feedback, public_keys
from tests.admin.console import Console, post_refused
from tests.factories import World, make_channel, make_feedback, make_issue, make_project
from tests.helpers import Sql, database_rows

SEOUL = ZoneInfo("Asia/Seoul")
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ID_CELL = re.compile(r'<td><a href="[^"]*/feedback/(\d+)">(\d+)</a></td>')
# Project "alpha" of the world; its channel has the standard fields (tests/factories.py).
CATALOG: dict[str, dict[str, Any]] = {
    "apple": {
        "message": "Ich mag ÄPFEL",
        "label": "red",
        "score": 3,
        "kind": "bug",
        "tags": ["ui", "api"],
        "seen_at": "2024-03-01T10:00:00Z",
        "shots": ["https://cdn.example.com/apple.png"],
        "issueNames": ["alpha issue 1"],
        "createdAt": "2024-01-10T03:00:00Z",
    },
    "pear": {
        "message": "pears are fine",
        "label": "green",
        "score": 3.5,
        "kind": "idea",
        "tags": ["ui"],
        "seen_at": "2024-03-02T10:00:00Z",
        "issueNames": ["alpha issue 2"],
        "createdAt": "2024-01-20T03:00:00Z",
    },
    "plum": {
        "message": "plum words",
        "label": "red",
        "score": 10,
        "tags": ["api", "docs"],
        "issueNames": ["alpha issue 1", "alpha issue 2"],
        "createdAt": "2024-02-05T03:00:00Z",
    },
}


@pytest.fixture
def catalog(app: Flask, world: World) -> dict[str, int]:
    """CATALOG's feedback in alpha's channel, by name; the world's two plain ones stay too."""
    a = world.a
    return {
        name: make_feedback(app, a.project_id, a.channel_id, body) for name, body in CATALOG.items()
    }


def list_url(world: World, query: str = "") -> str:
    a = world.a
    return f"/admin/projects/{a.project_id}/channels/{a.channel_id}/feedback{query}"


def detail_url(world: World, feedback_id: int, suffix: str = "") -> str:
    return f"{list_url(world)}/{feedback_id}{suffix}"


def shown_ids(html: str) -> list[int]:
    """The ids in the table's rows, top to bottom."""
    return [int(found) for found, label in ID_CELL.findall(html) if found == label]


def page(console: Console, url: str, status: int = 200) -> str:
    response = console.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def data_of(sql: Sql, feedback_id: int) -> dict[str, Any]:
    [(data,)] = sql("SELECT data FROM feedback WHERE id = ?", (feedback_id,))
    return json.loads(data)


def links_of(sql: Sql, feedback_id: int) -> list[int]:
    rows = sql("SELECT issue_id FROM feedback_issue WHERE feedback_id = ?", (feedback_id,))
    return sorted(issue_id for (issue_id,) in rows)


def feedback_count(sql: Sql, issue_id: int) -> int:
    [(count,)] = sql("SELECT feedback_count FROM issue WHERE id = ?", (issue_id,))
    return int(count)


# --- the index and the table -----------------------------------------------------------------


def test_the_feedback_tab_opens_the_first_channel(viewer_console: Console, world: World) -> None:
    response = viewer_console.get(f"/admin/projects/{world.a.project_id}/feedback")
    assert response.status_code == 302
    assert response.headers["Location"] == list_url(world)


def test_a_project_without_channels_says_so(
    app: Flask, admin_console: Console, viewer_console: Console
) -> None:
    project_id = make_project(app, "Empty")
    url = f"/admin/projects/{project_id}/feedback"
    admin_page = page(admin_console, url)
    assert "No channels yet" in admin_page
    assert f'href="/admin/projects/{project_id}/channels"' in admin_page
    viewer_page = page(viewer_console, url)
    assert "No channels yet" in viewer_page
    assert f'href="/admin/projects/{project_id}/channels"' not in viewer_page


def test_the_table_shows_the_active_fields_and_formatted_values(
    viewer_console: Console, world: World, catalog: dict[str, int]
) -> None:
    html = page(viewer_console, list_url(world))
    head = html[html.index("<thead>") : html.index("</thead>")]
    headers = [
        re.sub(r"<[^>]+>|[↑↓]", "", cell).strip()
        for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
    ]
    assert headers == [
        "ID", "Created", "Updated", "Issue",
        "message", "label", "score", "kind", "tags", "seen_at", "shots", "source",
    ]  # fmt: skip
    assert shown_ids(html) == sorted([*catalog.values(), *world.a.feedback_ids], reverse=True)
    apple_row = html[html.index(f'/feedback/{catalog["apple"]}">') :].split("</tr>")[0]
    # Dates in the project's timezone (Asia/Seoul, +9), option lists joined, images counted.
    assert "2024-01-10 12:00:00" in apple_row
    assert "2024-03-01 19:00:00" in apple_row
    assert "ui, api" in apple_row
    assert "alpha issue 1" in apple_row
    assert "1 image</a>" in apple_row
    # Another project's feedback never shows.
    assert "beta feedback" not in html


def test_the_channel_switcher_links_every_channel(
    app: Flask, viewer_console: Console, world: World
) -> None:
    other = make_channel(app, world.a.project_id, "mobile", specs=())
    html = page(viewer_console, list_url(world))
    assert f'href="/admin/projects/{world.a.project_id}/channels/{other}/feedback"' in html
    assert 'aria-current="page">web' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?q=%C3%A4pfel", ["apple"]),  # searchText: text substring, any case
        ("?q=red", ["apple", "plum"]),  # searchText: a keyword's whole value
        ("?q=idea", ["pear"]),  # searchText: a select option
        ("?f.message=WORDS", ["plum"]),
        ("?f.label=red", ["apple", "plum"]),
        ("?f.score=3.5", ["pear"]),
        ("?f.score=3", ["apple"]),
        ("?f.kind=bug", ["apple"]),
        ("?f.tags=ui", ["apple", "pear"]),
        ("?f.tags=ui&f.tags=api", ["apple"]),
        ("?f.seen_at=2024-03-02", ["pear"]),  # the day in Seoul
        ("?f.shots=apple", ["apple"]),
        ("?f.label=red&f.tags=docs", ["plum"]),
        ("?q=plum&f.label=green", []),
    ],
)
def test_each_filter_narrows_the_rows(
    viewer_console: Console,
    world: World,
    catalog: dict[str, int],
    query: str,
    expected: list[str],
) -> None:
    html = page(viewer_console, list_url(world, query))
    assert shown_ids(html) == sorted((catalog[name] for name in expected), reverse=True)


def test_the_issue_filter(viewer_console: Console, world: World, catalog: dict[str, int]) -> None:
    first, second = world.a.issue_ids
    html = page(viewer_console, list_url(world, f"?issue={first}"))
    assert shown_ids(html) == [catalog["plum"], catalog["apple"]]
    html = page(viewer_console, list_url(world, f"?issue={second}&f.label=red"))
    assert shown_ids(html) == [catalog["plum"]]
    assert f'<option value="{second}" selected>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?from=2024-01-10&to=2024-01-20", ["apple", "pear"]),
        ("?from=2024-01-11&to=2024-02-05", ["pear", "plum"]),
        ("?from=2024-02-05&to=2024-02-05", ["plum"]),
        ("?to=2024-01-19", ["apple"]),  # from: the channel's window back from "to"
    ],
)
def test_the_date_range_on_created_days_in_the_project_timezone(
    viewer_console: Console,
    world: World,
    catalog: dict[str, int],
    query: str,
    expected: list[str],
) -> None:
    html = page(viewer_console, list_url(world, query))
    assert shown_ids(html) == sorted((catalog[name] for name in expected), reverse=True)


def test_a_range_without_an_end_runs_to_today(
    viewer_console: Console, world: World, catalog: dict[str, int]
) -> None:
    yesterday = datetime.now(SEOUL).date() - timedelta(days=1)
    html = page(viewer_console, list_url(world, f"?from={yesterday}"))
    assert shown_ids(html) == sorted(world.a.feedback_ids, reverse=True)


def test_a_day_starts_at_midnight_in_the_project_timezone(
    app: Flask, viewer_console: Console, world: World
) -> None:
    a = world.a
    # 23:30 UTC on the 9th is 08:30 on the 10th in Seoul.
    late = make_feedback(app, a.project_id, a.channel_id, {"createdAt": "2024-01-09T23:30:00Z"})
    html = page(viewer_console, list_url(world, "?from=2024-01-10&to=2024-01-10"))
    assert shown_ids(html) == [late]
    assert shown_ids(page(viewer_console, list_url(world, "?from=2024-01-09&to=2024-01-09"))) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?f.score=abc", "score: &#39;abc&#39; is not a number."),
        ("?f.kind=feature", "kind: there is no option &#39;feature&#39;."),
        ("?f.tags=ui&f.tags=nope", "tags: there is no option &#39;nope&#39;."),
        ("?f.seen_at=yesterday", "seen_at: &#39;yesterday&#39; is not a date (use YYYY-MM-DD)."),
        ("?from=2024-02-01&to=2024-01-01", "The start date (From) is after the end date (To)."),
        ("?from=2024-13-01", "From: &#39;2024-13-01&#39; is not a day of the calendar."),
        ("?from=0001-01-01&to=0001-01-02", "From: choose a day between 1900-01-01 and 9998-12-31."),
        ("?to=9999-12-31", "To: choose a day between"),
        ("?f.seen_at=0001-01-01", "seen_at: choose a day between"),
        ("?from=2023-01-01&to=2024-06-30", "this channel searches at most 365 days at a time"),
        ("?f.nothing=1", "There is no field &#39;nothing&#39; to filter on"),
        ("?issue=abc", "Issue: there is no issue &#39;abc&#39; in this project."),
        (
            "?issue=99999999999999999999999",
            "Issue: there is no issue &#39;99999999999999999999999&#39; in this project.",
        ),
        ("?sort=data", "Sort: &#39;data&#39; is not a column the table sorts by."),
    ],
)
def test_bad_filter_input_explains_with_400_and_still_renders(
    viewer_console: Console, world: World, catalog: dict[str, int], query: str, message: str
) -> None:
    html = page(viewer_console, list_url(world, query), status=400)
    assert message in html
    assert 'role="alert"' in html
    assert "data-search" in html  # the filter form is there to fix the input
    assert shown_ids(html) == []


def test_another_projects_issue_is_not_a_filter(
    viewer_console: Console, world: World, catalog: dict[str, int]
) -> None:
    foreign = world.b.issue_ids[0]
    html = page(viewer_console, list_url(world, f"?issue={foreign}"), status=400)
    assert f"there is no issue &#39;{foreign}&#39; in this project" in html


def test_an_unlimited_channel_accepts_any_range(
    app: Flask, viewer_console: Console, world: World, catalog: dict[str, int]
) -> None:
    with app.app_context():
        channel = channels.get_channel(world.a.project_id, world.a.channel_id)
        channels.update_channel(world.a.project_id, world.a.channel_id, channel.name, None, -1)
    html = page(viewer_console, list_url(world, "?from=2000-01-01&to=2024-01-31"))
    assert shown_ids(html) == [catalog["pear"], catalog["apple"]]


def test_sorting_by_the_column_links(
    app: Flask, viewer_console: Console, world: World, catalog: dict[str, int]
) -> None:
    oldest_first = [catalog["apple"], catalog["pear"], catalog["plum"], *world.a.feedback_ids]
    html = page(viewer_console, list_url(world, "?sort=createdAt"))
    assert shown_ids(html) == oldest_first
    assert 'aria-sort="ascending"' in html
    assert "sort=-createdAt" in html  # the header link turns the order around
    assert (
        shown_ids(page(viewer_console, list_url(world, "?sort=-createdAt"))) == oldest_first[::-1]
    )
    everyone = sorted([*catalog.values(), *world.a.feedback_ids])
    assert shown_ids(page(viewer_console, list_url(world, "?sort=id"))) == everyone
    # Filters and sort go together, and the export links carry both.
    html = page(viewer_console, list_url(world, "?f.label=red&sort=id"))
    assert shown_ids(html) == [catalog["apple"], catalog["plum"]]
    assert "export.csv?f.label=red&amp;sort=id" in html
    assert "export.xlsx?f.label=red&amp;sort=id" in html


def test_pages_of_fifty(app: Flask, viewer_console: Console, world: World) -> None:
    a = world.a
    channel = make_channel(app, a.project_id, "bulk", specs=())
    ids = [make_feedback(app, a.project_id, channel, {}) for _ in range(55)]
    url = f"/admin/projects/{a.project_id}/channels/{channel}/feedback"
    first = page(viewer_console, url)
    assert shown_ids(first) == ids[::-1][:50]
    assert "55 in all · page 1 of 2" in first
    assert 'rel="next" href="/admin/projects' in first
    second = page(viewer_console, url + "?page=2")
    assert shown_ids(second) == ids[::-1][50:]
    assert "page 2 of 2" in second
    assert shown_ids(page(viewer_console, url + "?page=3")) == []
    # Nonsense page numbers fall back to the first page.
    assert shown_ids(page(viewer_console, url + "?page=x")) == ids[::-1][:50]
    assert shown_ids(page(viewer_console, url + "?page=99999999999999999999")) == []


def test_user_data_is_escaped_in_table_and_detail(
    app: Flask, viewer_console: Console, world: World
) -> None:
    a = world.a
    body = {"message": SCRIPT, "label": SCRIPT, "shots": ['https://x.example/a.png?"><b>x']}
    hostile = make_feedback(app, a.project_id, a.channel_id, body)
    for html in (
        page(viewer_console, list_url(world)),
        page(viewer_console, detail_url(world, hostile)),
    ):
        assert ESCAPED_SCRIPT in html
        assert SCRIPT not in html
    detail = page(viewer_console, detail_url(world, hostile))
    assert '<img src="https://x.example/a.png?&#34;&gt;&lt;b&gt;x"' in detail
    assert "<b>x" not in detail


# --- the detail page -------------------------------------------------------------------------


def test_the_detail_shows_values_images_and_issues(
    app: Flask, viewer_console: Console, world: World, catalog: dict[str, int]
) -> None:
    a = world.a
    shots = ["https://cdn.example.com/one.png", "javascript:alert(1)"]
    item = make_feedback(
        app, a.project_id, a.channel_id, {"shots": shots, "issueNames": ["alpha issue 2"]}
    )
    html = page(viewer_console, detail_url(world, item))
    assert '<img src="https://cdn.example.com/one.png" alt="shots image 1"' in html
    assert 'href="https://cdn.example.com/one.png"' in html
    # Only web addresses become links or images.
    assert 'href="javascript:' not in html
    assert 'src="javascript:' not in html
    assert '<span class="mono">javascript:alert(1)</span>' in html
    assert "alpha issue 2" in html
    apple = page(viewer_console, detail_url(world, catalog["apple"]))
    assert "2024-03-01 19:00:00" in apple
    assert "ui, api" in apple


def test_viewers_see_the_detail_without_forms(
    viewer_console: Console, world: World, catalog: dict[str, int]
) -> None:
    html = page(viewer_console, detail_url(world, catalog["apple"]))
    assert "Ich mag ÄPFEL" in html
    assert 'method="post" action="/admin/projects' not in html
    assert "Unlink" not in html
    assert "Delete" not in html


def test_an_edit_changes_the_fields_in_the_database(
    editor_console: Console, world: World, sql: Sql, catalog: dict[str, int]
) -> None:
    apple = catalog["apple"]
    edit = ["message", "label", "score", "kind", "tags", "seen_at", "shots"]
    response = editor_console.post(
        detail_url(world, apple),
        {
            "edit": edit,
            "v.message": "now\r\nsweeter",
            "v.label": "yellow",
            "v.score": "7.25",
            "v.kind": "idea",
            "v.tags": ["docs", "ui"],
            "v.seen_at": "2024-05-01T09:30:00",  # Seoul time
            "v.shots": "https://cdn.example.com/a.png\n\nhttps://cdn.example.com/b.png\n",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == detail_url(world, apple)
    data = data_of(sql, apple)
    assert data["message"] == "now\nsweeter"
    assert data["label"] == "yellow"
    assert data["score"] == 7.25
    assert data["kind"] == "idea"
    assert data["tags"] == ["docs", "ui"]
    assert data["seen_at"] == "2024-05-01T00:30:00.000Z"
    assert data["shots"] == ["https://cdn.example.com/a.png", "https://cdn.example.com/b.png"]
    assert "Feedback saved." in page(editor_console, detail_url(world, apple))
    # The search index follows the edit: the table filters on the new values.
    assert shown_ids(page(editor_console, list_url(world, "?f.label=yellow"))) == [apple]


def test_saving_an_unchanged_form_changes_nothing(
    editor_console: Console, world: World, sql: Sql, catalog: dict[str, int]
) -> None:
    apple = catalog["apple"]
    response = post_refused(
        editor_console,
        sql,
        detail_url(world, apple),
        {
            "edit": ["message", "label", "score", "kind", "tags", "seen_at", "shots"],
            "v.message": "Ich mag ÄPFEL",
            "v.label": "red",
            "v.score": "3",
            "v.kind": "bug",
            "v.tags": ["ui", "api"],
            "v.seen_at": "2024-03-01T19:00:00",
            "v.shots": "https://cdn.example.com/apple.png",
        },
    )
    assert response.status_code == 302
    assert "Nothing changed." in page(editor_console, detail_url(world, apple))


def test_selects_can_be_cleared(
    editor_console: Console, world: World, sql: Sql, catalog: dict[str, int]
) -> None:
    apple = catalog["apple"]
    response = editor_console.post(
        detail_url(world, apple),
        {"edit": ["kind", "tags", "seen_at"], "v.kind": "", "v.seen_at": ""},
    )
    assert response.status_code == 302
    data = data_of(sql, apple)
    assert (data["kind"], data["tags"], data["seen_at"]) == (None, [], None)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"edit": "score", "v.score": "many"}, "score: &#39;many&#39; is not a number."),
        ({"edit": "kind", "v.kind": "feature"}, "kind: there is no option &#39;feature&#39;."),
        ({"edit": "tags", "v.tags": ["ui", "x"]}, "tags: there is no option &#39;x&#39;."),
        ({"edit": "seen_at", "v.seen_at": "soon"}, "seen_at: &#39;soon&#39; is not a date"),
        ({"edit": "seen_at", "v.seen_at": "0001-01-01T00:00"}, "is not a date and time"),
        ({"edit": "source", "v.source": "forged"}, "The field &#39;source&#39; cannot be edited."),
        ({"edit": "id", "v.id": "1"}, "The field &#39;id&#39; cannot be edited."),
    ],
)
def test_a_refused_edit_explains_with_400_and_changes_nothing(
    editor_console: Console,
    world: World,
    sql: Sql,
    catalog: dict[str, int],
    form: dict[str, Any],
    message: str,
) -> None:
    response = post_refused(editor_console, sql, detail_url(world, catalog["apple"]), form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_refused_edit_keeps_what_was_typed(
    editor_console: Console, world: World, catalog: dict[str, int]
) -> None:
    response = editor_console.post(
        detail_url(world, catalog["apple"]),
        {"edit": ["label", "score"], "v.label": "typed label", "v.score": "many"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'value="typed label"' in html
    assert 'value="many"' in html


def test_link_and_unlink_an_existing_issue(
    editor_console: Console, world: World, sql: Sql, catalog: dict[str, int]
) -> None:
    first, second = world.a.issue_ids
    pear = catalog["pear"]
    assert (links_of(sql, pear), feedback_count(sql, first)) == ([second], 2)
    response = editor_console.post(detail_url(world, pear, "/issues"), {"issue_id": first})
    assert response.status_code == 302
    assert response.headers["Location"] == detail_url(world, pear)
    assert (links_of(sql, pear), feedback_count(sql, first)) == ([first, second], 3)
    # Linking again changes nothing.
    editor_console.post(detail_url(world, pear, "/issues"), {"issue_id": first})
    assert feedback_count(sql, first) == 3
    response = editor_console.post(detail_url(world, pear, f"/issues/{first}/unlink"))
    assert response.status_code == 302
    assert (links_of(sql, pear), feedback_count(sql, first)) == ([second], 2)
    assert "Issue unlinked." in page(editor_console, detail_url(world, pear))


def test_create_an_issue_and_link_it(
    editor_console: Console, world: World, sql: Sql, catalog: dict[str, int]
) -> None:
    pear = catalog["pear"]
    response = editor_console.post(
        detail_url(world, pear, "/issues"), {"new_issue": "  Checkout is slow  "}
    )
    assert response.status_code == 302
    [(issue_id, status, count)] = sql(
        "SELECT id, status, feedback_count FROM issue WHERE project_id = ? AND name = ?",
        (world.a.project_id, "Checkout is slow"),
    )
    assert (status, count) == ("INIT", 1)
    assert issue_id in links_of(sql, pear)
    html = page(editor_console, detail_url(world, pear))
    assert "Issue Checkout is slow created and linked." in html


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"new_issue": "alpha issue 1"}, "issue name is duplicated"),
        ({"new_issue": "x" * 256}, "issue name must be 1 to 255 characters"),
        ({"issue_id": ""}, "Choose an issue, or name a new one."),
        ({"issue_id": "first"}, "Choose an issue, or name a new one."),
    ],
)
def test_a_refused_link_explains_and_changes_nothing(
    editor_console: Console,
    world: World,
    sql: Sql,
    catalog: dict[str, int],
    form: dict[str, str],
    message: str,
) -> None:
    response = post_refused(
        editor_console, sql, detail_url(world, catalog["pear"], "/issues"), form
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_delete_removes_the_feedback(
    editor_console: Console, world: World, sql: Sql, catalog: dict[str, int]
) -> None:
    plum = catalog["plum"]
    first, second = world.a.issue_ids
    counts = (feedback_count(sql, first), feedback_count(sql, second))
    response = editor_console.post(detail_url(world, plum, "/delete"))
    assert response.status_code == 302
    assert response.headers["Location"] == list_url(world)
    assert sql("SELECT id FROM feedback WHERE id = ?", (plum,)) == []
    assert (feedback_count(sql, first), feedback_count(sql, second)) == (
        counts[0] - 1,
        counts[1] - 1,
    )
    assert sql("SELECT feedback_count FROM channel WHERE id = ?", (world.a.channel_id,)) == [(4,)]
    assert editor_console.get(detail_url(world, plum)).status_code == 404


# --- boards ----------------------------------------------------------------------------------


@pytest.fixture
def board(app: Flask, world: World) -> tuple[int, int]:
    """A board in alpha and one idea on it: (channel id, feedback id)."""
    with app.app_context():
        channel = boards.create_board(world.a.project_id, "Ideas").id
        body = {"title": "Dark mode", "description": "please", "type": "idea"}
        item = feedback.create_feedback(world.a.project_id, channel, body).id
    return channel, item


def board_url(world: World, board: tuple[int, int], suffix: str = "") -> str:
    channel, item = board
    return f"/admin/projects/{world.a.project_id}/channels/{channel}/feedback/{item}{suffix}"


def test_a_board_status_change(
    editor_console: Console, world: World, sql: Sql, board: tuple[int, int]
) -> None:
    html = page(editor_console, board_url(world, board))
    assert '<option value="new" selected>' in html
    response = editor_console.post(
        board_url(world, board), {"edit": "status", "v.status": "planned"}
    )
    assert response.status_code == 302
    assert data_of(sql, board[1])["status"] == "planned"
    assert '<option value="planned" selected>' in page(editor_console, board_url(world, board))
    # A board's statuses are fixed: no new ones from the console.
    response = post_refused(
        editor_console, sql, board_url(world, board), {"edit": "status", "v.status": "someday"}
    )
    assert response.status_code == 400


def test_a_team_reply(
    app: Flask, editor_console: Console, world: World, sql: Sql, board: tuple[int, int]
) -> None:
    response = editor_console.post(
        board_url(world, board, "/comments"), {"content": f"Thanks {SCRIPT}"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == board_url(world, board)
    rows = sql(
        "SELECT is_team, author_name, content, end_user_id FROM comment WHERE feedback_id = ?",
        (board[1],),
    )
    assert rows == [(1, "editor@example.com", f"Thanks {SCRIPT}", None)]
    assert sql("SELECT comment_count FROM feedback WHERE id = ?", (board[1],)) == [(1,)]
    html = page(editor_console, board_url(world, board))
    assert f"Thanks {ESCAPED_SCRIPT}" in html
    assert '<span class="tag">team</span>' in html
    assert "<strong>0</strong> votes" in html
    assert "<strong>1</strong> comment" in html


def test_an_empty_reply_is_refused(
    editor_console: Console, world: World, sql: Sql, board: tuple[int, int]
) -> None:
    before = database_rows(sql)
    response = editor_console.post(board_url(world, board, "/comments"), {"content": "  \r\n "})
    assert response.status_code == 400
    assert "Write a reply first." in response.get_data(as_text=True)
    response = editor_console.post(board_url(world, board, "/comments"), {"content": "x" * 5001})
    assert response.status_code == 400
    assert database_rows(sql) == before


def test_replies_only_on_boards(
    editor_console: Console, world: World, sql: Sql, catalog: dict[str, int]
) -> None:
    response = post_refused(
        editor_console, sql, detail_url(world, catalog["apple"], "/comments"), {"content": "hi"}
    )
    assert response.status_code == 404


# --- roles, CSRF and foreign ids -------------------------------------------------------------


def every_post(world: World, item: int) -> list[tuple[str, dict[str, Any]]]:
    first = world.a.issue_ids[0]
    return [
        (detail_url(world, item), {"edit": "label", "v.label": "changed"}),
        (detail_url(world, item, "/delete"), {}),
        (detail_url(world, item, "/issues"), {"issue_id": world.a.issue_ids[1]}),
        (detail_url(world, item, "/issues"), {"new_issue": "brand new"}),
        (detail_url(world, item, f"/issues/{first}/unlink"), {}),
        (detail_url(world, item, "/comments"), {"content": "hello"}),
    ]


def test_viewers_cannot_change_anything(
    viewer_console: Console, world: World, sql: Sql, catalog: dict[str, int]
) -> None:
    before = database_rows(sql)
    for url, form in every_post(world, catalog["apple"]):
        assert viewer_console.post(url, form).status_code == 403, url
    assert database_rows(sql) == before


def test_posts_without_a_csrf_token_are_refused(
    editor_console: Console, world: World, sql: Sql, catalog: dict[str, int]
) -> None:
    before = database_rows(sql)
    for url, form in every_post(world, catalog["apple"]):
        assert editor_console.client.post(url, data=form).status_code == 400, url
    assert database_rows(sql) == before


def test_foreign_ids_answer_404(
    editor_console: Console, world: World, sql: Sql, catalog: dict[str, int]
) -> None:
    a, b = world.a, world.b
    mine = f"/admin/projects/{a.project_id}/channels/{a.channel_id}/feedback"
    # b's channel under a's project, b's feedback under a's channel, and ids that do not exist.
    gets = [
        f"/admin/projects/{a.project_id}/channels/{b.channel_id}/feedback",
        f"/admin/projects/{a.project_id}/channels/{b.channel_id}/feedback/{b.feedback_ids[0]}",
        f"{mine}/{b.feedback_ids[0]}",
        f"{mine}/999999",
        "/admin/projects/999999/feedback",
        f"/admin/projects/{a.project_id}/channels/999999/feedback",
    ]
    for url in gets:
        assert editor_console.get(url).status_code == 404, url
    before = database_rows(sql)
    foreign = b.feedback_ids[0]
    posts = [
        (f"{mine}/{foreign}", {"edit": "label", "v.label": "x"}),
        (f"{mine}/{foreign}/delete", {}),
        (f"{mine}/{foreign}/issues", {"issue_id": a.issue_ids[0]}),
        (f"{mine}/{foreign}/issues", {"new_issue": "sneaky"}),
        (f"{mine}/{foreign}/issues/{b.issue_ids[0]}/unlink", {}),
        # a's feedback with b's issue.
        (detail_url(world, catalog["apple"], "/issues"), {"issue_id": b.issue_ids[0]}),
        (detail_url(world, catalog["apple"], f"/issues/{b.issue_ids[0]}/unlink"), {}),
        (
            f"/admin/projects/{b.project_id}/channels/{a.channel_id}/feedback/{catalog['apple']}/delete",
            {},
        ),
    ]
    for url, form in posts:
        assert editor_console.post(url, form).status_code == 404, url
    assert database_rows(sql) == before


def test_times_follow_the_project_timezone(
    app: Flask, viewer_console: Console, world: World
) -> None:
    a = world.a
    when = datetime(2024, 6, 1, 15, 0, tzinfo=UTC)
    item = make_feedback(app, a.project_id, a.channel_id, {"createdAt": when.isoformat()})
    html = page(viewer_console, detail_url(world, item))
    assert "2024-06-02 00:00:00" in html


def test_an_issue_created_elsewhere_can_be_linked(
    app: Flask, editor_console: Console, world: World, sql: Sql, catalog: dict[str, int]
) -> None:
    issue = make_issue(app, world.a.project_id, "late issue")
    html = page(editor_console, detail_url(world, catalog["apple"]))
    assert f'<option value="{issue}">late issue</option>' in html
    editor_console.post(detail_url(world, catalog["apple"], "/issues"), {"issue_id": issue})
    assert issue in links_of(sql, catalog["apple"])


def test_a_change_the_service_refuses_re_renders_the_page(
    app: Flask, editor_console: Console, world: World, sql: Sql
) -> None:
    """The whitelist is checked inside the update's transaction; the page still renders."""
    a = world.a
    channel = make_channel(app, a.project_id, "shots", image_domains=("cdn.example.com",))
    body = {"message": "keep", "shots": ["https://cdn.example.com/a.png"]}
    item = make_feedback(app, a.project_id, channel, body)
    url = f"/admin/projects/{a.project_id}/channels/{channel}/feedback/{item}"
    before = database_rows(sql)
    response = editor_console.post(
        url,
        {"edit": ["message", "shots"], "v.message": "new", "v.shots": "https://evil.example/x.png"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "invalid domain in image link: evil.example (fieldKey: shots)" in html
    assert "https://evil.example/x.png</textarea>" in html  # what was typed stays
    assert database_rows(sql) == before


def test_a_board_page_lists_end_user_and_team_comments(
    app: Flask,
    client: FlaskClient,
    editor_console: Console,
    world: World,
    board: tuple[int, int],
) -> None:
    channel, item = board
    with app.app_context():
        key = public_keys.create_public_key(world.a.project_id, channel).key
        public_id = feedback.get_feedback(world.a.project_id, channel, item).public_id
    headers = {"x-api-key": key}
    fan = {"externalId": "fan-1", "name": f"Ann {SCRIPT}"}
    said = client.post(
        f"/api/v1/feedback/{public_id}/comments",
        json={"content": "Me too", "endUser": fan},
        headers=headers,
    )
    assert said.status_code == 201, said.get_json()
    voted = client.post(
        f"/api/v1/feedback/{public_id}/vote", json={"endUser": fan}, headers=headers
    )
    assert voted.status_code == 200, voted.get_json()
    editor_console.post(board_url(world, board, "/comments"), {"content": "On it"})
    html = page(editor_console, board_url(world, board))
    assert html.index("Me too") < html.index("On it")  # oldest first
    assert f"Ann {ESCAPED_SCRIPT}" in html
    assert "<strong>1</strong> vote ·" in html
    assert "<strong>2</strong> comments" in html
