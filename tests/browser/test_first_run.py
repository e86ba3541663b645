"""First run: ``serve`` on a database without users prints a one-time link to create the admin."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Console, PageLog, console_cli, serve_console
from tests.databases import TestDatabase


@pytest.fixture(scope="module")
def console(
    tmp_path_factory: pytest.TempPathFactory, migrated_template: TestDatabase
) -> Iterator[Console]:
    """A console without any user."""
    cli = console_cli(tmp_path_factory.mktemp("first-run"), migrated_template)
    with serve_console(cli) as served:
        yield served


def setup_link(console: Console) -> str:
    prefix = re.escape(console.url("/admin/setup/"))
    found = re.findall(prefix + r"\S+", console.log())
    assert len(found) == 1, console.log()
    return found[0]


def test_setup_link_creates_the_first_admin_once(page: Page, page_log: PageLog, console: Console):
    link = setup_link(console)

    page.goto(link)
    expect(page.get_by_role("heading", name="Create the first admin")).to_be_visible()
    page.get_by_label("Email").fill("first@example.com")
    page.get_by_label("Name").fill("First Admin")
    page.get_by_label("Password", exact=True).fill("a long first password")
    page.get_by_label("Repeat password").fill("a long first password")
    page.get_by_role("button", name="Create admin").click()

    expect(page).to_have_url(console.url("/admin/projects"))
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your admin account is ready")
    expect(page.get_by_role("link", name="first@example.com")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    response = page.goto(link)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name=re.compile("404"))).to_be_visible()
    expect(page.get_by_role("heading", name="Create the first admin")).to_have_count(0)
    page_log.assert_clean()
