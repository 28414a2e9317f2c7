"""The local server: every route, the dev sign-in, the demo page; and no Lambda function has the sign-in."""

import re
import uuid

import pytest
from fastapi.testclient import TestClient

from devserver.app import build_local_app
from devserver.openapi import load_document, operations
from sync_core.adapters.settings import LocalServerSettings, load_settings
from tests.support.lambda_events import http_api_event, invoke


@pytest.fixture
def local(lambda_environment) -> TestClient:
    return TestClient(build_local_app(load_settings(LocalServerSettings)))


def test_dev_sign_in_makes_a_session_the_api_accepts(local):
    assert local.get("/api/projects").status_code == 401
    signed_in = local.post("/api/dev/sign-in", json={"email": "Ada@Example.com", "name": "Ada"})
    assert signed_in.status_code == 200
    user = signed_in.json()["user"]
    assert user["email"] == "ada@example.com"
    assert local.get("/api/dev/session").json()["user"] == user
    project_id = uuid.uuid4()
    put = local.put(f"/api/projects/{project_id}", json={"name": "n", "data": {}, "baseRevision": 0})
    assert put.status_code == 200
    assert [p["id"] for p in local.get("/api/projects").json()] == [str(project_id)]


def test_signing_in_again_with_the_same_email_is_the_same_user(local):
    first = local.post("/api/dev/sign-in", json={"email": "grace@example.com"}).json()
    second = local.post("/api/dev/sign-in", json={"email": "grace@example.com"}).json()
    assert first["user"]["id"] == second["user"]["id"]
    assert first["token"] != second["token"]


def test_the_sign_in_token_works_as_a_bearer_token(local, lambda_environment):
    token = local.post("/api/dev/sign-in", json={"email": "bearer@example.com"}).json()["token"]
    local.cookies.clear()
    assert local.get("/api/projects").status_code == 401
    assert local.get("/api/projects", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_sign_out_ends_the_session(local):
    local.post("/api/dev/sign-in", json={"email": "linus@example.com"})
    cookie = local.cookies.get("better-auth.session_token")
    assert local.post("/api/dev/sign-out").status_code == 200
    assert local.get("/api/dev/session").status_code == 401
    local.cookies.set("better-auth.session_token", cookie)
    assert local.get("/api/projects").status_code == 401, "the session row is gone, not just the cookie"


def test_a_bad_sign_in_is_422_json(local):
    response = local.post("/api/dev/sign-in", json={"email": "not an email"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_the_demo_editor_is_served_at_the_root(local):
    response = local.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


def test_no_lambda_function_serves_the_dev_routes(handlers):
    for name, handler in handlers.items():
        for method, path in [("POST", "/api/dev/sign-in"), ("POST", "/api/dev/sign-out"), ("GET", "/api/dev/session")]:
            event = http_api_event(method, path, body='{"email": "mallory@example.com"}')
            response = invoke(handler, event)
            assert response.status in (404, 405), (name, path, response)
            assert response.json()["error"]["code"] in ("route_not_found", "method_not_allowed")


def test_the_api_document_is_served_as_json(local):
    response = local.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == load_document()
    assert response.json()["openapi"].startswith("3.1")


def test_the_docs_page_shows_every_operation_and_loads_nothing_from_elsewhere(local):
    response = local.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for method, path, operation in operations(load_document()):
        assert f'id="{operation["operationId"]}"' in page, (method, path)
    # Works offline: no script, stylesheet, image or font from another origin (nor any script at all).
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
