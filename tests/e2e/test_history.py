"""Nothing is ever lost, in Chromium with two devices: each conflict choice ends with every edit
findable (in the project, in a conflicted copy, or in the history panel), a revision restored from
the history panel shows on the other device, and a project deleted on one device comes back from
"Recently deleted" on the other.
"""

import re

from playwright.sync_api import expect

from tests.e2e.editor_page import SYNC_TIMEOUT_MS, EditorPage

LAPTOP_WORDS = " The laptop's words."
PHONE_WORDS = " The phone's words."


def _shared_project(open_device, email: str, name: str, text: str) -> tuple[EditorPage, EditorPage, str]:
    """Laptop and phone signed in to one account, both showing one synced project."""
    laptop, phone = open_device(), open_device()
    laptop.sign_in(email)
    project_id = laptop.create_project(name, text)
    laptop.expect_synced()
    phone.sign_in(email)
    phone.open_project(name)
    phone.expect_synced()
    return laptop, phone, project_id


def _typed_on_both_offline(open_device, email: str) -> tuple[EditorPage, EditorPage, str]:
    """Both devices type offline; the laptop's words reach the server first, the phone meets them."""
    laptop, phone, project_id = _shared_project(open_device, email, "Shared", "Start.")
    laptop.open_project("Shared")
    for device in (laptop, phone):
        device.context.set_offline(True)
    laptop.type_at_end(LAPTOP_WORDS)
    phone.type_at_end(PHONE_WORDS)
    laptop.wait_for_local_save()
    phone.wait_for_local_save()
    laptop.context.set_offline(False)
    laptop.sync_now()
    laptop.expect_synced()
    phone.context.set_offline(False)
    expect(phone.conflict_dialog).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    return laptop, phone, project_id


def _revision_with_text(device: EditorPage, project_id: str, text: str) -> int:
    """The newest kept revision of the project whose text is `text`, as the server lists it."""
    for kept in device.context.request.get(f"/api/projects/{project_id}/revisions").json():
        copy = device.context.request.get(f"/api/projects/{project_id}/revisions/{kept['revision']}").json()
        if kept["deletedAt"] is None and copy["data"]["text"] == text:
            return kept["revision"]
    raise AssertionError(f"no kept revision has the text {text!r}")


def _conflicted_copy(device: EditorPage):
    return device.page.get_by_test_id("project-open").filter(
        has_text=re.compile(r"^Shared \(conflicted copy, \d{4}-\d\d-\d\d \d\d:\d\d\)$")
    )


def test_keep_mine_leaves_the_other_edit_in_the_history_panel_and_restoring_it_reaches_the_other_device(
    open_device, email
):
    laptop, phone, project_id = _typed_on_both_offline(open_device, email)

    phone.keep_mine()
    expect(phone.conflict_result).to_have_text(re.compile("The other device's copy stays in the project's history"))
    phone.expect_synced()
    assert phone.server_copy(project_id)["data"]["text"] == "Start." + PHONE_WORDS
    assert {"Start.", "Start." + LAPTOP_WORDS, "Start." + PHONE_WORDS} <= set(phone.server_texts())

    current = phone.server_copy(project_id)["revision"]
    expect(phone.history_row(current)).to_contain_text("current")
    phone.restore_revision(_revision_with_text(phone, project_id, "Start." + LAPTOP_WORDS))
    expect(phone.text).to_have_value("Start." + LAPTOP_WORDS)
    phone.expect_synced()
    expect(phone.history_row(current + 1)).to_contain_text("current", timeout=SYNC_TIMEOUT_MS)
    assert phone.server_copy(project_id)["data"]["text"] == "Start." + LAPTOP_WORDS

    laptop.sync_now()
    expect(laptop.text).to_have_value("Start." + LAPTOP_WORDS, timeout=SYNC_TIMEOUT_MS)
    assert "Start." + PHONE_WORDS in laptop.server_texts(), "the replaced edit is still in the history"
    assert laptop.page_errors == [] and phone.page_errors == []


