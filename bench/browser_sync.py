"""`python -m bench.browser_sync`: what a user's device costs in requests and time, in real Chromium
against `make dev`'s server on its embedded Postgres (loopback only).

- a new device signing in to an account of 1,000 projects of ~10 KiB;
- the same device reloaded when nothing changed (requests and bytes of the sync's answers);
- a first sign-in claiming 500 local projects.

Timed in the page's own clock, from the sign-in click (or the reload's navigation start) to the first
frame where the badge says "Synced" and every project is listed: Playwright's `expect` polls at 100,
250, 500 and 1,000 ms, which added up to a second to the times this bench reported before. Beside it,
the main thread's busy time over the same span (CDP `Performance.getMetrics` TaskDuration): two
other benchmarks may share this machine's cores, and the busy time is what this page itself costs.
"""

import json
import tempfile
import uuid
from pathlib import Path

import psycopg
from playwright.sync_api import expect, sync_playwright

from devserver.database import prepare_schema, start_embedded_postgres
from tests.e2e.conftest import CHROMIUM
from tests.support.devserver_process import running_devserver

SERVER_PROJECTS = 1000
LOCAL_PROJECTS = 500
PROJECT_TEXT_BYTES = 10 * 1024
SYNC_PATHS = ("/api/changes", "/api/projects")
# When the page first shows "Synced" with every project listed, in its own clock (ms since navigation
# start), checked every frame; the sign-in click's time in the same clock, once clicked.
SYNCED_WATCH_SCRIPT = """(count) => {
  window.benchSyncedAt = undefined;
  const check = () => {
    const synced = document.querySelector('[data-testid="sync-status"]')?.textContent === 'Synced';
    const listed = document.querySelectorAll('[data-testid="project-item"]').length;
    if (synced && listed === count) window.benchSyncedAt = performance.now();
    else requestAnimationFrame(check);
  };
  check();
}"""
CLICK_WATCH_SCRIPT = """() => document.querySelector('[data-testid="sign-in"]').addEventListener('click', (event) => {
  window.benchClickedAt = event.timeStamp;
}, { capture: true, once: true })"""
# The sync answers this page has received since it loaded, as the browser itself records them.
ANSWERS_RECEIVED_SCRIPT = """(paths) => performance.getEntriesByType('resource')
    .filter((entry) => entry.responseEnd > 0 && paths.some((path) => entry.name.includes(path))).length"""
# The bytes of those answers as the page read them (decoded), as the browser records them.
ANSWER_BYTES_SCRIPT = """(paths) => performance.getEntriesByType('resource')
    .filter((entry) => paths.some((path) => entry.name.includes(path)))
    .reduce((bytes, entry) => bytes + entry.decodedBodySize, 0)"""

SEED_USER = """
INSERT INTO public."user" (id, name, email, "emailVerified") VALUES (%(id)s, 'Bench', %(email)s, true)
"""
SEED_PROJECTS = """
INSERT INTO public.projects ("userId", id, name, data, revision)
SELECT %(user_id)s, gen_random_uuid(), 'Project ' || n,
       json_build_object('text', n || ' ' || repeat(md5(n::text), %(repeats)s)), 1
FROM generate_series(1, %(count)s) AS n
"""
LOCAL_PROJECTS_SCRIPT = """async ([count, bytes]) => {
  const db = await new Promise((resolve, reject) => {
    const opening = indexedDB.open('appframes-demo-projects', 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore('projects', { keyPath: 'id' });
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  const store = db.transaction('projects', 'readwrite').objectStore('projects');
  for (let n = 0; n < count; n += 1) {
    store.put({ id: crypto.randomUUID(), name: `Local ${n}`, data: { text: `${n} `.padEnd(bytes, 'x') } });
  }
  await new Promise((resolve) => { store.transaction.oncomplete = resolve; });
  db.close();
}"""


class SyncTraffic:
    """The sync engine's requests and the bytes of their answers, as one page sees them."""

    def __init__(self, page) -> None:
        self.requests: list[str] = []
        self.response_bytes = 0
        self.answered = 0
        page.on("request", self._request)
        page.on("response", self._response)

    def _is_sync(self, url: str) -> bool:
        return any(path in url for path in SYNC_PATHS)

    def _request(self, request) -> None:
        if self._is_sync(request.url):
            self.requests.append(f"{request.method} {request.url.split('/api', 1)[1][:40]}")

    def _response(self, response) -> None:
        if self._is_sync(response.url):
            self.answered += 1

    def wait_for_every_answer(self, page) -> None:
        """Playwright delivers request and response events after the page has moved on, and the browser
        records a fetch's timing after the page has read it: when the badge says "Synced" the last
        answers may not be counted yet (some runs counted 2 or 4 of the claim's 5 batches). Waits until
        every request seen and every answer the browser recorded is counted, and 300 ms pass without
        another."""
        quiet_polls, counted = 0, -1
        for _ in range(500):
            received = page.evaluate(ANSWERS_RECEIVED_SCRIPT, list(SYNC_PATHS))
            settled = self.answered >= max(received, len(self.requests)) and self.answered == counted
            quiet_polls = quiet_polls + 1 if settled else 0
            if quiet_polls == 15:
                # Read from the browser's records: a body Playwright fetched after a reload came short.
                self.response_bytes = page.evaluate(ANSWER_BYTES_SCRIPT, list(SYNC_PATHS))
                return
            counted = self.answered
            page.wait_for_timeout(20)
        raise RuntimeError(f"{len(self.requests)} sync requests, {self.answered} answers counted")

    def reset(self) -> None:
        self.requests.clear()
        self.response_bytes = 0
        self.answered = 0


