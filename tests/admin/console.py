"""A signed-in console session over the Flask test client.

``Console.post`` adds the page's CSRF token, read from a rendered form as a browser would.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from feedback_service.models import Role
from feedback_service.services import admin_users
from feedback_service.services.admin_users import NewUser
from tests.helpers import Sql, database_rows

PASSWORD = "correct horse battery staple"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_in(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def make_user(app: Flask, role: Role, email: str | None = None) -> str:
    """Create a console user with ``PASSWORD``; return the address."""
    address = email or f"{role.value}@example.com"
    with app.app_context():
        admin_users.create_user(NewUser(email=address, password=PASSWORD, role=role))
    return address


class Console:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf_token(self) -> str:
        page = self.client.get("/admin/account")
        if page.status_code != 200:
            page = self.client.get("/admin/login")
        return csrf_token_in(page.get_data(as_text=True))

    def login(self, email: str, password: str = PASSWORD) -> TestResponse:
        token = csrf_token_in(self.client.get("/admin/login").get_data(as_text=True))
        return self.client.post(
            "/admin/login", data={"email": email, "password": password, "csrf_token": token}
        )

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        return self.client.post(
            url, data={**(data or {}), "csrf_token": self.csrf_token()}, **kwargs
        )


def signed_in(app: Flask, role: Role) -> Console:
    console = Console(app.test_client())
    response = console.login(make_user(app, role))
    assert response.status_code == 302, response.get_data(as_text=True)
    return console


def post_refused(
    console: Console, sql: Sql, url: str, data: dict[str, Any] | None = None
) -> TestResponse:
    """POST a request that must change nothing in the database; its response, to inspect."""
    before = database_rows(sql)
    response = console.post(url, data)
    assert database_rows(sql) == before, "a refused request changed the database"
    return response
