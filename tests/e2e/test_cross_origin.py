"""The editor on its own origin, the API on another (two sites: `localhost` and `127.0.0.1`), in real
Chromium: bearer mode signs in and syncs, survives a token refresh, and CORS lets in exactly the
editor's origin, preflights included."""

import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Request, expect

from tests.e2e.editor_page import SYNC_TIMEOUT_MS, EditorPage
from tests.e2e.static_origin import static_origin


@pytest.fixture(scope="module")
def stranger_origin() -> Iterator[str]:
    """The same editor's files from an origin the API does not list."""
    with static_origin() as origin:
        yield origin


@pytest.fixture
def open_bearer_device(browser, editor_origin, api_url) -> Iterator[Callable[[], EditorPage]]:
    """The demo served from the editor's origin, talking to the API on the other one in bearer mode."""
    contexts = []

    def open_new_device(origin: str = editor_origin) -> EditorPage:
        context = browser.new_context(base_url=origin)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return EditorPage.open(context, f"/?api={api_url}&auth=bearer")

    yield open_new_device
    for context in contexts:
        context.close()


def api_requests_of(editor: EditorPage, api_url: str) -> list[Request]:
    seen: list[Request] = []
    editor.page.on("request", lambda request: seen.append(request) if request.url.startswith(api_url) else None)
    return seen


def test_bearer_mode_syncs_both_ways_between_two_devices(open_bearer_device, api_url, email):
    laptop, phone = open_bearer_device(), open_bearer_device()
    sent = api_requests_of(laptop, api_url)
    laptop.sign_in(email)
    laptop.create_project("Across origins", "from the laptop")
    laptop.expect_synced()

    phone.sign_in(email)
    phone.expect_synced()
    phone.open_project("Across origins")
    expect(phone.text).to_have_value("from the laptop")
    phone.edit_text("and back from the phone")
    phone.expect_synced()

    laptop.open_project("Across origins")
    laptop.sync_now()
    expect(laptop.text).to_have_value("and back from the phone", timeout=SYNC_TIMEOUT_MS)
    sync_calls = [request for request in sent if "/api/dev/" not in request.url]
    assert sync_calls, "the engine talked to the API on the other origin"
    for request in sync_calls:
        headers = request.all_headers()
        assert headers.get("authorization", "").startswith("Bearer "), request.url
        assert "cookie" not in headers, request.url
    assert laptop.page_errors == phone.page_errors == []


def test_bearer_mode_survives_a_token_refresh(open_bearer_device, api_url, email):
    laptop = open_bearer_device()
    laptop.sign_in(email)
    laptop.create_project("Refreshed", "before the refresh")
    laptop.expect_synced()
    statuses = []
    laptop.page.on("response", lambda response: statuses.append(response.status) if "/api/" in response.url else None)

    # The auth side renews the session: a new token is stored for this browser, the old one dies.
    laptop.page.evaluate(
        """async ({ api, email }) => {
          const old = localStorage.getItem('appframes-demo:session-token');
          const signedIn = await fetch(`${api}/api/dev/sign-in`, {
            method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }),
          });
          localStorage.setItem('appframes-demo:session-token', (await signedIn.json()).token);
          await fetch(`${api}/api/dev/sign-out`, { method: 'POST', headers: { Authorization: `Bearer ${old}` } });
        }""",
        {"api": api_url, "email": email},
    )
    laptop.edit_text("after the refresh")
    laptop.expect_synced()
    assert 401 in statuses, "the old token was refused once"
    expect(laptop.page.get_by_test_id("sign-in-again")).to_be_hidden()

    phone = open_bearer_device()
    phone.sign_in(email)
    phone.open_project("Refreshed")
    expect(phone.text).to_have_value("after the refresh")


def test_a_session_that_ended_asks_to_sign_in_again_and_keeps_the_edits(open_bearer_device, api_url, email):
    laptop = open_bearer_device()
    laptop.sign_in(email)
    laptop.create_project("Kept", "synced")
    laptop.expect_synced()
    laptop.page.evaluate(
        """async (api) => {
          const token = localStorage.getItem('appframes-demo:session-token');
          await fetch(`${api}/api/dev/sign-out`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
        }""",
        api_url,
    )
    laptop.edit_text("typed after the session ended")
    expect(laptop.page.get_by_test_id("sign-in-again")).to_be_visible(timeout=SYNC_TIMEOUT_MS)
    expect(laptop.status_detail).to_contain_text("sign in again")

    laptop.page.get_by_test_id("sign-in-again").click()
    laptop.sign_in(email)
    laptop.expect_synced()
    phone = open_bearer_device()
    phone.sign_in(email)
    phone.open_project("Kept")
    expect(phone.text).to_have_value("typed after the session ended")


def test_an_origin_the_api_does_not_list_is_refused_by_the_browser(open_bearer_device, stranger_origin, api_url):
    stranger = open_bearer_device(stranger_origin)
    outcome = stranger.page.evaluate(
        """async (api) => {
          try {
            await fetch(`${api}/api/dev/sign-in`, {
              method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"email": "x@example.com"}',
            });
            return 'answered';
          } catch (error) {
            return error.name;
          }
        }""",
        api_url,
    )
    assert outcome == "TypeError"
    stranger.page.get_by_test_id("email").fill(f"stranger-{uuid.uuid4().hex[:8]}@example.com")
    stranger.page.get_by_test_id("sign-in").click()
    expect(stranger.page.get_by_test_id("sign-in-message")).to_contain_text("needs the network")


def test_put_and_delete_with_if_match_pass_their_preflight(open_bearer_device, api_url, email):
    editor = open_bearer_device()
    answers = editor.page.evaluate(
        """async ({ api, email }) => {
          const signedIn = await fetch(`${api}/api/dev/sign-in`, {
            method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }),
          });
          const auth = { Authorization: `Bearer ${(await signedIn.json()).token}` };
          const project = `${api}/api/projects/${crypto.randomUUID()}`;
          const put = await fetch(project, {
            method: 'PUT', headers: { ...auth, 'Content-Type': 'application/json', 'If-Match': '"0"' },
            body: JSON.stringify({ name: 'Preflighted', data: {}, baseRevision: 0 }),
          });
          const got = await fetch(project, { headers: auth });
          const etag = got.headers.get('ETag');
          const notModified = await fetch(project, { headers: { ...auth, 'If-None-Match': etag } });
          const deleted = await fetch(project, { method: 'DELETE', headers: { ...auth, 'If-Match': etag } });
          return { put: put.status, etag, notModified: notModified.status, deleted: deleted.status };
        }""",
        {"api": api_url, "email": email},
    )
    assert answers == {"put": 200, "etag": '"1"', "notModified": 304, "deleted": 200}
