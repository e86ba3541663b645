"""The console in a browser, as its users go through it, against one served console.

Tests share the module's server and its project ("Shop"); each tells its own data apart by
words and names no other test uses.
"""

from __future__ import annotations

import csv
import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    Console,
    PageLog,
    Shop,
    push_feedback,
)

# --- Signing in and out ----------------------------------------------------------------------


def test_wrong_password_then_right_one_then_sign_out(
    page: Page, page_log: PageLog, console: Console
):
    page.goto(console.url("/admin/projects"))
    expect(page).to_have_url(console.url("/admin/login?next=/admin/projects"))

    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(console.url("/admin/projects"))
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    expect(page.get_by_role("link", name=ADMIN_EMAIL)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(console.url("/admin/login"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto(console.url("/admin/projects"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page_log.assert_clean()


# --- Setting a project up: project, channel with fields, secret key --------------------------


def test_create_project_channel_fields_and_key(
    admin_page: Page, page_log: PageLog, console: Console
):
    page = admin_page
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill("Garden")
    page.get_by_label("Description").fill("Seeds & tools")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("status")).to_contain_text("Project Garden created.")
    project_id = int(re.findall(r"/admin/projects/(\d+)/", page.url)[0])

    page.get_by_role("link", name="New channel").click()
    page.get_by_label("Name").fill("web shop")
    page.get_by_role("button", name="Create channel").click()
    expect(page.get_by_role("status")).to_contain_text("Channel web shop created.")
    expect(page.get_by_role("heading", name="web shop")).to_be_visible()
    channel_id = int(re.findall(r"/channels/(\d+)", page.url)[0])

    add_field = page.locator("form", has=page.get_by_role("button", name="Add field"))
    add_field.get_by_label("Key").fill("message")
    add_field.get_by_label("Format").select_option("text")
    add_field.get_by_role("button", name="Add field").click()
    expect(page.get_by_role("status")).to_have_text("Field message added.")

    add_field.get_by_label("Key").fill("kind")
    add_field.get_by_label("Format").select_option("select")
    add_field.get_by_label("Options").fill("bug\nidea")
    add_field.get_by_role("button", name="Add field").click()
    expect(page.get_by_role("status")).to_have_text("Field kind added.")

    fields = page.locator("table").filter(has=page.get_by_role("columnheader", name="Format"))
    expect(fields.get_by_role("row").filter(has_text="message")).to_contain_text("text")
    kind_row = fields.get_by_role("row").filter(has_text="kind")
    expect(kind_row).to_contain_text("select")
    expect(kind_row).to_contain_text("bug")
    expect(kind_row).to_contain_text("idea")

    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Keys").click()
    page.get_by_role("button", name="Create API key").click()
    expect(page.get_by_role("status")).to_contain_text("it will not be shown again")
    key = page.locator("[data-secret]").inner_text().strip()
    assert key

    # The key shown is the real thing: the integration API takes it.
    path = f"/api/projects/{project_id}/channels/{channel_id}/feedbacks"
    created = console.api(key).post(path, {"message": "from the new key", "kind": "idea"})
    assert created.status == 201, created
    assert console.api(key + "x").post(path, {"message": "forged"}).status == 403

    # Shown once: the keys page lists it by its prefix only.
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Keys").click()
    keys = page.get_by_role("table").first.locator("tbody").get_by_role("row")
    expect(keys).to_have_count(1)
    prefix = keys.get_by_role("cell").first.inner_text().removesuffix("…")
    assert prefix and key.startswith(prefix) and prefix != key
    expect(page.get_by_text(key)).to_have_count(0)
    page_log.assert_clean()


def test_add_field_form_labels_its_own_inputs(
    admin_page: Page, page_log: PageLog, console: Console, shop: Shop
):
    """The channel page holds two forms with a Name and a Description: each label must name
    the input of its own form."""
    page = admin_page
    page.goto(console.url(f"/admin/projects/{shop.project_id}/channels/{shop.channel_id}"))
    add_field = page.locator("form", has=page.get_by_role("button", name="Add field"))
    add_field.get_by_label("Key").fill("answer")
    add_field.get_by_label("Name", exact=True).fill("Our answer")
    add_field.get_by_label("Description", exact=True).fill("What the team replied")
    add_field.get_by_label("Format").select_option("text")
    add_field.get_by_role("button", name="Add field").click()
    expect(page.get_by_role("status")).to_have_text("Field answer added.")
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="answer", exact=True))
    expect(row.get_by_role("cell", name="Our answer", exact=True)).to_be_visible()
    page_log.assert_clean()


def test_saving_image_settings_unchanged_keeps_them(
    admin_page: Page, page_log: PageLog, console: Console, shop: Shop
):
    page = admin_page
    page.goto(console.url(f"/admin/projects/{shop.project_id}/channels/{shop.channel_id}"))
    hosts = page.get_by_label("Allowed image hosts (one per line; none allows any)")
    expect(hosts).to_have_value("")
    page.get_by_role("button", name="Save image settings").click()
    expect(page.get_by_role("status")).to_have_text("Image settings saved.")
    expect(hosts).to_have_value("")
    page_log.assert_clean()


# --- Feedback pushed through the integration API: found, linked, exported --------------------


def open_feedback(page: Page, console: Console, shop: Shop) -> None:
    """Projects → the project → Feedback (its first channel)."""
    page.goto(console.url("/admin/projects"))
    page.get_by_role("link", name="Shop", exact=True).click()
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Feedback").click()
    expect(page.get_by_role("heading", name="Feedback", level=1)).to_be_visible()


def filter_by_text(page: Page, text: str) -> None:
    # The shortcut lives in a deferred script, which runs just before DOMContentLoaded: a
    # key pressed as soon as the heading shows can come first.
    page.wait_for_load_state("domcontentloaded")
    page.keyboard.press("/")  # the console's shortcut to the search box
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
    page.keyboard.type(text)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value(text)


def data_rows(page: Page) -> Locator:
    return page.get_by_role("table").locator("tbody").get_by_role("row")


def header_names(page: Page) -> list[str]:
    names = page.get_by_role("table").get_by_role("columnheader").all_inner_texts()
    return [re.sub(r"\s*[↑↓]$", "", name.strip()) for name in names]


def test_pushed_feedback_is_found_by_its_text(
    admin_page: Page, page_log: PageLog, console: Console, shop: Shop
):
    wanted = push_feedback(console, shop, message="The basket forgets my umbrella", kind="bug")
    push_feedback(console, shop, message="Umbrellas should come in green", kind="idea")
    push_feedback(console, shop, message="Checkout is slow on Mondays", kind="bug")

    open_feedback(admin_page, console, shop)
    filter_by_text(admin_page, "forgets my umbrella")

    rows = data_rows(admin_page)
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("The basket forgets my umbrella")
    expect(rows.get_by_role("link", name=str(wanted), exact=True)).to_be_visible()
    page_log.assert_clean()


def test_csv_export_holds_the_filtered_rows(
    admin_page: Page, page_log: PageLog, console: Console, shop: Shop
):
    first = push_feedback(console, shop, message="Parrot mode please", kind="idea")
    second = push_feedback(console, shop, message="The parrot squawks twice", kind="bug")
    push_feedback(console, shop, message="Cats are fine", kind="idea")

    page = admin_page
    open_feedback(page, console, shop)
    filter_by_text(page, "parrot")
    expect(data_rows(page)).to_have_count(2)
    shown = header_names(page)

    with page.expect_download() as started:
        page.get_by_role("link", name="Export CSV").click()
    download = started.value
    assert re.fullmatch(r"Shop_web_feedback_\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        header, *rows = list(csv.reader(file))

    assert header == shown
    by_id = {int(row[header.index("ID")]): dict(zip(header, row, strict=True)) for row in rows}
    assert sorted(by_id) == [first, second]
    assert by_id[first]["message"] == "Parrot mode please"
    assert by_id[first]["kind"] == "idea"
    assert by_id[second]["message"] == "The parrot squawks twice"
    assert by_id[second]["kind"] == "bug"
    page_log.assert_clean()


def test_link_a_new_issue_from_the_feedback_page(
    admin_page: Page, page_log: PageLog, console: Console, shop: Shop
):
    feedback_id = push_feedback(console, shop, message="Search ignores accents", kind="bug")

    page = admin_page
    open_feedback(page, console, shop)
    filter_by_text(page, "ignores accents")
    data_rows(page).get_by_role("link", name=str(feedback_id), exact=True).click()
    expect(page.get_by_role("heading", name=f"Feedback {feedback_id}")).to_be_visible()

    issues = page.get_by_role("region", name="Issues")
    expect(issues).to_contain_text("Not linked to any issue.")
    issues.get_by_label("New issue").fill("Accent folding")
    issues.get_by_role("button", name="Create and link").click()
    expect(page.get_by_role("status")).to_have_text("Issue Accent folding created and linked.")
    expect(issues.get_by_role("listitem")).to_have_count(1)
    expect(issues.get_by_role("listitem")).to_contain_text("Accent folding")

    stored = console.api(shop.key).get(f"{shop.feedbacks_path}/{feedback_id}")
    assert stored.status == 200, stored
    assert [issue["name"] for issue in stored.json()["issues"]] == ["Accent folding"]

    # The issue's own page lists the feedback.
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Issues").click()
    page.get_by_role("link", name="Accent folding", exact=True).click()
    expect(page.get_by_role("link", name=f"#{feedback_id}", exact=True)).to_be_visible()
    page_log.assert_clean()


# --- The issues kanban -----------------------------------------------------------------------


def create_issue(console: Console, shop: Shop, name: str) -> int:
    reply = console.api(shop.key).post(f"/api/projects/{shop.project_id}/issues", {"name": name})
    assert reply.status == 201, reply
    return int(reply.json()["id"])


def issue_status(console: Console, shop: Shop, issue_id: int) -> str:
    reply = console.api(shop.key).get(f"/api/projects/{shop.project_id}/issues/{issue_id}")
    assert reply.status == 200, reply
    return str(reply.json()["status"])


def column(page: Page, label: str) -> Locator:
    return page.get_by_role("region", name=re.compile(rf"^{label}\b"))


def card(where: Locator, name: str) -> Locator:
    return where.locator(".kanban-card").filter(
        has=where.page.get_by_role("link", name=name, exact=True)
    )


def test_drag_a_card_and_move_another_with_the_keyboard(
    admin_page: Page, page_log: PageLog, console: Console, shop: Shop
):
    page = admin_page
    dragged = create_issue(console, shop, "Checkout is slow")
    keyed = create_issue(console, shop, "Dark mode")
    page.goto(console.url(f"/admin/projects/{shop.project_id}/issues/board"))
    init, on_review, in_progress = (
        column(page, label) for label in ("Init", "On review", "In progress")
    )
    expect(card(init, "Checkout is slow")).to_be_visible()
    expect(card(init, "Dark mode")).to_be_visible()

    card(init, "Checkout is slow").drag_to(in_progress)
    expect(card(in_progress, "Checkout is slow")).to_be_visible()
    expect(card(init, "Checkout is slow")).to_have_count(0)

    card(init, "Dark mode").focus()
    page.keyboard.press("ArrowRight")
    expect(card(on_review, "Dark mode")).to_be_visible()
    # The card keeps the focus, so the next arrow press moves it on.
    expect(card(on_review, "Dark mode")).to_be_focused()
    expect(page.locator("[data-kanban-announce]")).to_have_text("Dark mode moved to On review.")

    page.reload()
    expect(card(in_progress, "Checkout is slow")).to_be_visible()
    expect(card(on_review, "Dark mode")).to_be_visible()
    expect(card(init, "Checkout is slow")).to_have_count(0)
    expect(card(init, "Dark mode")).to_have_count(0)
    assert issue_status(console, shop, dragged) == "IN_PROGRESS"
    assert issue_status(console, shop, keyed) == "ON_REVIEW"
    page_log.assert_clean()


# --- The Content Security Policy -------------------------------------------------------------


def test_the_page_log_sees_a_csp_violation(page: Page, page_log: PageLog, console: Console):
    """The check below would see a violation: an inline style is refused and reported."""
    page.goto(console.url("/admin/login"))
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(
            "document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')"
        )
    assert len(page_log.csp_violations()) == 1


def test_no_page_of_the_console_breaks_the_csp(
    admin_page: Page, page_log: PageLog, console: Console, shop: Shop
):
    """Every kind of console page, reached by its links, with data on it."""
    feedback_id = push_feedback(console, shop, message="<b>bold</b> & 'quoted'", kind="idea")
    create_issue(console, shop, "CSP")

    page = admin_page
    project_nav = page.get_by_role("navigation", name="Project")
    settings_tabs = page.get_by_role("navigation", name="Settings")

    def visit(link: str, heading: str | re.Pattern[str], where: Page | Locator = page) -> None:
        before = page.url
        where.get_by_role("link", name=link, exact=True).click()
        page.wait_for_url(lambda url: url != before)
        exact = isinstance(heading, str)
        expect(page.get_by_role("heading", name=heading, exact=exact).first).to_be_visible()

    visit("Shop", "Dashboard")
    visit("Feedback", "Feedback", project_nav)
    visit(str(feedback_id), f"Feedback {feedback_id}")
    visit("Issues", "Issues", project_nav)
    visit("Board", "Issue board")
    visit("CSP", "Issue CSP")
    visit("Categories", "Categories")
    visit("New issue", "New issue")
    visit("Settings", "Settings", project_nav)
    visit("Channels", "Settings", settings_tabs)
    visit("web", re.compile(r"^web\b"))
    visit("Edit message", re.compile(r"^Field message\b"))
    visit("Keys", "Secret API keys", settings_tabs)
    visit("Users", "Users")
    visit(ADMIN_EMAIL, "Your account")

    assert page_log.failed_pages == []
    page_log.assert_clean()