def test_take_theirs_shows_the_other_copy_and_keeps_this_devices_copy_in_the_history_panel(open_device, email):
    laptop, phone, project_id = _typed_on_both_offline(open_device, email)

    phone.take_theirs()
    expect(phone.conflict_result).to_have_text(
        re.compile("“Shared” now has the other device's copy; this device's copy stays in the project's history")
    )
    expect(phone.text).to_have_value("Start." + LAPTOP_WORDS)
    phone.expect_synced()
    current = phone.server_copy(project_id)
    assert current["data"]["text"] == "Start." + LAPTOP_WORDS
    expect(phone.history_row(current["revision"])).to_contain_text("current", timeout=SYNC_TIMEOUT_MS)
    discarded = _revision_with_text(phone, project_id, "Start." + PHONE_WORDS)
    assert discarded == current["revision"] - 1, "this device's copy is kept just below theirs"
    phone.restore_revision(discarded)
    expect(phone.text).to_have_value("Start." + PHONE_WORDS)
    phone.expect_synced()
    assert phone.server_copy(project_id)["data"]["text"] == "Start." + PHONE_WORDS

    laptop.sync_now()
    expect(laptop.text).to_have_value("Start." + PHONE_WORDS, timeout=SYNC_TIMEOUT_MS)
    assert {"Start.", "Start." + LAPTOP_WORDS, "Start." + PHONE_WORDS} <= set(laptop.server_texts())
    assert laptop.page_errors == [] and phone.page_errors == []


def test_keep_both_makes_this_devices_copy_a_conflicted_copy_on_both_devices(open_device, email):
    laptop, phone, project_id = _typed_on_both_offline(open_device, email)

    phone.keep_both()
    expect(phone.conflict_result).to_have_text(
        re.compile(
            r"Kept both: “Shared” has the other device's copy, this device's copy is now “Shared \(conflicted copy, "
        )
    )
    expect(phone.text).to_have_value("Start." + LAPTOP_WORDS)
    expect(_conflicted_copy(phone)).to_have_count(1)
    phone.expect_synced()
    expect(phone.conflict_dialog).to_be_hidden()
    assert phone.server_copy(project_id)["data"]["text"] == "Start." + LAPTOP_WORDS

    laptop.sync_now()
    expect(_conflicted_copy(laptop)).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
    _conflicted_copy(laptop).click()
    expect(laptop.text).to_have_value("Start." + PHONE_WORDS)
    assert {"Start.", "Start." + LAPTOP_WORDS, "Start." + PHONE_WORDS} <= set(laptop.server_texts())
    assert laptop.page_errors == [] and phone.page_errors == []


def test_a_project_deleted_on_one_device_is_restored_from_recently_deleted_on_the_other(open_device, email):
    laptop, phone, project_id = _shared_project(open_device, email, "Doomed", "First draft.")
    laptop.open_project("Doomed")
    laptop.type_at_end(" Last words before the delete.")
    laptop.wait_for_local_save()
    laptop.expect_synced()
    laptop.delete_open_project()
    expect(laptop.project_item("Doomed")).to_have_count(0)
    laptop.expect_synced()

    phone.sync_now()
    expect(phone.project_item("Doomed")).to_have_count(0, timeout=SYNC_TIMEOUT_MS)
    expect(phone.deleted_item("Doomed")).to_be_visible()
    phone.restore_deleted("Doomed")
    expect(phone.deleted_item("Doomed")).to_have_count(0)
    phone.open_project("Doomed")
    expect(phone.text).to_have_value("First draft. Last words before the delete.")
    phone.expect_synced()
    restored = phone.server_copy(project_id)
    assert restored["deletedAt"] is None and restored["data"]["text"] == "First draft. Last words before the delete."

    laptop.sync_now()
    expect(laptop.project_item("Doomed")).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    laptop.open_project("Doomed")
    expect(laptop.text).to_have_value("First draft. Last words before the delete.")
    assert laptop.page_errors == [] and phone.page_errors == []
