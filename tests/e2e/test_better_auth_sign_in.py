"""Signing in the way production does: a real Better Auth server (the npm package, email and password,
the bearer plugin) issues the session in the browser through Better Auth's own client, and the sync
client carries the bearer plugin's token to the sync API on another origin. The dev sign-in plays no
part here."""

import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import TEST_SECRET
from tests.e2e.editor_page import READY_TIMEOUT_MS

BETTER_AUTH_PACKAGE = Path(__file__).resolve().parents[1] / "contract"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def better_auth_url(database_url: str, editor_origin: str, better_auth_bundle_dir: Path) -> Iterator[str]:
    if not (BETTER_AUTH_PACKAGE / "node_modules" / "better-auth").is_dir():
        pytest.fail("better-auth is not installed: run `make setup` (npm ci in tests/contract)")
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BETTER_AUTH_SECRET": TEST_SECRET,
        "EDITOR_ORIGIN": editor_origin,
        "CLIENT_BUNDLE": str(better_auth_bundle_dir / "client.js"),
    }
    server = subprocess.Popen(
        ["node", "better_auth_server.mjs"], cwd=BETTER_AUTH_PACKAGE, env=environment, stdout=subprocess.PIPE, text=True
    )
    try:
        started = server.stdout.readline()
        assert started, f"the Better Auth server exited with {server.wait(timeout=10)}"
        yield json.loads(started)["url"]
    finally:
        server.terminate()
        server.wait(timeout=15)


@pytest.fixture
def open_signed_out_device(browser, editor_origin, api_url, better_auth_url) -> Iterator[Callable[[], Page]]:
    contexts = []

    def open_new_device() -> Page:
        context = browser.new_context(base_url=editor_origin)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"/better-auth-page/index.html?auth={better_auth_url}&api={api_url}")
        expect(page.locator("body[data-ready='true']")).to_be_attached(timeout=READY_TIMEOUT_MS)
        return page

    yield open_new_device
    for context in contexts:
        context.close()


def test_a_better_auth_session_syncs_both_ways_and_its_end_asks_to_sign_in_again(open_signed_out_device):
    email = f"better-auth-{uuid.uuid4().hex[:10]}@example.com"
    laptop, phone = open_signed_out_device(), open_signed_out_device()
    project = str(uuid.uuid4())

    user_id = laptop.evaluate("([email, password]) => editor.signUp(email, password)", [email, PASSWORD])
    token = laptop.evaluate("editor.token()")
    token_value = token.replace("%2B", "+").replace("%2F", "/").replace("%3D", "=")
    assert token_value.count(".") == 1 and token_value.endswith("="), "the bearer plugin's signed token"
    laptop.evaluate(f"editor.save('{project}', 'from the laptop')")
    assert laptop.evaluate("editor.status()")["label"] == "Synced", laptop.evaluate("editor.status()")

    assert phone.evaluate("([email, password]) => editor.signIn(email, password)", [email, PASSWORD]) == user_id
    assert phone.evaluate(f"editor.text('{project}')") == "from the laptop", phone.evaluate("editor.status()")
    phone.evaluate(f"editor.save('{project}', 'and back from the phone')")
    laptop.evaluate("editor.sync()")
    assert laptop.evaluate(f"editor.text('{project}')") == "and back from the phone"

    # Better Auth ends the phone's session; the sync API refuses its token, Better Auth has no fresh one.
    phone.evaluate("editor.endSessionElsewhere()")
    phone.evaluate(f"editor.save('{project}', 'typed after the session ended')")
    ended = phone.evaluate("editor.status()")
    assert ended["signInRequired"] is True
    assert ended["projects"][project]["state"] == "pending"

    phone.evaluate("([email, password]) => editor.signIn(email, password)", [email, PASSWORD])
    assert phone.evaluate("editor.status().label") == "Synced"
    laptop.evaluate("editor.sync()")
    assert laptop.evaluate(f"editor.text('{project}')") == "typed after the session ended"
