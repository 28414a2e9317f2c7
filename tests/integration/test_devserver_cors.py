"""The local server's CORS, for an editor served from another origin: exact origins, every route, preflights
answered and cached, and nothing at all for an origin that is not on the list."""

import uuid

import pytest
from fastapi.testclient import TestClient

from devserver.app import build_local_app
from devserver.cors import EXPOSE_HEADERS, MAX_AGE_SECONDS
from sync_core.adapters.settings import ConfigurationError, LocalServerSettings, load_settings
from tests.conftest import TEST_SECRET

EDITOR = "http://localhost:5173"
STRANGER = "https://evil.example"


def local_server(database_url: str, **cors) -> TestClient:
    settings = LocalServerSettings(
        database_url=database_url,
        better_auth_secret=TEST_SECRET,
        cors_allow_origins=f"{EDITOR}, http://other:1/",
        **cors,
    )
    return TestClient(build_local_app(settings))


@pytest.fixture
def local(database_url) -> TestClient:
    return local_server(database_url)


def preflight(client: TestClient, origin: str, method: str, headers: str, path: str = "/api/projects/x"):
    return client.options(
        path,
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers},
    )


def cors_headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


@pytest.mark.parametrize(
    ("method", "path", "requested"),
    [
        ("PUT", "/api/projects/p1", "authorization, content-type, content-encoding, if-match"),
        ("DELETE", "/api/projects/p1", "authorization, if-match"),
        ("GET", "/api/projects/p1", "authorization, if-none-match"),
        ("POST", "/api/changes", "authorization, content-type, content-encoding"),
        ("POST", "/api/dev/sign-in", "content-type"),
        ("GET", "/a/route/added/later", "authorization"),
    ],
)
def test_a_preflight_from_an_allowed_origin_is_answered_for_every_route(local, method, path, requested):
    response = preflight(local, EDITOR, method, requested, path)
    assert response.status_code == 204
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == EDITOR
    assert method in headers["access-control-allow-methods"].split(", ")
    allowed = {name.lower() for name in headers["access-control-allow-headers"].split(", ")}
    assert set(requested.split(", ")) <= allowed
    assert headers["access-control-max-age"] == str(MAX_AGE_SECONDS)
    assert "access-control-allow-credentials" not in headers, "bearer mode sends no cookies: none are allowed"
    assert response.headers["vary"] == "Origin"


def test_answers_to_an_allowed_origin_name_it_and_expose_etag_and_retry_after(local):
    token = local.post("/api/dev/sign-in", json={"email": f"{uuid.uuid4().hex[:8]}@example.com"}).json()["token"]
    local.cookies.clear()
    project = f"/api/projects/{uuid.uuid4()}"
    bearer = {"Origin": EDITOR, "Authorization": f"Bearer {token}"}
    put = local.put(project, json={"name": "n", "data": {}, "baseRevision": 0}, headers=bearer)
    got = local.get(project, headers=bearer)
    refused = local.get("/api/projects", headers={"Origin": EDITOR})
    for response, status in [(put, 200), (got, 200), (refused, 401)]:
        assert response.status_code == status
        assert response.headers["access-control-allow-origin"] == EDITOR
        assert response.headers["access-control-expose-headers"].split(", ") == list(EXPOSE_HEADERS)
    assert got.headers["etag"] == '"1"'


def test_an_origin_not_on_the_list_gets_no_cors_header_at_all(local):
    refused = preflight(local, STRANGER, "PUT", "authorization, if-match")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    assert cors_headers(refused) == {}
    answered = local.get("/api/projects", headers={"Origin": STRANGER})
    assert answered.status_code == 401
    assert cors_headers(answered) == {}
    assert cors_headers(local.get("/api/projects")) == {}, "a request without Origin is not a CORS request"


def test_origins_are_exact_a_trailing_slash_aside(local):
    assert preflight(local, "http://other:1", "GET", "authorization").status_code == 204
    for near_miss in ("http://localhost:5174", "https://localhost:5173", "http://localhost", "http://other:1/x"):
        assert preflight(local, near_miss, "GET", "authorization").status_code == 403, near_miss


def test_credentials_are_allowed_only_when_set_for_cookie_mode(database_url):
    response = preflight(local_server(database_url, cors_allow_credentials=True), EDITOR, "GET", "authorization")
    assert response.headers["access-control-allow-credentials"] == "true"


def test_an_options_request_that_is_no_preflight_reaches_the_routes(local):
    response = local.options("/api/projects", headers={"Origin": EDITOR})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["access-control-allow-origin"] == EDITOR


def test_a_wildcard_origin_is_refused_at_start(monkeypatch, lambda_environment):
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "*")
    load_settings.cache_clear()
    with pytest.raises(ConfigurationError, match="CORS_ALLOW_ORIGINS"):
        load_settings(LocalServerSettings)
    load_settings.cache_clear()
