"""Signing in and out, sessions, roles, CSRF, security headers and the first-run link."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from feedback_service.models import Role
from feedback_service.services import admin_users
from tests.admin.console import PASSWORD, Console, csrf_token_in, make_user, signed_in
from tests.helpers import Sql

WRONG = "Wrong email or password."


def anonymous(app: Flask, **environ: str) -> Console:
    client = app.test_client()
    client.environ_base.update(environ)
    return Console(client)


def test_pages_need_a_session_and_remember_where_you_were_going(app: Flask) -> None:
    response = anonymous(app).get("/admin/users?x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login?next=/admin/users?x%3D1"


def test_signing_in_goes_to_next_and_signing_out_ends_the_session(app: Flask) -> None:
    email = make_user(app, Role.viewer)
    console = anonymous(app)
    token = csrf_token_in(console.get("/admin/login").get_data(as_text=True))
    response = console.client.post(
        "/admin/login?next=/admin/account",
        data={"email": email.upper(), "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/account"
    assert console.get("/admin/account").status_code == 200

    assert console.post("/admin/logout").status_code == 302
    assert console.get("/admin/account").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/api/v1/x"])
def test_next_never_leaves_the_console(app: Flask, target: str) -> None:
    email = make_user(app, Role.viewer)
    console = anonymous(app)
    token = csrf_token_in(console.get("/admin/login").get_data(as_text=True))
    response = console.client.post(
        f"/admin/login?next={target}",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/admin/projects"


@pytest.mark.parametrize(
    ("email", "password"),
    [("viewer@example.com", "wrong password!"), ("nobody@example.com", PASSWORD), ("x", "y")],
)
def test_a_failed_sign_in_says_the_same_whatever_was_wrong(
    app: Flask, email: str, password: str
) -> None:
    make_user(app, Role.viewer)
    console = anonymous(app)
    response = console.login(email, password)
    assert response.status_code == 401
    assert WRONG in response.get_data(as_text=True)
    assert console.get("/admin/account").status_code == 302


def test_a_deactivated_user_cannot_sign_in(app: Flask, sql: Sql) -> None:
    email = make_user(app, Role.editor)
    make_user(app, Role.admin)
    with app.app_context():
        user = next(u for u in admin_users.list_users() if u.email == email)
        admin_users.update_user(user.id, role=Role.editor, active=False)
    assert anonymous(app).login(email).status_code == 401


def test_passwords_are_stored_as_argon2id_at_owasp_cost(app: Flask, sql: Sql) -> None:
    make_user(app, Role.viewer)
    [(stored,)] = sql("SELECT password_hash FROM admin_user")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in stored


def test_post_without_csrf_token_is_refused_and_changes_nothing(app: Flask, sql: Sql) -> None:
    console = signed_in(app, Role.admin)
    response = console.client.post("/admin/projects/new", data={"name": "Shop", "timezone": "UTC"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert sql("SELECT count(*) FROM project") == [(0,)]


def test_sign_in_without_csrf_token_is_refused(app: Flask) -> None:
    email = make_user(app, Role.viewer)
    response = app.test_client().post("/admin/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400


def test_a_token_from_another_session_is_refused(app: Flask, sql: Sql) -> None:
    mine = signed_in(app, Role.admin)
    theirs = anonymous(app).csrf_token()
    response = mine.client.post(
        "/admin/projects/new", data={"name": "Shop", "timezone": "UTC", "csrf_token": theirs}
    )
    assert response.status_code == 400
    assert sql("SELECT count(*) FROM project") == [(0,)]


def test_every_console_page_carries_the_security_headers(app: Flask) -> None:
    console = signed_in(app, Role.admin)
    for url in ("/admin/login", "/admin/projects", "/admin/users", "/admin/no-such-page"):
        response = console.get(url)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy, url
        assert "frame-ancestors 'none'" in policy, url
        assert "unsafe-inline" not in policy, url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["X-Frame-Options"] == "DENY", url


def test_pages_have_no_inline_script_or_style(app: Flask) -> None:
    console = signed_in(app, Role.admin)
    html = console.get("/admin/users").get_data(as_text=True)
    assert "<script>" not in html
    assert "<style" not in html
    assert " style=" not in html
    assert " onclick=" not in html


def test_session_cookie_is_httponly_lax_and_secure_only_over_https(app: Flask) -> None:
    email = make_user(app, Role.viewer)
    for base, secure in (("http://localhost", False), ("https://localhost", True)):
        console = Console(app.test_client())
        page = console.client.get("/admin/login", base_url=base)
        token = csrf_token_in(page.get_data(as_text=True))
        response = console.client.post(
            "/admin/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token},
            base_url=base,
            # Over https, the CSRF check also wants a same-site Referer, as browsers send.
            headers={"Referer": f"{base}/admin/login"},
        )
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("feedback_console=")
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_deactivating_a_user_ends_their_open_session(app: Flask) -> None:
    admin = signed_in(app, Role.admin)
    editor = signed_in(app, Role.editor)
    assert editor.get("/admin/account").status_code == 200
    with app.app_context():
        editor_id = next(u.id for u in admin_users.list_users() if u.role is Role.editor)
    response = admin.post(f"/admin/users/{editor_id}", {"role": "editor"})
    assert response.status_code == 302
    assert editor.get("/admin/account").status_code == 302


def test_changing_a_password_ends_the_other_sessions_only(app: Flask) -> None:
    email = make_user(app, Role.viewer)
    here, elsewhere = anonymous(app), anonymous(app)
    here.login(email)
    elsewhere.login(email)
    new = "a brand new passphrase"
    response = here.post("/admin/account", {"password": new, "confirm": new})
    assert response.status_code == 302
    assert here.get("/admin/account").status_code == 200
    assert elsewhere.get("/admin/account").status_code == 302
    assert anonymous(app).login(email, new).status_code == 302


@pytest.mark.parametrize("role", [Role.viewer, Role.editor])
def test_only_admins_manage_users_and_projects(app: Flask, role: Role, sql: Sql) -> None:
    console = signed_in(app, role)
    assert console.get("/admin/users").status_code == 403
    response = console.post(
        "/admin/users",
        {"email": "new@example.com", "role": "admin", "password": "long enough password"},
    )
    assert response.status_code == 403
    assert console.post("/admin/projects/new", {"name": "X", "timezone": "UTC"}).status_code == 403
    assert sql("SELECT count(*) FROM admin_user") == [(1,)]
    assert sql("SELECT count(*) FROM project") == [(0,)]


def test_admins_add_users_who_can_then_sign_in(app: Flask, sql: Sql) -> None:
    admin = signed_in(app, Role.admin)
    response = admin.post(
        "/admin/users",
        {"email": "Eve@Example.com", "name": "Eve", "role": "editor", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert sql("SELECT email, name, role, active FROM admin_user WHERE email LIKE 'eve%'") == [
        ("eve@example.com", "Eve", "editor", 1)
    ]
    assert anonymous(app).login("eve@example.com").status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "admin@example.com", "role": "viewer", "password": PASSWORD}, "already has"),
        ({"email": "x@example.com", "role": "viewer", "password": "short"}, "at least 12"),
        ({"email": "not-an-address", "role": "viewer", "password": PASSWORD}, "email address"),
        ({"email": "x@example.com", "role": "owner", "password": PASSWORD}, "Not a valid choice"),
    ],
)
def test_adding_a_bad_user_explains_and_changes_nothing(
    app: Flask,
    sql,
    data: dict[str, str],
    message: str,
) -> None:
    admin = signed_in(app, Role.admin)
    response = admin.post("/admin/users", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert sql("SELECT count(*) FROM admin_user") == [(1,)]


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app: Flask, sql: Sql) -> None:
    admin = signed_in(app, Role.admin)
    [(admin_id,)] = sql("SELECT id FROM admin_user")
    response = admin.post(f"/admin/users/{admin_id}", {"role": "viewer", "active": "y"})
    assert response.status_code == 302
    assert "at least one active admin" in admin.get("/admin/users").get_data(as_text=True)
    assert sql("SELECT role, active FROM admin_user") == [("admin", 1)]


def test_user_data_is_escaped(app: Flask) -> None:
    admin = signed_in(app, Role.admin)
    admin.post(
        "/admin/users",
        {
            "email": "x@example.com",
            "name": "<script>alert(1)</script>",
            "role": "viewer",
            "password": PASSWORD,
        },
    )
    html = admin.get("/admin/users").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


# --- first run -----------------------------------------------------------------------------


def setup_token(app: Flask) -> str:
    with app.app_context():
        token = admin_users.issue_setup_token()
    assert token is not None
    return token


def test_the_setup_link_creates_the_first_admin_once(app: Flask, sql: Sql) -> None:
    token = setup_token(app)
    console = anonymous(app)
    page = console.get(f"/admin/setup/{token}")
    assert page.status_code == 200
    response = console.client.post(
        f"/admin/setup/{token}",
        data={
            "email": "Owner@Example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": csrf_token_in(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/projects"
    assert console.get("/admin/projects").status_code == 200
    assert sql("SELECT email, role FROM admin_user") == [("owner@example.com", "admin")]
    assert sql("SELECT count(*) FROM setup_token") == [(0,)]
    assert anonymous(app).get(f"/admin/setup/{token}").status_code == 404


def test_no_setup_link_once_a_user_exists(app: Flask) -> None:
    make_user(app, Role.viewer)
    with app.app_context():
        assert admin_users.issue_setup_token() is None


def test_a_new_setup_link_replaces_the_old_one(app: Flask) -> None:
    old, new = setup_token(app), setup_token(app)
    assert anonymous(app).get(f"/admin/setup/{old}").status_code == 404
    assert anonymous(app).get(f"/admin/setup/{new}").status_code == 200


def test_an_expired_setup_link_is_refused(app: Flask, sql: Sql) -> None:
    token = setup_token(app)
    past = (datetime.now(UTC) - timedelta(seconds=1)).replace(tzinfo=None).isoformat(sep=" ")
    sql("UPDATE setup_token SET expires_at = ?", (past,))
    assert anonymous(app).get(f"/admin/setup/{token}").status_code == 404


def test_a_setup_form_with_a_short_password_creates_nobody(app: Flask, sql: Sql) -> None:
    token = setup_token(app)
    console = anonymous(app)
    page = console.get(f"/admin/setup/{token}")
    response = console.client.post(
        f"/admin/setup/{token}",
        data={
            "email": "owner@example.com",
            "password": "short",
            "confirm": "short",
            "csrf_token": csrf_token_in(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 400
    assert "at least 12" in response.get_data(as_text=True)
    assert sql("SELECT count(*) FROM admin_user") == [(0,)]


# --- rate limits ---------------------------------------------------------------------------


@pytest.fixture
def limited_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_ADMIN_LOGIN="3 per minute",
    )


def test_sign_in_attempts_are_limited_per_client(limited_app: Flask) -> None:
    email = make_user(limited_app, Role.viewer)
    console = anonymous(limited_app)
    statuses = [console.login(email, "wrong password!").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    blocked = console.login(email)
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers
    assert "<html" in blocked.get_data(as_text=True)


def test_sign_in_attempts_are_limited_per_account_across_addresses(limited_app: Flask) -> None:
    email = make_user(limited_app, Role.viewer)
    statuses = [
        anonymous(limited_app, REMOTE_ADDR=f"10.0.0.{n}")
        .login(email, "wrong password!")
        .status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    other = make_user(limited_app, Role.editor)
    assert anonymous(limited_app, REMOTE_ADDR="10.0.1.1").login(other).status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        "/admin/projects/99999999999999999999999/",
        "/admin/projects/9223372036854775808/settings",
        "/admin/projects/1/channels/99999999999999999999/feedback",
        "/admin/projects/0/issues",
    ],
)
def test_ids_beyond_the_database_range_are_404(app: Flask, url: str) -> None:
    console = signed_in(app, Role.viewer)
    assert console.get(url).status_code == 404
