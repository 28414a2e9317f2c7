"""Two devices of one account, in real headless Chromium, against the local server and real Postgres.

Each device is its own browser context (its own IndexedDB and session cookie) showing the demo
editor; they only meet through the server.
"""

import json
import re

from playwright.sync_api import Route, expect

from tests.e2e.editor_page import SYNC_TIMEOUT_MS

# Every route the sync engine talks to: the changes feed and batches, and the per-project routes.
SYNC_ROUTES = ("**/api/changes**", "**/api/projects**")


def test_created_on_one_device_appears_on_the_other(open_device, email):
    laptop, phone = open_device(), open_device()
    laptop.sign_in(email)
    project_id = laptop.create_project("Holiday plan", "Pack the tent")
    laptop.expect_synced()

    phone.sign_in(email)
    phone.expect_synced()
    phone.open_project("Holiday plan")
    expect(phone.text).to_have_value("Pack the tent")
    assert phone.project_id("Holiday plan") == project_id


def test_edited_on_the_other_device_comes_back(open_device, email):
    laptop, phone = open_device(), open_device()
    laptop.sign_in(email)
    laptop.create_project("Shared notes", "first draft")
    laptop.expect_synced()
    phone.sign_in(email)
    phone.open_project("Shared notes")

    phone.edit_text("second draft, from the phone")
    phone.expect_synced()

    laptop.sync_now()
    expect(laptop.text).to_have_value("second draft, from the phone", timeout=SYNC_TIMEOUT_MS)
    laptop.expect_synced()


def _both_edit_offline(open_device, email):
    """Laptop and phone share a project, go offline, edit it differently; the laptop syncs first."""
    laptop, phone = open_device(), open_device()
    laptop.sign_in(email)
    project_id = laptop.create_project("Contested", "common ancestor")
    laptop.expect_synced()
    phone.sign_in(email)
    phone.open_project("Contested")
    phone.expect_synced()

    laptop.context.set_offline(True)
    phone.context.set_offline(True)
    laptop.edit_text("laptop's offline version")
    phone.edit_text("phone's offline version")

    laptop.context.set_offline(False)
    laptop.sync_now()
    laptop.expect_synced()
    phone.context.set_offline(False)  # the browser's `online` event starts the sync
    expect(phone.conflict_dialog).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    expect(phone.page.get_by_test_id("conflict-mine")).to_have_text("phone's offline version")
    expect(phone.page.get_by_test_id("conflict-theirs")).to_have_text("laptop's offline version")
    expect(phone.status).to_have_text("Sync error")
    expect(phone.project_state("Contested")).to_have_text("conflict")
    return laptop, phone, project_id


def test_offline_edits_on_both_devices_keep_mine_pushes_the_second_devices_version(open_device, email):
    laptop, phone, project_id = _both_edit_offline(open_device, email)

    phone.keep_mine()
    phone.expect_synced()
    assert phone.server_copy(project_id)["data"] == {"text": "phone's offline version"}

    laptop.sync_now()
    expect(laptop.text).to_have_value("phone's offline version", timeout=SYNC_TIMEOUT_MS)


def test_offline_edits_on_both_devices_take_theirs_keeps_the_first_devices_version(open_device, email):
    laptop, phone, project_id = _both_edit_offline(open_device, email)
    revision_before = phone.server_copy(project_id)["revision"]

    phone.take_theirs()
    phone.expect_synced()
    expect(phone.text).to_have_value("laptop's offline version")
    server = phone.server_copy(project_id)
    assert server["data"] == {"text": "laptop's offline version"}
    assert server["revision"] == revision_before + 2, "this device's version, then theirs on top of it"
    kept = phone.context.request.get(f"/api/projects/{project_id}/revisions/{revision_before + 1}").json()
    assert kept["data"] == {"text": "phone's offline version"}, "this device's version stays in the history"
    laptop.sync_now()
    laptop.expect_synced()
    expect(laptop.text).to_have_value("laptop's offline version")


def test_deleted_on_one_device_disappears_from_the_other(open_device, email):
    laptop, phone = open_device(), open_device()
    laptop.sign_in(email)
    project_id = laptop.create_project("Short-lived", "delete me")
    laptop.create_project("Keeper", "stay")
    laptop.expect_synced()
    phone.sign_in(email)
    expect(phone.project_item("Short-lived")).to_be_visible(timeout=SYNC_TIMEOUT_MS)

    laptop.open_project("Short-lived")
    laptop.delete_open_project()
    expect(laptop.project_item("Short-lived")).to_have_count(0)
    laptop.expect_synced()
    assert laptop.server_copy(project_id)["deletedAt"]

    phone.sync_now()
    expect(phone.project_item("Short-lived")).to_have_count(0, timeout=SYNC_TIMEOUT_MS)
    expect(phone.project_item("Keeper")).to_be_visible()


