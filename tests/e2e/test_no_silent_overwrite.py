"""No edit is lost without a word, as people type: real key events at human speed, in Chromium.

Two devices are two browser contexts; two tabs are two pages of one context. Each sequence here
lost another device's or tab's edit, or a user's keystrokes, before the engine learned which copy
each commit was based on and the conflict panel stopped taking the keyboard.
"""

import re
import time

import psycopg
from playwright.sync_api import Route, expect

from tests.e2e.editor_page import SYNC_TIMEOUT_MS, EditorPage


def _shared_project(open_device, email: str, text: str) -> tuple[EditorPage, EditorPage, str]:
    """Laptop and phone signed in to one account, both showing one synced project."""
    laptop, phone = open_device(), open_device()
    laptop.sign_in(email)
    project_id = laptop.create_project("Shared", text)
    laptop.expect_synced()
    phone.sign_in(email)
    phone.open_project("Shared")
    phone.expect_synced()
    laptop.open_project("Shared")
    return laptop, phone, project_id


def _phone_adds_a_paragraph(phone: EditorPage, project_id: str) -> None:
    phone.type_at_end(" The phone's paragraph.")
    phone.wait_for_local_save()
    phone.expect_synced()
    assert "The phone's paragraph." in phone.server_copy(project_id)["data"]["text"]


def test_a_merge_while_typing_never_overwrites_the_other_devices_edit(open_device, email):
    laptop, phone, project_id = _shared_project(open_device, email, "Start.")
    _phone_adds_a_paragraph(phone, project_id)

    laptop.type_at_end(" The laptop's words")
    laptop.page.evaluate("window.dispatchEvent(new Event('online'))")  # a merge runs mid-typing
    laptop.type_at_end(" and more.")
    laptop.wait_for_local_save()

    expect(laptop.conflict_dialog).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    expect(laptop.page.get_by_test_id("conflict-theirs")).to_have_text("Start. The phone's paragraph.")
    expect(laptop.text).to_have_value("Start. The laptop's words and more.")
    assert laptop.server_copy(project_id)["data"]["text"] == "Start. The phone's paragraph.", "no silent overwrite"
    assert laptop.focused_test_id() == "project-text", "typing kept its focus"

    laptop.keep_mine()
    laptop.expect_synced()
    assert laptop.server_copy(project_id)["data"]["text"] == "Start. The laptop's words and more."
    assert laptop.page_errors == [] and phone.page_errors == []


def test_the_conflict_panel_never_takes_the_keyboard(open_device, email):
    laptop, phone, project_id = _shared_project(open_device, email, "Draft:")
    _phone_adds_a_paragraph(phone, project_id)

    # The laptop has not pulled: the push of its first commit meets the newer revision while its
    # user goes on typing, and the panel opens under their fingers.
    laptop.type_at_end(" word0")
    time.sleep(0.4)
    laptop.page.keyboard.type(" word1 word2 word3 word4 word5 word6", delay=90)
    expect(laptop.conflict_dialog).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    laptop.page.keyboard.type(" after the panel opened", delay=90)
    laptop.wait_for_local_save()

    expect(laptop.text).to_have_value("Draft: word0 word1 word2 word3 word4 word5 word6 after the panel opened")
    assert laptop.focused_test_id() == "project-text"
    expect(laptop.conflict_dialog).to_be_visible()
    server_text = laptop.server_copy(project_id)["data"]["text"]
    assert server_text == "Draft: The phone's paragraph.", "no key chose for the user"


