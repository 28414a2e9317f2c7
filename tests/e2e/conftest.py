"""Fixtures for the browser end-to-end tests: the real local server, headless Chromium, devices.

The server is `python -m devserver` as a subprocess on a free port, backed by the shared real
Postgres (`database_url` from tests/conftest.py). Each "device" is its own browser context (its own
IndexedDB and cookies) showing the demo editor. Debian's /usr/bin/chromium is driven by Playwright;
Playwright's own browser downloads are never used (scripts/install-chromium.sh installs it).
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.editor_page import EditorPage

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
REPO = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"devserver exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"devserver did not answer on {url} within {SERVER_START_TIMEOUT_SECONDS}s:\n{log.read_text()}")


@pytest.fixture(scope="package")
def server_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make dev`'s server, on the shared test database, for the whole run."""
    port = _free_port()
    log = tmp_path_factory.mktemp("devserver") / "devserver.log"
    environment = {**os.environ, "PORT": str(port), "DATABASE_URL": database_url}
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "devserver"], cwd=REPO, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{url}/", server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run `bash scripts/install-chromium.sh` first")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def open_device(browser, server_url: str) -> Iterator[Callable[[], EditorPage]]:
    """Opens the demo editor on a new device (a fresh browser context) each time it is called."""
    contexts = []

    def open_new_device() -> EditorPage:
        context = browser.new_context(base_url=server_url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return EditorPage.open(context)

    yield open_new_device
    for context in contexts:
        context.close()


@pytest.fixture
def email() -> str:
    """A new account per test, so tests share the database but never each other's projects."""
    return f"e2e-{uuid.uuid4().hex[:12]}@example.com"
