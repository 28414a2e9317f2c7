"""Every answer is the API's: JSON errors, HEAD answered as GET is (less the body), no redirect."""

import pytest

from tests.support.lambda_events import http_api_event, invoke


def head(handlers, function: str, path: str, user=None):
    return invoke(handlers[function], http_api_event("HEAD", path, cookies=[user.cookie] if user else None))


def test_head_is_answered_as_get_is(api, handlers, new_user):
    user = new_user()
    project_id = api.create(user)
    routes = (
        ("list_projects", "/api/projects"),
        ("list_changes", "/api/changes"),
        ("get_project", f"/api/projects/{project_id}"),
    )
    for function, path in routes:
        got = invoke(handlers[function], http_api_event("GET", path, cookies=[user.cookie]))
        headed = head(handlers, function, path, user)
        assert headed.status == 200, (path, headed)
        assert headed.headers["content-type"] == got.headers["content-type"] == "application/json"
        assert headed.headers.get("etag") == got.headers.get("etag")


def test_a_refused_head_is_described_as_json_too(handlers):
    refused = head(handlers, "list_projects", "/api/projects")
    assert refused.status == 401
    assert refused.headers["content-type"] == "application/json"
    assert refused.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("path", ["/api/projects/", "/api/projects//"])
def test_a_trailing_slash_is_a_json_404_never_a_redirect_built_from_host(handlers, new_user, path):
    event = http_api_event("GET", path, cookies=[new_user().cookie], headers={"Host": "evil.example"})
    for handler in handlers.values():
        response = invoke(handler, event)
        assert response.status == 404, response
        assert "location" not in response.headers
        assert response.json()["error"]["code"] == "route_not_found"