def test_offline_edit_survives_a_reload_and_syncs_when_back_online(open_device, email):
    laptop, phone = open_device(), open_device()
    laptop.sign_in(email)
    project_id = laptop.create_project("Travel log", "day one")
    laptop.expect_synced()

    laptop.context.set_offline(True)
    laptop.edit_text("day two, written on the train")
    expect(laptop.status).to_have_text("Sync error", timeout=SYNC_TIMEOUT_MS)
    expect(laptop.status_detail).to_contain_text("You are offline or the server cannot be reached")
    expect(laptop.project_state("Travel log")).to_have_text("pending")

    # Reload while the API is still unreachable (the page itself must load to be reloaded).
    def unreachable(route: Route) -> None:
        route.abort("internetdisconnected")

    for sync_routes in SYNC_ROUTES:
        laptop.context.route(sync_routes, unreachable)
    laptop.context.set_offline(False)
    laptop.reload()
    assert "beforeunload" in laptop.dialogs, "leaving with unsynced edits warns first"
    laptop.open_project("Travel log")
    expect(laptop.text).to_have_value("day two, written on the train")
    expect(laptop.project_state("Travel log")).to_have_text("pending", timeout=SYNC_TIMEOUT_MS)

    for sync_routes in SYNC_ROUTES:
        laptop.context.unroute(sync_routes, unreachable)
    laptop.page.evaluate("window.dispatchEvent(new Event('online'))")
    laptop.expect_synced()
    assert laptop.server_copy(project_id)["data"] == {"text": "day two, written on the train"}

    phone.sign_in(email)
    phone.open_project("Travel log")
    expect(phone.text).to_have_value("day two, written on the train")


def _fail_first_write_with(status: int, retry_after_seconds: int):
    """A route handler answering the first write (a batch or a PUT) with `status` + Retry-After, then
    letting requests through."""
    failed = []

    def handle(route: Route) -> None:
        if route.request.method in ("POST", "PUT") and not failed:
            failed.append(route.request.url)
            route.fulfill(
                status=status,
                headers={"Retry-After": str(retry_after_seconds), "Content-Type": "application/json"},
                body=json.dumps({"error": {"code": "injected", "message": "Injected by the test"}}),
            )
        else:
            route.continue_()

    return handle, failed


def test_a_429_and_a_503_are_retried_and_the_status_shows_it(open_device, email):
    laptop = open_device()
    laptop.sign_in(email)
    project_id = laptop.create_project("Busy server", "v1")
    laptop.expect_synced()

    for status, wording in ((429, "The server is busy with too many changes"), (503, "The server is unavailable")):
        handler, failed = _fail_first_write_with(status, retry_after_seconds=2)
        for sync_routes in SYNC_ROUTES:
            laptop.page.route(sync_routes, handler)
        laptop.edit_text(f"after a {status}")
        expect(laptop.status).to_have_text("Sync error", timeout=SYNC_TIMEOUT_MS)
        expect(laptop.status_detail).to_have_text(re.compile(rf"^{wording}.*, retrying in 2s$"))
        laptop.expect_synced()
        assert failed, f"the injected {status} was served"
        assert laptop.server_copy(project_id)["data"] == {"text": f"after a {status}"}
        for sync_routes in SYNC_ROUTES:
            laptop.page.unroute(sync_routes, handler)


def test_sign_out_keeps_projects_and_shows_saved_locally(open_device, email):
    laptop = open_device()
    laptop.sign_in(email)
    laptop.create_project("Mine to keep", "kept after sign-out")
    laptop.expect_synced()

    laptop.sign_out()
    expect(laptop.status).to_have_text("Saved locally")
    expect(laptop.project_item("Mine to keep")).to_be_visible()
    laptop.open_project("Mine to keep")
    laptop.edit_text("edited while signed out")
    expect(laptop.status).to_have_text("Saved locally")

    laptop.reload()
    expect(laptop.status).to_have_text("Saved locally")
    laptop.open_project("Mine to keep")
    expect(laptop.text).to_have_value("edited while signed out")


def test_projects_made_while_signed_out_are_claimed_at_sign_in(open_device, email):
    laptop, phone = open_device(), open_device()
    first = laptop.create_project("Made before sign-in", "anonymous work")
    second = laptop.create_project("Also made before", "more anonymous work")
    expect(laptop.status).to_have_text("Saved locally")

    laptop.sign_in(email)
    laptop.expect_synced()
    assert laptop.server_copy(first)["data"] == {"text": "anonymous work"}
    assert laptop.server_copy(second)["revision"] == 1

    phone.sign_in(email)
    expect(phone.project_item("Made before sign-in")).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    expect(phone.project_item("Also made before")).to_be_visible()


def test_two_tabs_of_one_browser_share_one_sync_and_its_status(open_device, email):
    first_tab = open_device()
    first_tab.sign_in(email)
    first_tab.expect_synced()
    second_tab = type(first_tab).open(first_tab.context)
    expect(second_tab.page.get_by_test_id("user-email")).to_have_text(email)
    writes = {first_tab: [], second_tab: []}

    def recorder(sent: list):
        def record(request) -> None:
            if request.method in ("PUT", "POST") and ("/api/projects/" in request.url or "/api/changes" in request.url):
                sent.append(request.url)

        return record

    for tab, sent in writes.items():
        tab.page.on("request", recorder(sent))

    second_tab.create_project("From the second tab", "typed in tab two")
    second_tab.expect_synced()
    first_tab.expect_synced()
    expect(first_tab.project_item("From the second tab")).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    server = second_tab.server_copy(second_tab.project_id("From the second tab"))
    assert server["data"] == {"text": "typed in tab two"}
    # Only the syncing tab talks to the server, and each of its pushes made one revision: the
    # creation and the typing coalesce into one or two pushes, depending on the commit pause.
    assert writes[second_tab] == [], "the tab that does not sync sent no write"
    assert server["revision"] == len(writes[first_tab]) >= 1
