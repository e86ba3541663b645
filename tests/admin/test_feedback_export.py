"""Exports of the feedback table: the filtered rows, all pages, as CSV (UTF-8 with BOM) and
XLSX, with spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from werkzeug.test import TestResponse

from feedback_service.services import feedback_export
from tests.admin.console import Console
from tests.factories import World, make_channel, make_feedback, make_project
from tests.helpers import Sql, database_rows

HEADER = [
    "ID", "Created", "Updated", "Issue",
    "message", "label", "score", "kind", "tags", "seen_at", "shots", "source",
]  # fmt: skip
ID_CELL = re.compile(r'<td><a href="[^"]*/feedback/(\d+)">(\d+)</a></td>')
# Each of these starts a formula (or hides one) in a spreadsheet.
FORMULAS = ["=1+2", "+1", "-2", "@SUM(A1)", "\tlead", "\rlead", '=HYPERLINK("http://x")']


@pytest.fixture
def catalog(app: Flask, world: World) -> dict[str, int]:
    a = world.a
    bodies = {
        "apple": {
            "message": 'Äpfel, "quoted"\nand a new line',
            "label": "red",
            "score": 3,
            "kind": "bug",
            "tags": ["ui", "api"],
            "seen_at": "2024-03-01T10:00:00Z",
            "shots": ["https://cdn.example.com/a.png", "https://cdn.example.com/b.png"],
            "issueNames": ["alpha issue 1"],
        },
        "pear": {"message": "pear", "label": "green", "score": -1.5, "kind": "idea"},
        "plum": {"message": "plum", "label": "red", "kind": "bug", "source": "=cmd|' /C calc'!A0"},
    }
    return {
        name: make_feedback(app, a.project_id, a.channel_id, body) for name, body in bodies.items()
    }


def base_url(world: World) -> str:
    return f"/admin/projects/{world.a.project_id}/channels/{world.a.channel_id}/feedback"


def table_ids(console: Console, url: str) -> list[int]:
    html = console.get(url).get_data(as_text=True)
    return [int(found) for found, label in ID_CELL.findall(html) if found == label]


def csv_rows(response: TestResponse) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def xlsx_rows(response: TestResponse) -> list[list[Any]]:
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data), read_only=True)
    try:
        rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    finally:
        workbook.close()
    # Empty cells are not written, so a row ends at its last value.
    width = len(rows[0])
    return [row + [None] * (width - len(row)) for row in rows]


def today_in_seoul() -> str:
    return datetime.now(ZoneInfo("Asia/Seoul")).date().isoformat()


def test_csv_holds_the_filtered_rows_of_the_table(
    viewer_console: Console, world: World, catalog: dict[str, int]
) -> None:
    query = "?f.label=red&sort=id"
    response = viewer_console.get(base_url(world) + "/export.csv" + query)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=alpha_web_feedback_{today_in_seoul()}.csv"
    )
    rows = csv_rows(response)
    assert rows[0] == HEADER
    assert [int(row[0]) for row in rows[1:]] == table_ids(viewer_console, base_url(world) + query)
    assert [int(row[0]) for row in rows[1:]] == [catalog["apple"], catalog["plum"]]
    apple = dict(zip(HEADER, rows[1], strict=True))
    assert apple["message"] == 'Äpfel, "quoted"\nand a new line'
    assert apple["tags"] == "ui, api"
    assert apple["seen_at"] == "2024-03-01 19:00:00"  # Asia/Seoul
    assert apple["shots"] == "https://cdn.example.com/a.png\nhttps://cdn.example.com/b.png"
    assert apple["Issue"] == "alpha issue 1"
    assert apple["score"] == "3"
    assert apple["label"] == "red"


def test_numbers_stay_numbers_and_formulas_are_neutralised(
    app: Flask, viewer_console: Console, world: World, catalog: dict[str, int]
) -> None:
    a = world.a
    hostile = {
        text: make_feedback(app, a.project_id, a.channel_id, {"message": text, "label": text})
        for text in FORMULAS
    }
    rows = csv_rows(viewer_console.get(base_url(world) + "/export.csv"))
    by_id = {int(row[0]): dict(zip(HEADER, row, strict=True)) for row in rows[1:]}
    for text, feedback_id in hostile.items():
        assert by_id[feedback_id]["message"] == "'" + text
        assert by_id[feedback_id]["label"] == "'" + text
    assert by_id[catalog["plum"]]["source"] == "'=cmd|' /C calc'!A0"
    # A negative number is a number, not text: it stays as it is.
    assert by_id[catalog["pear"]]["score"] == "-1.5"
    assert by_id[catalog["apple"]]["message"].startswith("Äpfel")


def test_xlsx_has_the_same_rows_as_csv(
    app: Flask, viewer_console: Console, world: World, catalog: dict[str, int]
) -> None:
    a = world.a
    formula = make_feedback(app, a.project_id, a.channel_id, {"message": "=1+2", "score": 4})
    control = make_feedback(app, a.project_id, a.channel_id, {"message": "bell\x07here"})
    response = viewer_console.get(base_url(world) + "/export.xlsx")
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=alpha_web_feedback_{today_in_seoul()}.xlsx"
    )
    sheet = xlsx_rows(response)
    table = csv_rows(viewer_console.get(base_url(world) + "/export.csv"))
    assert sheet[0] == HEADER
    as_text = [["" if cell is None else str(cell) for cell in row] for row in sheet]
    # The one difference: a control character cannot be stored in XLSX at all.
    expected = [
        [cell.replace("\x07", "") for cell in row] if row[0] == str(control) else row
        for row in table
    ]
    assert as_text == expected
    by_id = {row[0]: row for row in sheet[1:]}
    assert by_id[formula][HEADER.index("message")] == "'=1+2"
    assert by_id[formula][HEADER.index("score")] == 4
    assert by_id[catalog["pear"]][HEADER.index("score")] == -1.5


def test_an_export_holds_every_page(app: Flask, viewer_console: Console, world: World) -> None:
    a = world.a
    channel = make_channel(app, a.project_id, "bulk", specs=())
    ids = [make_feedback(app, a.project_id, channel, {}) for _ in range(120)]
    url = f"/admin/projects/{a.project_id}/channels/{channel}/feedback/export.csv"
    rows = csv_rows(viewer_console.get(url))
    assert rows[0] == ["ID", "Created", "Updated", "Issue"]
    assert [int(row[0]) for row in rows[1:]] == ids[::-1]
    rows = csv_rows(viewer_console.get(url + "?sort=id"))
    assert [int(row[0]) for row in rows[1:]] == ids


def test_an_export_stops_at_its_maximum(
    app: Flask,
    viewer_console: Console,
    world: World,
    catalog: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(feedback_export, "MAX_EXPORT_ROWS", 2)
    monkeypatch.setattr(feedback_export, "BATCH_SIZE", 1)
    response = viewer_console.get(base_url(world) + "/export.csv")
    assert [int(row[0]) for row in csv_rows(response)[1:]] == [catalog["plum"], catalog["pear"]]
    assert response.headers["X-Export-Truncated"] == "2"


def test_the_file_name_is_sanitised(app: Flask, viewer_console: Console) -> None:
    project_id = make_project(app, "Shop & Co / Ünïcode")
    channel = make_channel(app, project_id, "web feedback?", specs=())
    url = f"/admin/projects/{project_id}/channels/{channel}/feedback/export.csv"
    response = viewer_console.get(url)
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=Shop_Co_n_code_web_feedback_feedback_{today_in_seoul()}.csv"
    )
    assert csv_rows(response) == [["ID", "Created", "Updated", "Issue"]]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("alpha", "alpha"), ("../../etc", "etc"), ("상점", "project"), ("a-b_c d", "a-b_c_d")],
)
def test_file_name_parts(name: str, expected: str) -> None:
    day = datetime(2024, 5, 6).date()
    assert feedback_export.export_filename(name, "web", day, "xlsx") == (
        f"{expected}_web_feedback_2024-05-06.xlsx"
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?f.score=abc", "score: &#39;abc&#39; is not a number."),
        ("?from=2024-02-01&to=2024-01-01", "The start date (From) is after the end date (To)."),
        ("?from=2020-01-01&to=2024-01-01", "at most 365 days"),
    ],
)
def test_a_bad_filter_exports_nothing(
    viewer_console: Console, world: World, sql: Sql, query: str, message: str
) -> None:
    before = database_rows(sql)
    response = viewer_console.get(base_url(world) + "/export.csv" + query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert database_rows(sql) == before


def test_foreign_channels_do_not_export(viewer_console: Console, world: World) -> None:
    a, b = world.a, world.b
    for url in (
        f"/admin/projects/{a.project_id}/channels/{b.channel_id}/feedback/export.csv",
        f"/admin/projects/{b.project_id}/channels/{a.channel_id}/feedback/export.xlsx",
        f"/admin/projects/999999/channels/{a.channel_id}/feedback/export.csv",
    ):
        assert viewer_console.get(url).status_code == 404, url
    assert viewer_console.get(base_url(world) + "/export.pdf").status_code == 404


def test_signed_out_visitors_cannot_export(client: FlaskClient, world: World) -> None:
    response = client.get(base_url(world) + "/export.csv")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")


def test_another_projects_feedback_never_leaks_into_an_export(
    viewer_console: Console, world: World, catalog: dict[str, int]
) -> None:
    rows = csv_rows(viewer_console.get(base_url(world) + "/export.csv?q=feedback"))
    assert [row[HEADER.index("message")] for row in rows[1:]] == [
        "alpha feedback 2",
        "alpha feedback 1",
    ]