class MainThread:
    """The page's main thread busy time (s), read over CDP."""

    def __init__(self, page) -> None:
        self.session = page.context.new_cdp_session(page)
        self.session.send("Performance.enable")

    def busy(self) -> float:
        metrics = self.session.send("Performance.getMetrics")["metrics"]
        return next(metric["value"] for metric in metrics if metric["name"] == "TaskDuration")


def sign_in_and_wait(page, email: str, expected_projects: int) -> tuple[float, float]:
    """Seconds from the click to "Synced" in the page's clock, and the main thread's busy seconds."""
    main_thread = MainThread(page)
    page.get_by_test_id("email").fill(email)
    page.evaluate(CLICK_WATCH_SCRIPT)
    page.evaluate(SYNCED_WATCH_SCRIPT, expected_projects)
    busy_before = main_thread.busy()
    page.get_by_test_id("sign-in").click()
    synced_at = wait_synced(page)
    busy = main_thread.busy() - busy_before
    return (synced_at - page.evaluate("window.benchClickedAt")) / 1000, busy


def reload_and_wait(page, expected_projects: int) -> tuple[float, float]:
    """As `sign_in_and_wait`, from the reload's navigation start."""
    page.add_init_script(f"({SYNCED_WATCH_SCRIPT})({expected_projects})")
    main_thread = MainThread(page)
    busy_before = main_thread.busy()
    page.reload()
    synced_at = wait_synced(page)
    return synced_at / 1000, main_thread.busy() - busy_before


def wait_synced(page) -> float:
    """When the page first showed "Synced" with every project listed, ms in its clock."""
    page.wait_for_function("window.benchSyncedAt !== undefined", timeout=120_000)
    return page.evaluate("window.benchSyncedAt")


def open_demo(browser, server_url: str):
    context = browser.new_context(base_url=server_url)
    page = context.new_page()
    traffic = SyncTraffic(page)
    page.goto("/")
    expect(page.locator("body[data-ready='true']")).to_be_attached()
    return context, page, traffic


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        database_url = start_embedded_postgres(Path(scratch) / "pgdata")
        prepare_schema(database_url)
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(SEED_USER, {"id": uuid.uuid4().hex, "email": email})
            user_id = connection.execute('SELECT id FROM public."user" WHERE email = %s', (email,)).fetchone()[0]
            connection.execute(
                SEED_PROJECTS, {"user_id": user_id, "count": SERVER_PROJECTS, "repeats": PROJECT_TEXT_BYTES // 32}
            )
        with running_devserver(database_url, Path(scratch) / "devserver.log") as server_url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            rows = []

            context, page, traffic = open_demo(browser, server_url)
            timing = sign_in_and_wait(page, email, SERVER_PROJECTS)
            traffic.wait_for_every_answer(page)
            rows.append((f"new device, {SERVER_PROJECTS:,} projects of ~10 KiB", traffic, timing))
            traffic = SyncTraffic(page)
            timing = reload_and_wait(page, SERVER_PROJECTS)
            page.wait_for_timeout(1_000)  # so that a request after "Synced" would be counted too
            traffic.wait_for_every_answer(page)
            rows.append(("returning device, nothing changed (reload)", traffic, timing))
            context.close()

            context, page, traffic = open_demo(browser, server_url)
            page.evaluate(LOCAL_PROJECTS_SCRIPT, [LOCAL_PROJECTS, PROJECT_TEXT_BYTES])
            page.reload()
            expect(page.locator("body[data-ready='true']")).to_be_attached()
            traffic.reset()
            timing = sign_in_and_wait(page, f"claim-{uuid.uuid4().hex[:8]}@example.com", LOCAL_PROJECTS)
            traffic.wait_for_every_answer(page)
            rows.append((f"first sign-in claiming {LOCAL_PROJECTS} local projects", traffic, timing))
            context.close()
            browser.close()

    print("| scenario | sync requests | bytes of their answers | time to Synced (s) | main thread busy (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, traffic, (seconds, busy) in rows:
        print(f"| {name} | {len(traffic.requests)} | {traffic.response_bytes:,} | {seconds:.2f} | {busy:.2f} |")
    print(json.dumps({name: traffic.requests for name, traffic, _ in rows}, indent=1))


if __name__ == "__main__":
    main()