def _expect_hidden_for(editor: EditorPage, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert not editor.conflict_dialog.is_visible(), "the answered conflict came back"
        editor.page.wait_for_timeout(50)


def _laptop_and_phone_in_conflict(open_device, email) -> tuple[EditorPage, EditorPage, str]:
    laptop, phone, project_id = _shared_project(open_device, email, "v1")
    for device in (laptop, phone):
        device.context.set_offline(True)
    laptop.edit_text("laptop's version")
    phone.edit_text("phone's version")
    laptop.context.set_offline(False)
    laptop.sync_now()
    laptop.expect_synced()
    phone.context.set_offline(False)
    expect(phone.conflict_dialog).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    return laptop, phone, project_id


def test_keep_mine_stays_answered_and_says_what_it_did(open_device, email):
    _, phone, project_id = _laptop_and_phone_in_conflict(open_device, email)

    phone.keep_mine()
    _expect_hidden_for(phone, 2.0)
    expect(phone.page.get_by_test_id("conflict-result")).to_have_text(re.compile("Kept this device's copy of “Shared”"))
    phone.expect_synced()
    assert phone.server_copy(project_id)["data"] == {"text": "phone's version"}


def test_take_theirs_stays_answered_and_shows_their_copy(open_device, email):
    _, phone, project_id = _laptop_and_phone_in_conflict(open_device, email)

    phone.take_theirs()
    _expect_hidden_for(phone, 2.0)
    result = phone.page.get_by_test_id("conflict-result")
    expect(result).to_have_text(re.compile("“Shared” now has the other device's copy"))
    expect(phone.text).to_have_value("laptop's version")
    phone.expect_synced()
    assert phone.server_copy(project_id)["data"] == {"text": "laptop's version"}


def test_a_conflict_answered_in_another_tab_closes_the_panel_here(open_device, email):
    _, phone, _ = _laptop_and_phone_in_conflict(open_device, email)
    other_tab = EditorPage.open(phone.context)
    expect(other_tab.conflict_dialog).to_be_visible(timeout=SYNC_TIMEOUT_MS)

    other_tab.take_theirs()
    expect(phone.conflict_dialog).to_be_hidden(timeout=SYNC_TIMEOUT_MS)
    expect(phone.text).to_have_value("laptop's version", timeout=SYNC_TIMEOUT_MS)


def test_two_tabs_typing_in_turn_lose_no_word(open_device, email):
    first_tab = open_device()
    first_tab.sign_in(email)
    first_tab.create_project("Two tabs", "")
    first_tab.expect_synced()
    second_tab = EditorPage.open(first_tab.context)
    second_tab.open_project("Two tabs")

    words = []
    for turn in range(8):
        for tab, who in ((first_tab, "one"), (second_tab, "two")):
            word = f"{who}{turn}"
            words.append(word)
            tab.type_at_end(f" {word}", delay_ms=40)
            time.sleep(0.15)
    for tab in (first_tab, second_tab):
        tab.wait_for_local_save()
    time.sleep(1.0)

    kept = " ".join(first_tab.local_texts())
    lost = [word for word in words if not re.search(rf"\b{word}\b", kept)]
    assert lost == [], f"lost {lost}; this browser keeps {first_tab.local_texts()}"
    assert first_tab.page_errors == [] and second_tab.page_errors == []


def test_one_failing_project_does_not_hold_back_the_others(open_device, email):
    laptop = open_device()
    laptop.sign_in(email)
    broken_id = laptop.create_project("Broken", "v1")
    healthy_id = laptop.create_project("Healthy", "v1")
    laptop.expect_synced()
    failures = []

    def fail_broken_writes(route: Route) -> None:
        # The broken project's batch (whole) and its own PUT: the engine then sends it alone.
        writes_broken = route.request.method == "PUT" or broken_id in (route.request.post_data or "")
        if route.request.method not in ("PUT", "POST") or not writes_broken:
            route.continue_()
            return
        failures.append(time.monotonic())
        route.fulfill(status=500, content_type="application/json", body='{"error": {"code": "internal"}}')

    laptop.page.route(f"**/api/projects/{broken_id}", fail_broken_writes)
    laptop.page.route("**/api/changes", fail_broken_writes)
    laptop.open_project("Broken")
    laptop.edit_text("v2 fails on the server")
    named = re.compile("^“Broken” could not sync: The server had a problem")
    expect(laptop.status_detail).to_have_text(named, timeout=SYNC_TIMEOUT_MS)
    expect(laptop.project_state("Broken")).to_have_text("retrying")
    deadline = time.monotonic() + 20
    while len(failures) < 4 and time.monotonic() < deadline:
        laptop.page.wait_for_timeout(100)  # Playwright runs the route handler only while it waits
    assert len(failures) >= 4, f"the broken project retried on its own: {len(failures)} attempts"

    laptop.open_project("Healthy")
    edited_at = time.monotonic()
    laptop.edit_text("v2 goes through")
    while laptop.server_copy(healthy_id)["data"]["text"] != "v2 goes through":
        assert time.monotonic() - edited_at < 3.0, "the healthy project waited for the broken one's backoff"
        laptop.page.wait_for_timeout(100)
    expect(laptop.project_state("Healthy")).to_have_text("synced", timeout=SYNC_TIMEOUT_MS)
    expect(laptop.project_state("Broken")).to_have_text("retrying")


def test_sign_out_and_sign_in_while_offline(open_device, email):
    laptop = open_device()
    laptop.sign_in(email)
    laptop.create_project("Offline account", "kept")
    laptop.expect_synced()

    laptop.context.set_offline(True)
    laptop.sign_out()
    expect(laptop.status).to_have_text("Saved locally")
    expect(laptop.project_item("Offline account")).to_be_visible()
    laptop.page.get_by_test_id("email").fill(email)
    laptop.page.get_by_test_id("sign-in").click()
    expect(laptop.page.get_by_test_id("sign-in-message")).to_have_text(re.compile("needs the network"))
    expect(laptop.status).to_have_text("Saved locally")

    laptop.context.set_offline(False)
    laptop.page.evaluate("window.dispatchEvent(new Event('online'))")
    laptop.page.wait_for_function("localStorage.getItem('appframes-demo:pending-sign-out') === null")
    laptop.reload()
    expect(laptop.status).to_have_text("Saved locally")
    expect(laptop.page.get_by_test_id("sign-in-form")).to_be_visible()
    assert laptop.page_errors == []


def test_an_expired_session_offers_sign_in_again_and_the_edits_sync_after_it(open_device, email, database_url):
    laptop = open_device()
    laptop.sign_in(email)
    project_id = laptop.create_project("Long session", "before")
    laptop.expect_synced()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            'UPDATE public."session" SET "expiresAt" = now() - interval \'1 second\''
            ' WHERE "userId" = (SELECT id FROM public."user" WHERE email = %s)',
            (email,),
        )

    laptop.edit_text("written after the session expired")
    sign_in_again = laptop.page.get_by_test_id("sign-in-again")
    expect(sign_in_again).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    expect(laptop.project_state("Long session")).to_have_text("pending")
    sign_in_again.click()
    expect(laptop.page.get_by_test_id("email")).to_have_value(email)
    laptop.page.get_by_test_id("sign-in").click()

    laptop.expect_synced()
    expect(sign_in_again).to_be_hidden()
    assert laptop.server_copy(project_id)["data"] == {"text": "written after the session expired"}


def test_a_long_name_never_widens_the_page(open_device):
    laptop = open_device()
    laptop.create_project("x" * 1000, "y" * 3000)
    overflow = laptop.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"
