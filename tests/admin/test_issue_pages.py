"""The console's issue pages: table, kanban board, status moves, issue form, categories."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, url_for

from feedback_service.blueprints.admin import issues as issue_pages
from feedback_service.models import IssueStatus
from feedback_service.services import feedback, issues
from feedback_service.services.issues import IssueFields
from tests.admin.console import Console
from tests.factories import World, make_category
from tests.helpers import Sql

JSON = {"Accept": "application/json"}
XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
ROW = re.compile(r'<tr data-issue-id="(\d+)">')
CARD = re.compile(r'<article class="kanban-card"[^>]*data-issue-id="(\d+)"')
COLUMN = re.compile(r'<section class="kanban-column" data-status="(\w+)"(.*?)</section>', re.S)


def issues_url(project_id: int, suffix: str = "") -> str:
    return f"/admin/projects/{project_id}/issues{suffix}"


def categories_url(project_id: int, suffix: str = "") -> str:
    return f"/admin/projects/{project_id}/categories{suffix}"


def table_ids(console: Console, project_id: int, query: str = "") -> list[int]:
    response = console.get(issues_url(project_id) + query)
    assert response.status_code == 200
    return [int(found) for found in ROW.findall(response.get_data(as_text=True))]


def board(console: Console, project_id: int) -> dict[str, list[int]]:
    response = console.get(issues_url(project_id, "/board"))
    assert response.status_code == 200
    return {
        status: [int(found) for found in CARD.findall(body)]
        for status, body in COLUMN.findall(response.get_data(as_text=True))
    }


def issue_row(sql: Sql, issue_id: int) -> tuple[Any, ...] | None:
    rows = sql(
        "SELECT name, description, status, category_id, external_issue_id FROM issue WHERE id = ?",
        (issue_id,),
    )
    return rows[0] if rows else None


def status_of(sql: Sql, issue_id: int) -> str:
    return str(sql("SELECT status FROM issue WHERE id = ?", (issue_id,))[0][0])


def make_issue(app: Flask, project_id: int, name: str, **fields: Any) -> int:
    with app.app_context():
        created = issues.create_issue(
            project_id,
            IssueFields(name=name, description=fields.pop("description", None), **fields),
        )
    return created.id


def set_status(app: Flask, project_id: int, issue_id: int, status: IssueStatus) -> None:
    with app.app_context():
        issues.set_status(project_id, issue_id, status)


def file_under(app: Flask, project_id: int, issue_id: int, category_id: int) -> None:
    with app.app_context():
        issues.set_category(project_id, issue_id, category_id)


def link(app: Flask, world_project: Any, feedback_id: int, issue_id: int) -> None:
    with app.app_context():
        feedback.attach_issue(
            world_project.project_id, world_project.channel_id, feedback_id, issue_id
        )


def issue_form(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Checkout fails",
        "description": "Card declined",
        "status": "ON_REVIEW",
        "category": "",
        "external_issue_id": "JIRA-7",
        **changes,
    }


# --- the table ---------------------------------------------------------------------------------


def test_table_lists_the_projects_issues_newest_first(viewer_console: Console, world: World):
    first, second = world.a.issue_ids
    assert table_ids(viewer_console, world.a.project_id) == [second, first]
    page = viewer_console.get(issues_url(world.a.project_id)).get_data(as_text=True)
    assert "alpha issue 1" in page
    assert "beta issue" not in page
    assert f'href="{issues_url(world.a.project_id, "/board")}"' in page
    # Viewers are not offered what they may not do.
    assert issues_url(world.a.project_id, "/new") not in page


def test_table_filters_by_text_status_and_category(
    app: Flask, viewer_console: Console, world: World
):
    pid = world.a.project_id
    first, second = world.a.issue_ids
    described = make_issue(app, pid, "Slow search", description="the NEEDLE is here")
    named = make_issue(app, pid, "needle in name", status=IssueStatus.RESOLVED)
    file_under(app, pid, named, world.a.category_id)
    file_under(app, pid, first, world.a.category_id)

    assert table_ids(viewer_console, pid, "?q=needle") == [named, described]
    assert table_ids(viewer_console, pid, "?status=RESOLVED") == [named]
    assert table_ids(viewer_console, pid, "?q=needle&status=RESOLVED") == [named]
    assert table_ids(viewer_console, pid, f"?category={world.a.category_id}") == [named, first]
    assert table_ids(viewer_console, pid, "?category=none") == [described, second]
    assert table_ids(viewer_console, pid, "?q=nothing-like-this") == []
    # Another project's category filters to nothing rather than showing its issues.
    assert table_ids(viewer_console, pid, f"?category={world.b.category_id}") == []


def test_table_sorts_by_each_column(app: Flask, viewer_console: Console, world: World):
    pid = world.a.project_id
    first, second = world.a.issue_ids
    third = make_issue(app, pid, "zebra", status=IssueStatus.ON_REVIEW)
    link(app, world.a, world.a.feedback_ids[0], second)
    link(app, world.a, world.a.feedback_ids[1], second)
    link(app, world.a, world.a.feedback_ids[0], third)
    set_status(app, pid, first, IssueStatus.RESOLVED)

    assert table_ids(viewer_console, pid, "?sort=name&order=asc") == [first, second, third]
    assert table_ids(viewer_console, pid, "?sort=name&order=desc") == [third, second, first]
    # Workflow order: INIT, ON_REVIEW, IN_PROGRESS, RESOLVED, PENDING.
    assert table_ids(viewer_console, pid, "?sort=status&order=asc") == [second, third, first]
    assert table_ids(viewer_console, pid, "?sort=feedbackCount&order=desc") == [
        second,
        third,
        first,
    ]
    assert table_ids(viewer_console, pid, "?sort=createdAt&order=asc") == [first, second, third]
    # "first" was changed last (its status).
    assert table_ids(viewer_console, pid, "?sort=updatedAt&order=desc")[0] == first


def test_table_header_links_flip_the_order(viewer_console: Console, world: World):
    page = viewer_console.get(issues_url(world.a.project_id, "?sort=name&order=asc&q=alpha&page=1"))
    html = page.get_data(as_text=True)
    assert 'aria-sort="ascending"' in html
    assert "sort=name&amp;order=desc" in html
    # A new sort starts again at page 1 and keeps the filters.
    assert "page=" not in re.search(r'href="([^"]*sort=name[^"]*)"', html).group(1)
    assert "q=alpha" in re.search(r'href="([^"]*sort=name[^"]*)"', html).group(1)


def test_table_pages_by_fifty(app: Flask, viewer_console: Console, world: World):
    pid = world.a.project_id
    bulk = [make_issue(app, pid, f"bulk {n:02}") for n in range(55)]
    by_name = [*world.a.issue_ids, *bulk]  # "alpha issue 1" < "alpha issue 2" < "bulk 00"

    assert table_ids(viewer_console, pid, "?sort=name&order=asc") == by_name[:50]
    assert table_ids(viewer_console, pid, "?sort=name&order=asc&page=2") == by_name[50:]
    assert table_ids(viewer_console, pid, "?sort=name&order=asc&page=3") == []
    html = viewer_console.get(issues_url(pid, "?sort=name&page=2")).get_data(as_text=True)
    assert "57 in all · page 2 of 2" in html
    assert 'rel="prev"' in html
    assert 'rel="next"' not in html


@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=0",
        "?page=-3",
        "?page=99999999999999999999999999",
        "?status=DONE",
        "?category=abc",
        "?category=99999999999999999999999999",
        "?sort=password&order=asc",
        "?sort=name&order=sideways",
    ],
)
def test_table_ignores_bad_query_values(viewer_console: Console, world: World, query: str):
    response = viewer_console.get(issues_url(world.a.project_id, query))
    assert response.status_code == 200


def test_table_of_an_unknown_project_is_404(viewer_console: Console, world: World):
    assert viewer_console.get(issues_url(world.b.project_id + 100)).status_code == 404


# --- the board ---------------------------------------------------------------------------------


def test_board_shows_each_issue_in_its_status_column(
    app: Flask, viewer_console: Console, world: World
):
    pid = world.a.project_id
    first, second = world.a.issue_ids
    reviewed = make_issue(app, pid, "reviewed", status=IssueStatus.ON_REVIEW)
    pending = make_issue(app, pid, "pending", status=IssueStatus.PENDING)
    set_status(app, pid, first, IssueStatus.IN_PROGRESS)
    # Within a column, the most linked issue comes first.
    link(app, world.a, world.a.feedback_ids[0], reviewed)
    other_reviewed = make_issue(app, pid, "also reviewed", status=IssueStatus.ON_REVIEW)

    assert board(viewer_console, pid) == {
        "INIT": [second],
        "ON_REVIEW": [reviewed, other_reviewed],
        "IN_PROGRESS": [first],
        "RESOLVED": [],
        "PENDING": [pending],
    }
    html = viewer_console.get(issues_url(pid, "/board")).get_data(as_text=True)
    assert "kanban.js" in html
    assert "beta issue" not in html
    # Viewers see cards without anything to move them.
    assert "draggable" not in html
    assert "/status" not in html


def test_board_cards_carry_a_status_form_for_editors(editor_console: Console, world: World):
    html = editor_console.get(issues_url(world.a.project_id, "/board")).get_data(as_text=True)
    first = world.a.issue_ids[0]
    assert f'action="{issues_url(world.a.project_id, f"/{first}/status")}"' in html
    assert 'tabindex="0"' in html
    assert 'draggable="true"' in html
    assert "data-autosubmit" in html
    assert 'aria-live="polite"' in html


def test_board_caps_long_columns(
    app: Flask, viewer_console: Console, world: World, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(issue_pages, "BOARD_COLUMN_LIMIT", 1)
    first, _ = world.a.issue_ids
    columns = board(viewer_console, world.a.project_id)
    assert columns["INIT"] == [first]
    html = viewer_console.get(issues_url(world.a.project_id, "/board")).get_data(as_text=True)
    assert "1 more in" in html
    assert "status=INIT" in html


# --- moving an issue ---------------------------------------------------------------------------


def test_status_form_post_moves_the_issue_and_returns_to_the_board(
    editor_console: Console, world: World, sql: Sql
):
    issue_id = world.a.issue_ids[0]
    response = editor_console.post(
        issues_url(world.a.project_id, f"/{issue_id}/status"), {"status": "RESOLVED"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == issues_url(world.a.project_id, "/board")
    assert status_of(sql, issue_id) == "RESOLVED"
    assert board(editor_console, world.a.project_id)["RESOLVED"] == [issue_id]


def test_status_json_post_answers_json(editor_console: Console, world: World, sql: Sql):
    issue_id = world.a.issue_ids[1]
    response = editor_console.post(
        issues_url(world.a.project_id, f"/{issue_id}/status"),
        {"status": "IN_PROGRESS"},
        headers=JSON,
    )
    assert response.status_code == 200
    assert response.get_json() == {"id": issue_id, "status": "IN_PROGRESS"}
    assert status_of(sql, issue_id) == "IN_PROGRESS"


@pytest.mark.parametrize("headers", [{}, JSON])
@pytest.mark.parametrize("status", ["DONE", "", "init", "INIT ", None])
def test_bad_status_is_400_and_changes_nothing(
    admin_console: Console, world: World, sql: Sql, status: str | None, headers: dict[str, str]
):
    issue_id = world.a.issue_ids[0]
    data = {} if status is None else {"status": status}
    response = admin_console.post(
        issues_url(world.a.project_id, f"/{issue_id}/status"), data, headers=headers
    )
    assert response.status_code == 400
    if headers:
        assert "error" in response.get_json()
    assert status_of(sql, issue_id) == "INIT"


@pytest.mark.parametrize("headers", [{}, JSON])
def test_viewer_cannot_move_an_issue(
    viewer_console: Console, world: World, sql: Sql, headers: dict[str, str]
):
    issue_id = world.a.issue_ids[0]
    response = viewer_console.post(
        issues_url(world.a.project_id, f"/{issue_id}/status"),
        {"status": "RESOLVED"},
        headers=headers,
    )
    assert response.status_code == 403
    if headers:
        assert response.get_json() == {"error": "This needs the editor role."}
    assert status_of(sql, issue_id) == "INIT"


def test_status_post_without_csrf_token_is_400(editor_console: Console, world: World, sql: Sql):
    issue_id = world.a.issue_ids[0]
    response = editor_console.client.post(
        issues_url(world.a.project_id, f"/{issue_id}/status"), data={"status": "RESOLVED"}
    )
    assert response.status_code == 400
    assert status_of(sql, issue_id) == "INIT"


@pytest.mark.parametrize("headers", [{}, JSON])
def test_another_projects_issue_is_404(
    editor_console: Console, world: World, sql: Sql, headers: dict[str, str]
):
    foreign = world.b.issue_ids[0]
    for issue_id in (foreign, 99999, 2**63 - 1, 2**64):
        response = editor_console.post(
            issues_url(world.a.project_id, f"/{issue_id}/status"),
            {"status": "RESOLVED"},
            headers=headers,
        )
        assert response.status_code == 404, issue_id
    assert status_of(sql, foreign) == "INIT"


# --- creating, editing, deleting ---------------------------------------------------------------


def test_editor_creates_an_issue(editor_console: Console, world: World, sql: Sql):
    pid = world.a.project_id
    form = issue_form(name="  Checkout fails  ", category=str(world.a.category_id))
    response = editor_console.post(issues_url(pid, "/new"), form)
    assert response.status_code == 302
    rows = sql("SELECT id FROM issue WHERE project_id = ? AND name = 'Checkout fails'", (pid,))
    assert len(rows) == 1
    assert response.headers["Location"] == issues_url(pid, f"/{rows[0][0]}")
    assert issue_row(sql, rows[0][0]) == (
        "Checkout fails",
        "Card declined",
        "ON_REVIEW",
        world.a.category_id,
        "JIRA-7",
    )


def test_new_issue_without_optional_fields(editor_console: Console, world: World, sql: Sql):
    form = issue_form(description="", external_issue_id="  ", status="INIT")
    assert editor_console.post(issues_url(world.a.project_id, "/new"), form).status_code == 302
    (row,) = sql("SELECT id FROM issue WHERE name = 'Checkout fails'")
    assert issue_row(sql, row[0]) == ("Checkout fails", None, "INIT", None, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "alpha issue 1"}, "Another issue of this project has this name."),
        ({"name": "   "}, "This field is required."),
        ({"name": "x" * 31}, "Field cannot be longer than 30 characters."),
        ({"description": "x" * 51}, "Field cannot be longer than 50 characters."),
        ({"status": "DONE"}, "Not a valid choice."),
        ({"category": "999"}, "Not a valid choice."),
    ],
)
def test_invalid_new_issue_is_400_and_creates_nothing(
    editor_console: Console, world: World, sql: Sql, changes: dict[str, str], message: str
):
    before = sql("SELECT count(*) FROM issue")
    response = editor_console.post(issues_url(world.a.project_id, "/new"), issue_form(**changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert sql("SELECT count(*) FROM issue") == before


def test_another_projects_category_is_not_a_choice(editor_console: Console, world: World, sql: Sql):
    form = issue_form(category=str(world.b.category_id))
    assert editor_console.post(issues_url(world.a.project_id, "/new"), form).status_code == 400
    assert sql("SELECT count(*) FROM issue WHERE name = 'Checkout fails'") == [(0,)]


def test_viewer_cannot_create_an_issue(viewer_console: Console, world: World, sql: Sql):
    assert viewer_console.get(issues_url(world.a.project_id, "/new")).status_code == 403
    response = viewer_console.post(issues_url(world.a.project_id, "/new"), issue_form())
    assert response.status_code == 403
    assert sql("SELECT count(*) FROM issue WHERE name = 'Checkout fails'") == [(0,)]


def test_editor_edits_every_field(app: Flask, editor_console: Console, world: World, sql: Sql):
    pid = world.a.project_id
    issue_id = make_issue(app, pid, "Old", description="old", external_issue_id="GH-1")
    file_under(app, pid, issue_id, world.a.category_id)
    page = editor_console.get(issues_url(pid, f"/{issue_id}")).get_data(as_text=True)
    assert 'value="GH-1"' in page

    response = editor_console.post(
        issues_url(pid, f"/{issue_id}"),
        issue_form(name="New", description="", status="PENDING", external_issue_id=""),
    )
    assert response.status_code == 302
    # Emptied fields clear the external id and the category.
    assert issue_row(sql, issue_id) == ("New", None, "PENDING", None, None)


def test_edit_to_a_taken_name_is_400_and_changes_nothing(
    editor_console: Console, world: World, sql: Sql
):
    first, _ = world.a.issue_ids
    before = issue_row(sql, first)
    response = editor_console.post(
        issues_url(world.a.project_id, f"/{first}"), issue_form(name="alpha issue 2")
    )
    assert response.status_code == 400
    assert "Another issue of this project has this name." in response.get_data(as_text=True)
    assert issue_row(sql, first) == before


def test_a_name_used_in_another_project_is_free(editor_console: Console, world: World, sql: Sql):
    first, _ = world.a.issue_ids
    response = editor_console.post(
        issues_url(world.a.project_id, f"/{first}"), issue_form(name="beta issue 1")
    )
    assert response.status_code == 302
    assert issue_row(sql, first)[0] == "beta issue 1"


def test_viewer_reads_but_cannot_edit(viewer_console: Console, world: World, sql: Sql):
    first, _ = world.a.issue_ids
    page = viewer_console.get(issues_url(world.a.project_id, f"/{first}"))
    assert page.status_code == 200
    assert "<fieldset disabled" in page.get_data(as_text=True)
    before = issue_row(sql, first)
    response = viewer_console.post(issues_url(world.a.project_id, f"/{first}"), issue_form())
    assert response.status_code == 403
    assert issue_row(sql, first) == before


def test_another_projects_issue_page_is_404(editor_console: Console, world: World, sql: Sql):
    foreign = world.b.issue_ids[0]
    before = issue_row(sql, foreign)
    assert editor_console.get(issues_url(world.a.project_id, f"/{foreign}")).status_code == 404
    url = issues_url(world.a.project_id, f"/{foreign}")
    assert editor_console.post(url, issue_form()).status_code == 404
    assert editor_console.post(url + "/delete").status_code == 404
    assert issue_row(sql, foreign) == before


def test_edit_page_lists_linked_feedback(app: Flask, viewer_console: Console, world: World):
    pid = world.a.project_id
    first, _ = world.a.issue_ids
    older, newer = world.a.feedback_ids
    link(app, world.a, older, first)
    link(app, world.a, newer, first)
    html = viewer_console.get(issues_url(pid, f"/{first}")).get_data(as_text=True)
    with app.test_request_context():
        links = [
            url_for(
                "admin.feedback_detail",
                project_id=pid,
                channel_id=world.a.channel_id,
                feedback_id=feedback_id,
            )
            for feedback_id in (newer, older)
        ]
    assert html.index(f'href="{links[0]}"') < html.index(f'href="{links[1]}"')
    assert "alpha feedback 1" in html
    assert "alpha feedback 2" in html
    assert 'Linked feedback <span class="muted">(2)</span>' in html


def test_editor_deletes_an_issue_and_its_feedback_stays(
    app: Flask, editor_console: Console, world: World, sql: Sql
):
    first, _ = world.a.issue_ids
    link(app, world.a, world.a.feedback_ids[0], first)
    response = editor_console.post(issues_url(world.a.project_id, f"/{first}/delete"))
    assert response.status_code == 302
    assert response.headers["Location"] == issues_url(world.a.project_id)
    assert issue_row(sql, first) is None
    assert sql("SELECT count(*) FROM feedback_issue WHERE issue_id = ?", (first,)) == [(0,)]
    assert sql("SELECT count(*) FROM feedback WHERE id = ?", (world.a.feedback_ids[0],)) == [(1,)]


def test_viewer_cannot_delete_an_issue(viewer_console: Console, world: World, sql: Sql):
    first, _ = world.a.issue_ids
    response = viewer_console.post(issues_url(world.a.project_id, f"/{first}/delete"))
    assert response.status_code == 403
    assert issue_row(sql, first) is not None


# --- categories --------------------------------------------------------------------------------


def category_names(sql: Sql, project_id: int) -> list[str]:
    rows = sql("SELECT name FROM category WHERE project_id = ? ORDER BY name", (project_id,))
    return [name for (name,) in rows]


def test_categories_page_counts_issues(app: Flask, viewer_console: Console, world: World):
    pid = world.a.project_id
    first, second = world.a.issue_ids
    file_under(app, pid, first, world.a.category_id)
    file_under(app, pid, second, world.a.category_id)
    empty = make_category(app, pid, "empty one")
    html = viewer_console.get(categories_url(pid)).get_data(as_text=True)
    filtered = issues_url(pid, f"?category={world.a.category_id}")
    assert f'<a href="{filtered}">2</a>' in html
    assert f'<a href="{issues_url(pid, f"?category={empty}")}">0</a>' in html
    assert "beta category" not in html
    # Viewers get no forms.
    assert "/rename" not in html
    assert "New category" not in html


def test_editor_creates_a_category(editor_console: Console, world: World, sql: Sql):
    pid = world.a.project_id
    response = editor_console.post(categories_url(pid), {"name": "  Payments "})
    assert response.status_code == 302
    assert category_names(sql, pid) == ["Payments", "alpha category"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("alpha category", "Another category of this project has this name."),
        ("  ", "This field is required."),
        ("x" * 256, "Field cannot be longer than 255 characters."),
    ],
)
def test_invalid_new_category_is_400(
    editor_console: Console, world: World, sql: Sql, name: str, message: str
):
    response = editor_console.post(categories_url(world.a.project_id), {"name": name})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert category_names(sql, world.a.project_id) == ["alpha category"]


def test_editor_renames_a_category(editor_console: Console, world: World, sql: Sql):
    url = categories_url(world.a.project_id, f"/{world.a.category_id}/rename")
    response = editor_console.post(url, {"name": "Billing"})
    assert response.status_code == 302
    assert category_names(sql, world.a.project_id) == ["Billing"]


def test_rename_to_a_taken_name_is_400(app: Flask, editor_console: Console, world: World, sql: Sql):
    make_category(app, world.a.project_id, "Billing")
    url = categories_url(world.a.project_id, f"/{world.a.category_id}/rename")
    for name in ("Billing", ""):
        response = editor_console.post(url, {"name": name})
        assert response.status_code == 400
    assert category_names(sql, world.a.project_id) == ["Billing", "alpha category"]


def test_deleting_a_category_keeps_its_issues(
    app: Flask, editor_console: Console, world: World, sql: Sql
):
    first, _ = world.a.issue_ids
    file_under(app, world.a.project_id, first, world.a.category_id)
    url = categories_url(world.a.project_id, f"/{world.a.category_id}/delete")
    assert editor_console.post(url).status_code == 302
    assert category_names(sql, world.a.project_id) == []
    assert issue_row(sql, first) == ("alpha issue 1", None, "INIT", None, None)


def test_category_changes_need_an_editor(viewer_console: Console, world: World, sql: Sql):
    pid, category_id = world.a.project_id, world.a.category_id
    assert viewer_console.post(categories_url(pid), {"name": "New"}).status_code == 403
    rename = categories_url(pid, f"/{category_id}/rename")
    assert viewer_console.post(rename, {"name": "New"}).status_code == 403
    assert viewer_console.post(categories_url(pid, f"/{category_id}/delete")).status_code == 403
    assert category_names(sql, pid) == ["alpha category"]


def test_another_projects_category_is_404(editor_console: Console, world: World, sql: Sql):
    pid, foreign = world.a.project_id, world.b.category_id
    rename = categories_url(pid, f"/{foreign}/rename")
    assert editor_console.post(rename, {"name": "Taken over"}).status_code == 404
    assert editor_console.post(categories_url(pid, f"/{foreign}/delete")).status_code == 404
    assert editor_console.post(categories_url(pid, f"/{2**64}/delete")).status_code == 404
    assert category_names(sql, world.b.project_id) == ["beta category"]


def test_category_post_without_csrf_token_is_400(editor_console: Console, world: World, sql: Sql):
    url = categories_url(world.a.project_id, f"/{world.a.category_id}/delete")
    assert editor_console.client.post(url).status_code == 400
    assert category_names(sql, world.a.project_id) == ["alpha category"]


# --- escaping ----------------------------------------------------------------------------------


def test_user_text_is_escaped_on_every_issue_page(
    app: Flask, viewer_console: Console, world: World
):
    pid = world.a.project_id
    issue_id = make_issue(app, pid, XSS, description=XSS, external_issue_id=XSS)
    category_id = make_category(app, pid, XSS)
    file_under(app, pid, issue_id, category_id)
    pages = [
        issues_url(pid),
        issues_url(pid, "/board"),
        issues_url(pid, f"/{issue_id}"),
        categories_url(pid),
    ]
    for url in pages:
        html = viewer_console.get(url).get_data(as_text=True)
        assert XSS_ESCAPED in html, url
        assert XSS not in html, url


def test_flash_after_a_move_escapes_the_name(app: Flask, editor_console: Console, world: World):
    issue_id = make_issue(app, world.a.project_id, XSS)
    url = issues_url(world.a.project_id, f"/{issue_id}/status")
    response = editor_console.post(url, {"status": "RESOLVED"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert f"{XSS_ESCAPED} moved to Resolved." in html
    assert XSS not in html
