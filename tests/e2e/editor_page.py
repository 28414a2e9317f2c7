"""The demo editor as the tests see it: what a user does, in the product's words."""

import re

from playwright.sync_api import BrowserContext, Dialog, FilePayload, Locator, Page, expect

# The demo commits typing to IndexedDB after a 300 ms pause; the sync engine debounces 400 ms more.
SYNC_TIMEOUT_MS = 15_000
# The page's start (modules, IndexedDB, the first sync's setup) on a loaded 2-core machine: Playwright's
# 5 s default was seen to run out while another build ran beside the suite.
READY_TIMEOUT_MS = 15_000
# A quick typist: about 12 keys a second.
TYPING_DELAY_MS = 80

LOCAL_TEXTS_SCRIPT = """async () => {
  const readAll = (name, store) => new Promise((resolve, reject) => {
    const opening = indexedDB.open(name);
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const db = opening.result;
      if (!db.objectStoreNames.contains(store)) { db.close(); resolve([]); return; }
      const rows = db.transaction(store).objectStore(store).getAll();
      rows.onsuccess = () => { db.close(); resolve(rows.result); };
      rows.onerror = () => reject(rows.error);
    };
  });
  const texts = (await readAll('appframes-demo-projects', 'projects')).map((project) => project.data?.text);
  for (const { name } of await indexedDB.databases()) {
    if (!name.startsWith('appframes-sync:user:')) continue;
    for (const record of await readAll(name, 'syncErrorsByProjectId')) texts.push(record.server?.data?.text);
  }
  return texts.filter((text) => typeof text === 'string');
}"""

STORED_MEDIA_SCRIPT = """async () => {
  const root = await navigator.storage.getDirectory();
  let media;
  try { media = await root.getDirectoryHandle('media'); } catch { return []; }
  const names = [];
  for await (const name of media.keys()) names.push(name);
  return names;
}"""


class EditorPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.page_errors: list[str] = []
        # Accept the "unsynced edits" warning so reloads go ahead, but remember that it was shown.
        page.on("dialog", self._accept_dialog)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    @classmethod
    def open(cls, context: BrowserContext, path: str = "/") -> "EditorPage":
        editor = cls(context.new_page())
        editor.page.goto(path)
        editor.wait_until_ready()
        return editor

    def _accept_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.type)
        dialog.accept()

    @property
    def context(self) -> BrowserContext:
        return self.page.context

    def wait_until_ready(self) -> None:
        expect(self.page.locator("body[data-ready='true']")).to_be_attached(timeout=READY_TIMEOUT_MS)

    def reload(self) -> None:
        self.page.reload()
        self.wait_until_ready()

    # ---- account ----

    def sign_in(self, email: str) -> None:
        self.page.get_by_test_id("email").fill(email)
        self.page.get_by_test_id("sign-in").click()
        expect(self.page.get_by_test_id("user-email")).to_have_text(email)

    def sign_out(self) -> None:
        self.page.get_by_test_id("sign-out").click()
        expect(self.page.get_by_test_id("sign-in-form")).to_be_visible()

    # ---- status ----

    @property
    def status(self) -> Locator:
        return self.page.get_by_test_id("sync-status")

    @property
    def status_detail(self) -> Locator:
        return self.page.get_by_test_id("sync-detail")

    def expect_synced(self) -> None:
        expect(self.status).to_have_text("Synced", timeout=SYNC_TIMEOUT_MS)

    def sync_now(self) -> None:
        self.page.get_by_test_id("sync-now").click()

    # ---- projects ----

    def project_item(self, name: str) -> Locator:
        return self.page.get_by_test_id("project-item").filter(
            has=self.page.get_by_test_id("project-open").filter(has_text=re.compile(f"^{re.escape(name)}$"))
        )

    def project_state(self, name: str) -> Locator:
        return self.project_item(name).get_by_test_id("project-state")

    def project_id(self, name: str) -> str:
        return self.project_item(name).get_attribute("data-project-id") or ""

    def create_project(self, name: str, text: str) -> str:
        self.page.get_by_test_id("new-project").click()
        self.page.get_by_test_id("project-name").fill(name)
        self.page.get_by_test_id("project-text").fill(text)
        self.wait_for_local_save()
        expect(self.project_item(name)).to_be_visible()
        return self.project_id(name)

    def open_project(self, name: str) -> None:
        self.project_item(name).get_by_test_id("project-open").click()
        expect(self.page.get_by_test_id("project-name")).to_have_value(name)

    def edit_text(self, text: str) -> None:
        self.page.get_by_test_id("project-text").fill(text)
        self.wait_for_local_save()

    def type_at_end(self, text: str, delay_ms: int = TYPING_DELAY_MS) -> None:
        """Real key events into the text, at a person's pace, after what is already there."""
        self.text.click()
        self.page.keyboard.press("Control+End")
        self.page.keyboard.type(text, delay=delay_ms)

    def focused_test_id(self) -> str | None:
        return self.page.evaluate("document.activeElement?.dataset?.testid ?? null")

    def local_texts(self) -> list[str]:
        """Every text this browser keeps: each local project and each conflict's other copy."""
        return self.page.evaluate(LOCAL_TEXTS_SCRIPT)

    def wait_for_local_save(self) -> None:
        """The demo commits typing to IndexedDB after a pause; this waits for that commit."""
        expect(self.page.locator("body[data-local-save='done']")).to_be_attached()

    @property
    def text(self) -> Locator:
        return self.page.get_by_test_id("project-text")

    def delete_open_project(self) -> None:
        self.page.get_by_test_id("delete-project").click()

    # ---- media ----

    @property
    def images(self) -> Locator:
        """The open project's images this device has, shown."""
        return self.page.get_by_test_id("media-image")

    @property
    def media_placeholders(self) -> Locator:
        """The open project's images this device does not have."""
        return self.page.get_by_test_id("media-placeholder")

    def add_image(self, image: FilePayload) -> None:
        self.page.get_by_test_id("add-image").set_input_files(image)
        expect(self.images.and_(self.page.locator(f"[alt='{image['name']}']"))).to_be_visible()
        self.wait_for_local_save()

    def replace_media(self, placeholder: Locator, image: FilePayload) -> None:
        with self.page.expect_file_chooser() as chooser:
            placeholder.get_by_test_id("replace-media").click()
        chooser.value.set_files(image)
        expect(placeholder).to_have_count(0)
        self.wait_for_local_save()

    def stored_media_files(self) -> list[str]:
        """The names of the files in this browser's OPFS media directory."""
        return self.page.evaluate(STORED_MEDIA_SCRIPT)

    # ---- conflicts ----

    @property
    def conflict_dialog(self) -> Locator:
        return self.page.get_by_test_id("conflict-dialog")

    def keep_mine(self) -> None:
        self.page.get_by_test_id("keep-mine").click()

    def take_theirs(self) -> None:
        self.page.get_by_test_id("take-theirs").click()

    def keep_both(self) -> None:
        self.page.get_by_test_id("keep-both").click()

    @property
    def conflict_result(self) -> Locator:
        return self.page.get_by_test_id("conflict-result")

    # ---- history ----

    def history_row(self, revision: int) -> Locator:
        """The open project's revision in the history panel, opened (it asks the server when shown)."""
        panel = self.page.get_by_test_id("history-panel")
        if panel.get_attribute("open") is None:
            self.page.get_by_test_id("history-toggle").click()
        return self.page.locator(f"[data-testid='history-row'][data-revision='{revision}']")

    def restore_revision(self, revision: int) -> None:
        self.history_row(revision).get_by_test_id("history-restore").click()
        expect(self.page.get_by_test_id("history-message")).to_have_text(
            f"Restored revision {revision}; it is syncing."
        )

    def deleted_item(self, name: str) -> Locator:
        """A project in the Recently deleted list, opened (it asks the server when shown)."""
        panel = self.page.get_by_test_id("recently-deleted")
        if panel.get_attribute("open") is None:
            self.page.get_by_test_id("recently-deleted-toggle").click()
        return self.page.get_by_test_id("deleted-item").filter(has_text=re.compile(f"^{re.escape(name)} · deleted "))

    def restore_deleted(self, name: str) -> None:
        self.deleted_item(name).get_by_test_id("deleted-restore").click()
        expect(self.project_item(name)).to_be_visible()

    # ---- the server, seen through this device's session ----

    def server_copy(self, project_id: str) -> dict:
        response = self.context.request.get(f"/api/projects/{project_id}")
        assert response.ok, f"GET /api/projects/{project_id}: {response.status}"
        return response.json()

    def server_texts(self) -> list[str]:
        """The text of every revision the server keeps of every project of the account, tombstones aside."""
        listing = self.context.request.get("/api/projects?includeDeleted=1")
        assert listing.ok, f"GET /api/projects: {listing.status}"
        texts = []
        for project in listing.json():
            revisions = self.context.request.get(f"/api/projects/{project['id']}/revisions").json()
            for kept in revisions:
                if kept["deletedAt"] is None:
                    copy = self.context.request.get(f"/api/projects/{project['id']}/revisions/{kept['revision']}")
                    texts.append(copy.json()["data"]["text"])
        return texts
