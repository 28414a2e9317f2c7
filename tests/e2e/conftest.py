"""Fixtures for the browser end-to-end tests: the real local server, headless Chromium, devices.

The server is `python -m devserver` as a subprocess on a free port, backed by the shared real
Postgres (`database_url` from tests/conftest.py). Each "device" is its own browser context (its own
IndexedDB and cookies) showing the demo editor. Debian's /usr/bin/chromium is driven by Playwright;
Playwright's own browser downloads are never used (scripts/install-chromium.sh installs it).
"""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.editor_page import EditorPage
from tests.e2e.static_origin import static_origin
from tests.support.devserver_process import running_devserver

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


@pytest.fixture(scope="package")
def server_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make dev`'s server, on the shared test database, for the whole package."""
    with running_devserver(database_url, tmp_path_factory.mktemp("devserver") / "devserver.log") as url:
        yield url


@pytest.fixture(scope="package")
def better_auth_bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the Better Auth server writes the bundled better-auth/client the test page imports."""
    return tmp_path_factory.mktemp("better-auth-client")


@pytest.fixture(scope="package")
def editor_origin(better_auth_bundle_dir: Path) -> Iterator[str]:
    """The editor's own origin (`http://localhost:<port>`): the demo, and the Better Auth test page."""
    mounts = {"better-auth": better_auth_bundle_dir, "better-auth-page": Path(__file__).parent / "better_auth_page"}
    with static_origin(mounts) as origin:
        yield origin


@pytest.fixture(scope="package")
def api_url(database_url: str, editor_origin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another `make dev` server, allowing the editor's origin (`http://127.0.0.1:<port>`, another site)."""
    log = tmp_path_factory.mktemp("cross-origin") / "devserver.log"
    with running_devserver(database_url, log, CORS_ALLOW_ORIGINS=editor_origin) as url:
        yield url


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
