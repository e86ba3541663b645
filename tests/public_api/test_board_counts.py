"""A board's feedback counted per status and type (the totals of filtered lists), kept by the
database whoever writes the feedback: the public API, the integration API, or SQL by hand."""

from __future__ import annotations

import json
from collections import Counter

from flask import Flask
from flask.testing import FlaskClient

from tests.factories import make_channel
from tests.helpers import Sql
from tests.public_api.conftest import Boards


def counted(sql: Sql) -> Counter[tuple[int, str, str]]:
    rows = sql("SELECT channel_id, status, type, feedback_count FROM board_count")
    return Counter({(channel, status, type_): n for channel, status, type_, n in rows if n})


def actual(sql: Sql, boards_world: Boards) -> Counter[tuple[int, str, str]]:
    """The same counts, from the feedback rows themselves."""
    board_ids = (boards_world.a.board_id, boards_world.b.board_id)
    truth: Counter[tuple[int, str, str]] = Counter()
    for channel_id, data in sql("SELECT channel_id, data FROM feedback"):
        values = json.loads(data) if isinstance(data, str) else data
        if channel_id in board_ids:
            truth[channel_id, values.get("status") or "", values.get("type") or ""] += 1
    return truth


def test_counts_follow_every_write_of_a_boards_feedback(
    app: Flask, client: FlaskClient, boards_world: Boards, sql: Sql
) -> None:
    a = boards_world.a
    integration = {"x-api-key": a.secret_key}
    feedbacks = f"/api/projects/{a.project_id}/channels/{a.board_id}/feedbacks"
    plain = f"/api/projects/{a.project_id}/channels/{make_channel(app, a.project_id)}/feedbacks"

    def write(method: str, url: str, headers: dict[str, str], body: object) -> None:
        with getattr(client, method)(url, json=body, headers=headers) as response:
            assert response.status_code in (200, 201), (url, response.get_data(as_text=True))
        assert counted(sql) == actual(sql, boards_world), (method, url, body)

    write("post", "/api/v1/feedback", a.headers, {"title": "One", "type": "bug"})
    write("post", "/api/v1/feedback", a.headers, {"title": "Two", "type": "bug"})
    write("post", "/api/v1/feedback", boards_world.b.headers, {"title": "Other board"})
    write("post", feedbacks, integration, {"title": "Pushed", "type": "question"})
    write("post", plain, integration, {})
    one, two, other, pushed = (row[0] for row in sql("SELECT id FROM feedback ORDER BY id")[:4])
    write("put", f"{feedbacks}/{one}", integration, {"status": "planned"})
    write("put", f"{feedbacks}/{one}", integration, {"title": "Same counter"})
    write("put", f"{feedbacks}/{two}", integration, {"type": "idea", "title": "Renamed"})
    write("put", f"{feedbacks}/{pushed}", integration, {"status": None})
    write("delete", feedbacks, integration, {"feedbackIds": [two]})

    sql("UPDATE feedback SET data = ? WHERE id = ?", (json.dumps({"title": "By hand"}), one))
    sql("DELETE FROM feedback WHERE id = ?", (other,))

    assert counted(sql) == actual(sql, boards_world)
    assert counted(sql) == Counter({(a.board_id, "", ""): 1, (a.board_id, "", "question"): 1})


def test_a_filtered_list_past_its_last_page_has_the_total_and_no_items(
    client: FlaskClient, boards_world: Boards
) -> None:
    a = boards_world.a
    for title in ("First", "Second", "Third"):
        body = {"title": title, "type": "bug"}
        with client.post("/api/v1/feedback", json=body, headers=a.headers) as response:
            assert response.status_code == 201

    query = "status=new&type=bug,idea&sortBy=votes&limit=2"
    with client.get(f"/api/v1/feedback?{query}&page=2", headers=a.headers) as response:
        page_two = response.get_json()
    with client.get(f"/api/v1/feedback?{query}&page=3", headers=a.headers) as response:
        page_three = response.get_json()

    assert [item["title"] for item in page_two["items"]] == ["First"]
    assert (page_two["total"], page_two["totalPages"]) == (3, 2)
    assert page_three == {"items": [], "total": 3, "page": 3, "limit": 2, "totalPages": 2}
