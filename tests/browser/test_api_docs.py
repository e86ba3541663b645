"""The /docs page in a real browser: Swagger UI from the app's own files renders every
operation of the document, with no request leaving the server and no CSP violation."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import Console, PageLog


def test_the_docs_page_renders_both_apis_from_local_files(
    page: Page, page_log: PageLog, console: Console
):
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    page.goto(console.url("/docs"))

    expect(page.get_by_role("heading", name="feedback_service")).to_be_visible()
    expect(page.locator(".opblock")).to_have_count(33)
    expect(page.get_by_text("Submit feedback", exact=True)).to_be_visible()
    expect(page.get_by_text("Search feedback (v2)", exact=True)).to_be_visible()
    page_log.assert_clean()
    assert console.url("/openapi.json") in requested
    assert {urlsplit(url).netloc for url in requested if not url.startswith("data:")} == {
        f"127.0.0.1:{console.port}"
    }
