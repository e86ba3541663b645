"""Browser tests: Debian's chromium, driven by Playwright, against ``feedback-service serve``.

One server per test module (on its own migrated SQLite file and instance folder, rate limits
off), one browser per test process, a fresh browser context (no cookies) per test. A failing
test that used ``page`` leaves a screenshot in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Response,
    expect,
    sync_playwright,
)

from tests.cli_runner import CONSOLE_SCRIPT, Cli
from tests.databases import TestDatabase
from tests.served import LIMITS_OFF, Api
from tests.test_e2e_serve import GRACEFUL_TIMEOUT, STARTUP_TIMEOUT, HttpClient, Server, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Headless-safe flags. The machine has no outside network: without the background-networking
# flags chromium keeps trying (and failing) to reach Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"
ACTION_TIMEOUT_MS = 10_000


# --- the served console ------------------------------------------------------------------------


@dataclass
class Console:
    """A served ``feedback-service`` and the command line on its database."""

    cli: Cli
    port: int
    server: Server
    # The project made with the command line before serving, if any.
    shop: Shop | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log(self) -> str:
        return self.server.log.read_text()

    def api(self, key: str) -> Api:
        return Api(self.port, key)

    def wait_for_worker(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "Booting worker with pid" not in self.log():
            assert time.monotonic() < deadline, f"no worker booted:\n{self.log()}"
            assert self.server.process.poll() is None, f"server exited early:\n{self.log()}"
            time.sleep(0.05)

    def stop(self) -> None:
        process = self.server.process
        self.server.stop()
        try:
            process.wait(timeout=GRACEFUL_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def console_cli(directory: Path, migrated: TestDatabase) -> Cli:
    """The command line on a copy of the ``migrated`` (empty) database in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    return Cli(directory / "instance", migrated.clone(directory, "console"))


@contextmanager
def serve_console(cli: Cli) -> Iterator[Console]:
    """Serve ``cli``'s database and instance folder until the block ends."""
    directory = cli.instance.parent
    port = free_port()
    log = directory / "server.log"
    command = [str(CONSOLE_SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1", "--threads", "8"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env={**cli.env, **LIMITS_OFF},
            cwd=directory,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    console = Console(cli, port, Server(process, log, HttpClient(port)))
    try:
        console.server.wait_until_healthy()
        # A SIGTERM that reaches gunicorn while it forks can be lost (see tests/served.py).
        console.wait_for_worker()
        yield console
    finally:
        console.stop()


@pytest.fixture(scope="module")
def console(
    tmp_path_factory: pytest.TempPathFactory, migrated_template: TestDatabase
) -> Iterator[Console]:
    """A served console with one admin (``ADMIN_EMAIL``) and the project "Shop".

    Modules may override it.
    """
    cli = console_cli(tmp_path_factory.mktemp("console"), migrated_template)
    # Each command line run starts the whole app: these run while the server starts.
    with ThreadPoolExecutor(max_workers=2) as pool:
        admin = pool.submit(cli.create_user, ADMIN_EMAIL, ADMIN_PASSWORD)
        shop = pool.submit(make_shop, cli, "Shop")
        with serve_console(cli) as served:
            admin.result()
            served.shop = shop.result()
            yield served


# --- a project made with the command line ------------------------------------------------------


@dataclass(frozen=True)
class Shop:
    """A project with a channel (``message`` text, ``kind`` select) and a secret key."""

    project_id: int
    channel_id: int
    key: str

    @property
    def feedbacks_path(self) -> str:
        return f"/api/projects/{self.project_id}/channels/{self.channel_id}/feedbacks"


def make_shop(cli: Cli, name: str) -> Shop:
    project = str(cli.json("create-project", "--name", name)["id"])
    fields = ("--field", "message:text", "--field", "kind:select:bug|idea")
    with ThreadPoolExecutor(max_workers=2) as pool:
        channel = pool.submit(
            cli.json, "create-channel", "--project", project, "--name", "web", *fields
        )
        key = pool.submit(cli.json, "create-api-key", "--project", project)
        return Shop(int(project), int(channel.result()["id"]), str(key.result()["key"]))


@pytest.fixture
def shop(console: Console) -> Shop:
    """The console's project; tests tell their data apart by words no other test uses."""
    assert console.shop is not None, "this module's console has no project"
    return console.shop


def push_feedback(console: Console, shop: Shop, **values: Any) -> int:
    """Create a feedback through the integration API; its id."""
    reply = console.api(shop.key).post(shop.feedbacks_path, values)
    assert reply.status == 201, reply
    return int(reply.json()["id"])


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM_PATH, os.X_OK):
        pytest.skip(f"no chromium at {CHROMIUM_PATH}: run scripts/ensure-chromium.sh")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class PageLog:
    """What the pages of one test wrote to the browser console, uncaught script errors, and
    pages (documents) that answered with an error status."""

    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed_pages: list[str] = field(default_factory=list)

    def on_response(self, response: Response) -> None:
        if response.request.resource_type == "document" and response.status >= 400:
            self.failed_pages.append(f"{response.status} {response.url}")

    def on_console(self, message: ConsoleMessage) -> None:
        self.messages.append(f"{message.type}: {message.text}")

    def on_error(self, error: Error) -> None:
        self.errors.append(str(error))

    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if "content security policy" in m.lower()]

    def assert_clean(self) -> None:
        """No CSP violation and no uncaught script error on any page the test visited."""
        assert self.csp_violations() == []
        assert self.errors == []


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    fresh = browser.new_context(accept_downloads=True)
    fresh.set_default_timeout(ACTION_TIMEOUT_MS)
    yield fresh
    fresh.close()


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(context: BrowserContext, page_log: PageLog) -> Page:
    opened = context.new_page()
    opened.on("console", page_log.on_console)
    opened.on("pageerror", page_log.on_error)
    opened.on("response", page_log.on_response)
    return opened


def sign_in(page: Page, console: Console, email: str, password: str) -> None:
    page.goto(console.url("/admin/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture
def admin_page(page: Page, console: Console) -> Page:
    """``page``, signed in as the module's admin."""
    sign_in(page, console, ADMIN_EMAIL, ADMIN_PASSWORD)
    return page


# --- screenshots of failures -------------------------------------------------------------------


def screenshot_path(nodeid: str) -> Path:
    return SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', nodeid).strip('_')}.png"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    funcargs = getattr(item, "funcargs", {})
    opened = funcargs.get("page")
    if report.failed and report.when in ("setup", "call") and isinstance(opened, Page):
        path = screenshot_path(item.nodeid)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            opened.screenshot(path=str(path), full_page=True)
        except Error as error:
            report.sections.append(("screenshot", f"could not take a screenshot: {error}"))
        else:
            print(f"\nscreenshot of the failure: {path}")
            report.sections.append(("screenshot", str(path)))
    return report
