"""Projects, channels, fields, image settings and keys in the console."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.admin.console import Console, post_refused
from tests.factories import World
from tests.helpers import Sql, database_rows


def channel_url(world: World, suffix: str = "") -> str:
    return f"/admin/projects/{world.a.project_id}/channels/{world.a.channel_id}{suffix}"


def field_id(sql: Sql, channel_id: int, key: str) -> int:
    [(found,)] = sql("SELECT id FROM field WHERE channel_id = ? AND key = ?", (channel_id, key))
    return int(found)


# --- projects --------------------------------------------------------------------------------


def test_an_admin_creates_a_project_and_lands_on_its_channels(
    admin_console: Console, sql: Sql
) -> None:
    response = admin_console.post(
        "/admin/projects/new",
        {"name": "Shop", "description": "the web shop", "timezone": "Europe/Berlin"},
    )
    [(project_id, timezone)] = sql("SELECT id, timezone FROM project WHERE name = 'Shop'")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/projects/{project_id}/channels"
    assert '"name": "Europe/Berlin"' in timezone
    assert "Shop" in admin_console.get("/admin/projects").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "alpha", "timezone": "UTC"}, "already exists"),
        ({"name": "Shop", "timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"name": "", "timezone": "UTC"}, "This field is required"),
    ],
)
def test_a_bad_project_explains_and_changes_nothing(
    admin_console: Console, world: World, sql: Sql, data: dict[str, str], message: str
) -> None:
    response = post_refused(admin_console, sql, "/admin/projects/new", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_project_settings_change_name_description_and_timezone(
    admin_console: Console, world: World, sql: Sql
) -> None:
    url = f"/admin/projects/{world.a.project_id}/settings"
    response = admin_console.post(url, {"name": "Renamed", "description": "", "timezone": "UTC"})
    assert response.status_code == 302
    [(name, description, timezone)] = sql(
        "SELECT name, description, timezone FROM project WHERE id = ?", (world.a.project_id,)
    )
    assert (name, description) == ("Renamed", None)
    assert '"name": "UTC"' in timezone


def test_viewers_see_project_settings_read_only(
    viewer_console: Console, world: World, sql: Sql
) -> None:
    url = f"/admin/projects/{world.a.project_id}/settings"
    page = viewer_console.get(url).get_data(as_text=True)
    assert "disabled" in page
    assert "Save" not in page
    assert viewer_console.post(url, {"name": "X", "timezone": "UTC"}).status_code == 403
    assert sql("SELECT name FROM project WHERE id = ?", (world.a.project_id,)) == [("alpha",)]


def test_a_project_that_does_not_exist_is_404(admin_console: Console) -> None:
    assert admin_console.get("/admin/projects/999/settings").status_code == 404


# --- channels --------------------------------------------------------------------------------


def test_an_admin_creates_a_channel_with_the_default_fields(
    admin_console: Console, world: World, sql: Sql
) -> None:
    response = admin_console.post(
        f"/admin/projects/{world.a.project_id}/channels/new", {"name": "mobile"}
    )
    [(channel_id, is_board)] = sql("SELECT id, is_board FROM channel WHERE name = 'mobile'")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/admin/projects/{world.a.project_id}/channels/{channel_id}"
    )
    assert is_board == 0
    keys = sql('SELECT key FROM field WHERE channel_id = ? ORDER BY "order"', (channel_id,))
    assert keys == [("id",), ("createdAt",), ("updatedAt",), ("issues",)]


def test_a_board_gets_the_board_fields(admin_console: Console, world: World, sql: Sql) -> None:
    admin_console.post(
        f"/admin/projects/{world.a.project_id}/channels/new", {"name": "ideas", "board": "y"}
    )
    [(channel_id, is_board)] = sql("SELECT id, is_board FROM channel WHERE name = 'ideas'")
    assert is_board == 1
    keys = [k for (k,) in sql("SELECT key FROM field WHERE channel_id = ?", (channel_id,))]
    assert {"title", "description", "type", "status"} <= set(keys)


def test_channel_info_is_saved(admin_console: Console, world: World, sql: Sql) -> None:
    response = admin_console.post(
        channel_url(world),
        {"channel-name": "web2", "channel-description": "d", "channel-search_max_days": "-1"},
    )
    assert response.status_code == 302
    assert sql(
        "SELECT name, description, feedback_search_max_days FROM channel WHERE id = ?",
        (world.a.channel_id,),
    ) == [("web2", "d", -1)]


def test_a_zero_search_window_is_refused(admin_console: Console, world: World, sql: Sql) -> None:
    response = admin_console.post(
        channel_url(world), {"channel-name": "web", "channel-search_max_days": "0"}
    )
    assert response.status_code == 400
    assert "-1 for unlimited" in response.get_data(as_text=True)
    assert sql(
        "SELECT feedback_search_max_days FROM channel WHERE id = ?", (world.a.channel_id,)
    ) == [(365,)]


def test_another_projects_channel_is_404(admin_console: Console, world: World) -> None:
    url = f"/admin/projects/{world.a.project_id}/channels/{world.b.channel_id}"
    assert admin_console.get(url).status_code == 404
    response = admin_console.post(url, {"channel-name": "x", "channel-search_max_days": "1"})
    assert response.status_code == 404


def test_the_settings_page_lists_fields_and_escapes_names(
    admin_console: Console, world: World
) -> None:
    admin_console.post(
        channel_url(world, "/fields"),
        {"key": "note", "name": "<b>Note</b>", "format": "keyword", "property": "EDITABLE"},
    )
    page = admin_console.get(channel_url(world)).get_data(as_text=True)
    assert "&lt;b&gt;Note&lt;/b&gt;" in page
    assert "<b>Note</b>" not in page
    for key in ("message", "label", "score", "kind", "tags", "seen_at", "shots", "source"):
        assert f'<td class="mono">{key}</td>' in page


# --- fields ----------------------------------------------------------------------------------


def test_adding_a_select_field_stores_it_with_its_options(
    admin_console: Console, world: World, sql: Sql
) -> None:
    response = admin_console.post(
        channel_url(world, "/fields"),
        {
            "key": "plan",
            "name": "Plan",
            "format": "select",
            "property": "EDITABLE",
            "options": "free\n\npro\n",
        },
    )
    assert response.status_code == 302
    plan = field_id(sql, world.a.channel_id, "plan")
    assert sql("SELECT name, format, property, status FROM field WHERE id = ?", (plan,)) == [
        ("Plan", "select", "EDITABLE", "ACTIVE")
    ]
    assert sql("SELECT key, name FROM option WHERE field_id = ? ORDER BY id", (plan,)) == [
        ("free", "free"),
        ("pro", "pro"),
    ]


def test_a_new_field_accepts_values_through_the_api(
    admin_console: Console, world: World, client: FlaskClient
) -> None:
    admin_console.post(
        channel_url(world, "/fields"),
        {"key": "plan", "format": "keyword", "property": "EDITABLE"},
    )
    response = client.post(
        f"{world.a.channel}/feedbacks", json={"plan": "pro"}, headers=world.a.headers
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"key": "bad key", "format": "text"}, "must match"),
        ({"key": "createdAt", "format": "date"}, "reserved"),
        ({"key": "message", "format": "text"}, "given twice"),
        ({"key": "other", "name": "message", "format": "text"}, "already has a field named"),
        ({"key": "n", "format": "number", "options": "a"}, "only select and multiSelect"),
        ({"key": "n", "format": "bogus"}, "Not a valid choice"),
    ],
)
def test_a_bad_field_explains_and_changes_nothing(
    admin_console: Console, world: World, sql: Sql, data: dict[str, str], message: str
) -> None:
    response = post_refused(
        admin_console, sql, channel_url(world, "/fields"), {"property": "EDITABLE", **data}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_editing_a_field_changes_what_may_change(
    admin_console: Console, world: World, sql: Sql
) -> None:
    kind = field_id(sql, world.a.channel_id, "kind")
    response = admin_console.post(
        channel_url(world, f"/fields/{kind}"),
        {
            "name": "Kind of report",
            "description": "what it is",
            "property": "READ_ONLY",
            "status": "INACTIVE",
            "order": "40",
            "new_options": "question",
        },
    )
    assert response.status_code == 302
    assert sql(
        'SELECT key, format, name, description, property, status, "order" FROM field WHERE id = ?',
        (kind,),
    ) == [("kind", "select", "Kind of report", "what it is", "READ_ONLY", "INACTIVE", 40)]
    options = sql("SELECT key FROM option WHERE field_id = ? ORDER BY id", (kind,))
    assert options == [("bug",), ("idea",), ("question",)]


def test_an_existing_option_is_not_added_twice(
    admin_console: Console, world: World, sql: Sql
) -> None:
    kind = field_id(sql, world.a.channel_id, "kind")
    response = admin_console.post(
        channel_url(world, f"/fields/{kind}"),
        {
            "name": "kind",
            "property": "EDITABLE",
            "status": "ACTIVE",
            "order": "5",
            "new_options": "bug",
        },
    )
    assert response.status_code == 400
    assert "exists already" in response.get_data(as_text=True)
    assert sql("SELECT count(*) FROM option WHERE field_id = ?", (kind,)) == [(2,)]


@pytest.mark.parametrize("key", ["id", "createdAt", "issues"])
def test_default_fields_are_locked(
    admin_console: Console, world: World, sql: Sql, key: str
) -> None:
    locked = field_id(sql, world.a.channel_id, key)
    response = post_refused(
        admin_console,
        sql,
        channel_url(world, f"/fields/{locked}"),
        {"name": "X", "property": "EDITABLE", "status": "INACTIVE", "order": "1"},
    )
    assert response.status_code == 400
    assert "belongs to every channel" in response.get_data(as_text=True)


def test_a_field_of_another_channel_is_404(admin_console: Console, world: World, sql: Sql) -> None:
    foreign = field_id(sql, world.b.channel_id, "kind")
    assert admin_console.get(channel_url(world, f"/fields/{foreign}")).status_code == 404


def test_editors_cannot_change_fields(editor_console: Console, world: World, sql: Sql) -> None:
    before = database_rows(sql)
    kind = field_id(sql, world.a.channel_id, "kind")
    assert editor_console.get(channel_url(world, f"/fields/{kind}")).status_code == 200
    response = editor_console.post(
        channel_url(world, f"/fields/{kind}"),
        {"name": "X", "property": "EDITABLE", "status": "ACTIVE", "order": "1"},
    )
    assert response.status_code == 403
    new = editor_console.post(channel_url(world, "/fields"), {"key": "k", "format": "text"})
    assert new.status_code == 403
    assert database_rows(sql) == before


# --- images ----------------------------------------------------------------------------------


def test_image_settings_are_saved_and_the_secret_is_never_shown(
    admin_console: Console, world: World, sql: Sql
) -> None:
    response = admin_console.post(
        channel_url(world, "/images"),
        {
            "storage": "s3",
            "image_domains": "CDN.Example.com\nimg.example.org",
            "s3_endpoint": "https://s3.example.com",
            "s3_bucket": "shots",
            "s3_region": "eu-1",
            "s3_access_key_id": "AKIA1",
            "s3_secret_access_key": "very-secret-value",
        },
    )
    assert response.status_code == 302
    assert sql(
        "SELECT image_storage, image_domains, s3_bucket, s3_secret_access_key FROM channel "
        "WHERE id = ?",
        (world.a.channel_id,),
    ) == [("s3", '["cdn.example.com", "img.example.org"]', "shots", "very-secret-value")]
    page = admin_console.get(channel_url(world)).get_data(as_text=True)
    assert "very-secret-value" not in page
    assert "A secret is stored" in page
    assert "cdn.example.com\nimg.example.org</textarea>" in page


def test_s3_without_a_bucket_is_refused(admin_console: Console, world: World, sql: Sql) -> None:
    response = admin_console.post(channel_url(world, "/images"), {"storage": "s3"})
    assert response.status_code == 400
    assert "needs a bucket" in response.get_data(as_text=True)
    assert sql("SELECT image_storage FROM channel WHERE id = ?", (world.a.channel_id,)) == [
        ("local",)
    ]


# --- keys ------------------------------------------------------------------------------------


def keys_url(world: World, suffix: str = "") -> str:
    return f"/admin/projects/{world.a.project_id}/keys{suffix}"


def test_a_new_api_key_is_shown_once_and_opens_the_project(
    admin_console: Console, world: World, client: FlaskClient
) -> None:
    response = admin_console.post(keys_url(world, "/api"))
    assert response.status_code == 200
    [secret] = re.findall(r"<p class=\"secret\" data-secret>([^<]+)</p>", response.get_data(True))
    assert response.headers["Cache-Control"] == "no-store"
    opened = client.get(f"/api/projects/{world.a.project_id}", headers={"x-api-key": secret})
    assert opened.status_code == 200
    page = admin_console.get(keys_url(world)).get_data(as_text=True)
    assert secret not in page
    assert f"{secret[:12]}…" in page


def test_a_revoked_key_stops_working(
    admin_console: Console, world: World, client: FlaskClient, sql: Sql
) -> None:
    [(key_id,)] = sql("SELECT id FROM api_key WHERE project_id = ?", (world.a.project_id,))
    response = admin_console.post(keys_url(world, f"/api/{key_id}/revoke"))
    assert response.status_code == 302
    refused = client.get(f"/api/projects/{world.a.project_id}", headers=world.a.headers)
    assert refused.status_code == 403


def test_another_projects_key_cannot_be_revoked_here(
    admin_console: Console, world: World, sql: Sql
) -> None:
    [(foreign,)] = sql("SELECT id FROM api_key WHERE project_id = ?", (world.b.project_id,))
    admin_console.post(keys_url(world, f"/api/{foreign}/revoke"))
    assert sql("SELECT revoked_at FROM api_key WHERE id = ?", (foreign,)) == [(None,)]
    assert "has no API key" in admin_console.get(keys_url(world)).get_data(as_text=True)


def test_public_keys_open_boards_only(admin_console: Console, world: World, sql: Sql) -> None:
    admin_console.post(
        f"/admin/projects/{world.a.project_id}/channels/new", {"name": "ideas", "board": "y"}
    )
    [(board,)] = sql("SELECT id FROM channel WHERE name = 'ideas'")
    admin_console.post(keys_url(world, "/public"), {"channel_id": str(world.a.channel_id)})
    assert sql("SELECT count(*) FROM public_key") == [(0,)]
    admin_console.post(keys_url(world, "/public"), {"channel_id": str(board)})
    [(key_id, key, channel_id)] = sql("SELECT id, key, channel_id FROM public_key")
    assert key.startswith("fhpk_")
    assert channel_id == board
    assert key in admin_console.get(keys_url(world)).get_data(as_text=True)
    admin_console.post(keys_url(world, f"/public/{key_id}/revoke"))
    [(revoked_at,)] = sql("SELECT revoked_at FROM public_key")
    assert revoked_at is not None


def test_identity_verification_is_switched_on_and_rotated(
    admin_console: Console, world: World, sql: Sql
) -> None:
    admin_console.post(keys_url(world, "/identity"), {"required": "y"})
    [(first, required)] = sql(
        "SELECT identity_secret, identity_required FROM project WHERE id = ?",
        (world.a.project_id,),
    )
    assert required == 1
    assert len(first) == 64
    admin_console.post(keys_url(world, "/identity"), {"rotate": "y"})
    [(second, required)] = sql(
        "SELECT identity_secret, identity_required FROM project WHERE id = ?",
        (world.a.project_id,),
    )
    assert (second != first, required) == (True, 0)


def test_allowed_origins_are_normalised_and_bad_ones_refused(
    admin_console: Console, world: World, sql: Sql
) -> None:
    admin_console.post(keys_url(world, "/origins"), {"origins": "https://App.Example.com/\n"})
    query = "SELECT allowed_origins FROM project WHERE id = ?"
    assert sql(query, (world.a.project_id,)) == [('["https://app.example.com"]',)]
    admin_console.post(keys_url(world, "/origins"), {"origins": "javascript:alert(1)"})
    assert sql(query, (world.a.project_id,)) == [('["https://app.example.com"]',)]


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_admins_see_or_change_keys(
    request: pytest.FixtureRequest, world: World, sql: Sql, role: str
) -> None:
    console: Console = request.getfixturevalue(f"{role}_console")
    before = database_rows(sql)
    assert console.get(keys_url(world)).status_code == 403
    assert console.post(keys_url(world, "/api")).status_code == 403
    assert console.post(keys_url(world, "/identity"), {"required": "y"}).status_code == 403
    assert database_rows(sql) == before


@pytest.mark.parametrize("channel_id", ["99999999999999999999999", "0", "x", "\uff11"])
def test_a_public_key_for_no_board_is_refused_with_a_message(
    admin_console: Console, world: World, sql: Sql, channel_id: str
) -> None:
    response = admin_console.post(keys_url(world, "/public"), {"channel_id": channel_id})
    assert response.status_code == 302
    assert "Choose a board." in admin_console.get(keys_url(world)).get_data(as_text=True)
    assert sql("SELECT count(*) FROM public_key") == [(0,)]
