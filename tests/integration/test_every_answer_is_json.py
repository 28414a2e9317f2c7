"""Every answer is the API's: JSON errors, HEAD answered with its GET's headers and no body, no redirect."""

import pytest

from tests.support.lambda_events import http_api_event, invoke


def head(handlers, function: str, path: str, user=None, headers=None):
    cookies = [user.cookie] if user else None
    return invoke(handlers[function], http_api_event("HEAD", path, cookies=cookies, headers=headers))


# Each read route, with a project large enough that its GET is gzip-encoded for a client that asks.
def readable_routes(api, user) -> list[tuple[str, str]]:
    project_id = api.create(user, data={"layers": [{"id": n, "text": f"layer {n}"} for n in range(200)]})
    return [
        ("list_projects", "/api/projects"),
        ("list_changes", "/api/changes"),
        ("get_project", f"/api/projects/{project_id}"),
        ("list_revisions", f"/api/projects/{project_id}/revisions"),
        ("get_revision", f"/api/projects/{project_id}/revisions/1"),
    ]


# The feed's cursor moves as other statements commit, so two answers of it may differ by a byte.
STABLE_LENGTH = {"list_projects", "get_project", "list_revisions", "get_revision"}


@pytest.mark.parametrize("accept_encoding", [None, "gzip"])
def test_head_is_answered_with_the_headers_its_get_sends_and_no_body(api, handlers, new_user, accept_encoding):
    user = new_user()
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else None
    for function, path in readable_routes(api, user):
        got = invoke(handlers[function], http_api_event("GET", path, cookies=[user.cookie], headers=headers))
        headed = head(handlers, function, path, user, headers)
        assert (headed.status, got.status) == (200, 200), (path, headed)
        assert headed.body == b"", path
        compared = ["content-type", "content-encoding", "vary", "etag", "cache-control"]
        if function in STABLE_LENGTH:
            compared.append("content-length")
        assert {name: headed.headers.get(name) for name in compared} == {
            name: got.headers.get(name) for name in compared
        }, path
        assert int(headed.headers["content-length"]) > 0
        if function == "get_project":
            assert got.headers.get("content-encoding") == ("gzip" if accept_encoding else None)
            assert int(got.headers["content-length"]) == len(got.body)


def test_a_head_naming_the_current_revision_is_a_304_as_its_get_is(api, handlers, new_user):
    user = new_user()
    project_id = api.create(user)
    path = f"/api/projects/{project_id}"
    etag = api.get(user, project_id).headers["etag"]
    cached = {"If-None-Match": etag, "Accept-Encoding": "gzip"}
    got = invoke(handlers["get_project"], http_api_event("GET", path, cookies=[user.cookie], headers=cached))
    headed = head(handlers, "get_project", path, user, cached)
    assert (headed.status, headed.body) == (got.status, got.body) == (304, b"")
    assert headed.headers == got.headers


def test_a_refused_head_is_described_as_its_json_get_is(handlers):
    refused = head(handlers, "list_projects", "/api/projects")
    got = invoke(handlers["list_projects"], http_api_event("GET", "/api/projects"))
    assert (refused.status, got.status) == (401, 401)
    assert refused.headers["content-type"] == got.headers["content-type"] == "application/json"
    assert refused.headers["content-length"] == got.headers["content-length"] == str(len(got.body))
    assert refused.body == b""
    assert got.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("path", ["/api/projects/", "/api/projects//"])
def test_a_trailing_slash_is_a_json_404_never_a_redirect_built_from_host(handlers, new_user, path):
    event = http_api_event("GET", path, cookies=[new_user().cookie], headers={"Host": "evil.example"})
    for handler in handlers.values():
        response = invoke(handler, event)
        assert response.status == 404, response
        assert "location" not in response.headers
        assert response.json()["error"]["code"] == "route_not_found"
