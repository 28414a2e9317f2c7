"""Cookie mode across subdomains of one site, in real Chromium: the demo on `editor.appframes.test`, the
API on `api.appframes.test` (both resolved to this machine), the session cookie sent with
`credentials: 'include'` and allowed by CORS with credentials, as a stage with a custom domain runs it."""

from collections.abc import Callable, Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Request, expect

from tests.e2e.conftest import CHROMIUM
from tests.e2e.editor_page import SYNC_TIMEOUT_MS, EditorPage
from tests.e2e.static_origin import static_origin
from tests.support.devserver_process import running_devserver

SITE = "appframes.test"


def on_site(url: str, subdomain: str) -> str:
    return f"http://{subdomain}.{SITE}:{urlparse(url).port}"


@pytest.fixture(scope="module")
def editor_on_site() -> Iterator[str]:
    with static_origin() as origin:
        yield on_site(origin, "editor")


@pytest.fixture(scope="module")
def api_on_site(database_url, editor_on_site, tmp_path_factory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("subdomains") / "devserver.log"
    environment = {"CORS_ALLOW_ORIGINS": editor_on_site, "CORS_ALLOW_CREDENTIALS": "true"}
    with running_devserver(database_url, log, **environment) as url:
        yield on_site(url, "api")


@pytest.fixture(scope="module")
def site_browser(browser, editor_on_site, api_on_site):
    """Another Chromium of the same Playwright, resolving every name of the site to this machine, its two
    origins taken as secure contexts as https would make them (the engine needs `crypto.randomUUID`)."""
    chromium = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            f"--host-resolver-rules=MAP *.{SITE} 127.0.0.1",
            f"--unsafely-treat-insecure-origin-as-secure={editor_on_site},{api_on_site}",
        ],
    )
    yield chromium
    chromium.close()


@pytest.fixture
def open_cookie_device(site_browser, editor_on_site, api_on_site) -> Iterator[Callable[[], EditorPage]]:
    contexts = []

    def open_new_device() -> EditorPage:
        context = site_browser.new_context(base_url=editor_on_site)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return EditorPage.open(context, f"/?api={api_on_site}&auth=cookie")

    yield open_new_device
    for context in contexts:
        context.close()


def test_cookie_mode_syncs_both_ways_across_subdomains(open_cookie_device, api_on_site, email):
    laptop, phone = open_cookie_device(), open_cookie_device()
    sent: list[Request] = []
    laptop.page.on("request", lambda request: sent.append(request) if request.url.startswith(api_on_site) else None)
    laptop.sign_in(email)
    laptop.create_project("Same site", "from the laptop")
    laptop.expect_synced()

    phone.sign_in(email)
    phone.open_project("Same site")
    expect(phone.text).to_have_value("from the laptop")
    phone.edit_text("and back from the phone")
    phone.expect_synced()
    laptop.open_project("Same site")
    laptop.sync_now()
    expect(laptop.text).to_have_value("and back from the phone", timeout=SYNC_TIMEOUT_MS)

    sync_calls = [request for request in sent if "/api/dev/" not in request.url]
    assert sync_calls
    for request in sync_calls:
        headers = request.all_headers()
        assert "better-auth.session_token=" in headers.get("cookie", ""), request.url
        assert "authorization" not in headers, request.url
