"""Each successful request is exactly one round trip to Postgres, the session check included."""

import json
import uuid

import pytest

from sync_core.adapters.assembly import api_app, api_services
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import ROUTERS
from sync_core.adapters.settings import ApiSettings, load_settings
from sync_core.domain.changes import FEED_START, FeedCursor, encode_cursor
from tests.support.lambda_events import FUNCTIONS, http_api_event, invoke, load_function
from tests.support.round_trips import counting_database


@pytest.fixture
def traced(lambda_environment):
    database, round_trips = counting_database()
    return HttpApiHandler(api_app(*ROUTERS.values(), database=database)), round_trips


def test_every_route_is_one_round_trip(traced, new_user):
    handler, round_trips = traced
    user = new_user()
    project_id = uuid.uuid4()
    path = f"/api/projects/{project_id}"
    put = json.dumps({"name": "x", "data": {"v": 1}, "baseRevision": 0})
    first_cursor = encode_cursor(FeedCursor(0, FEED_START))
    stale = json.dumps({"name": "x", "data": {"v": 2}, "baseRevision": 0})
    batch = json.dumps(
        {
            "changes": [
                {"id": str(project_id), "name": "x", "data": {"v": 3}, "baseRevision": 0},
                {"id": str(uuid.uuid4()), "name": "y", "data": {"v": 1}, "baseRevision": 0},
                {"id": str(uuid.uuid4()), "deleted": True},
            ]
        }
    )
    requests = [
        (http_api_event("PUT", path, cookies=[user.cookie], body=put), 200),
        (http_api_event("PUT", path, cookies=[user.cookie], body=stale), 409),
        (http_api_event("GET", path, cookies=[user.cookie]), 200),
        (http_api_event("GET", path, cookies=[user.cookie], headers={"If-None-Match": '"1"'}), 304),
        (http_api_event("GET", "/api/projects", cookies=[user.cookie]), 200),
        (http_api_event("GET", "/api/changes", cookies=[user.cookie]), 200),
        (http_api_event("GET", "/api/changes", cookies=[user.cookie], query=f"since={first_cursor}&limit=1"), 200),
        (http_api_event("DELETE", path, cookies=[user.cookie], headers={"If-Match": '"1"'}), 200),
        (http_api_event("GET", f"/api/projects/{uuid.uuid4()}", cookies=[user.cookie]), 404),
        (http_api_event("POST", "/api/changes", cookies=[user.cookie], body=batch), 200),
        (http_api_event("GET", f"{path}/revisions", cookies=[user.cookie]), 200),
        (http_api_event("GET", f"{path}/revisions/1", cookies=[user.cookie]), 200),
        (http_api_event("GET", f"{path}/revisions/1", cookies=[user.cookie], headers={"If-None-Match": '"1"'}), 304),
        (http_api_event("GET", f"{path}/revisions/9", cookies=[user.cookie]), 404),
        (http_api_event("GET", f"/api/projects/{uuid.uuid4()}/revisions", cookies=[user.cookie]), 404),
    ]
    for event, status in requests:
        before = round_trips()
        assert invoke(handler, event).status == status
        assert round_trips() - before == 1, event["routeKey"]


def test_input_refused_before_sql_costs_no_round_trip(traced, new_user):
    handler, round_trips = traced
    user = new_user()
    invoke(handler, http_api_event("GET", "/api/projects/not-a-uuid", cookies=[user.cookie]))
    invoke(handler, http_api_event("GET", "/api/projects"))
    invoke(handler, http_api_event("GET", "/api/changes", cookies=[user.cookie], query="since=x"))
    invoke(handler, http_api_event("GET", "/api/changes", cookies=[user.cookie], query="limit=0"))
    invoke(handler, http_api_event("GET", f"/api/projects/{uuid.uuid4()}/revisions/01", cookies=[user.cookie]))
    invoke(handler, http_api_event("GET", "/api/projects/NOT-A-UUID/revisions", cookies=[user.cookie]))
    assert round_trips() == 0


CREDENTIALS_WITHOUT_A_VALID_SIGNATURE = {
    "none": {},
    "an unsigned bearer": {"headers": {"Authorization": "Bearer x"}},
    "a forged bearer signature": {"headers": {"Authorization": "Bearer x.AAAA"}},
    "a forged cookie": {"cookies": ["better-auth.session_token=x.AAAA"]},
}
FLAWED_REQUESTS = {
    "a malformed id": ("GET", "/api/projects/NOT-A-UUID", {}),
    "a malformed If-None-Match": ("GET", f"/api/projects/{uuid.uuid4()}", {"headers": {"If-None-Match": "x"}}),
    "a malformed flag": ("GET", "/api/projects", {"query": "includeDeleted=maybe"}),
    "a malformed cursor": ("GET", "/api/changes", {"query": "since=not-a-cursor"}),
    "a malformed limit": ("GET", "/api/changes", {"query": "limit=0"}),
    "a malformed revision": ("GET", f"/api/projects/{uuid.uuid4()}/revisions/x", {}),
    "a malformed body": ("PUT", f"/api/projects/{uuid.uuid4()}", {"body": "{"}),
    "an oversized body": ("PUT", f"/api/projects/{uuid.uuid4()}", {"body": "x" * (4 * 1024 * 1024 + 1)}),
    "a declared oversized body": ("PUT", f"/api/projects/{uuid.uuid4()}", {"headers": {"Content-Length": "99999999"}}),
    "a malformed If-Match": ("DELETE", f"/api/projects/{uuid.uuid4()}", {"headers": {"If-Match": "1"}}),
    "a malformed delete body": ("DELETE", f"/api/projects/{uuid.uuid4()}", {"body": "{"}),
}


@pytest.mark.parametrize(
    "credentials", CREDENTIALS_WITHOUT_A_VALID_SIGNATURE.values(), ids=list(CREDENTIALS_WITHOUT_A_VALID_SIGNATURE)
)
@pytest.mark.parametrize("flawed", FLAWED_REQUESTS.values(), ids=list(FLAWED_REQUESTS))
def test_without_a_validly_signed_session_every_request_is_401_at_no_cost_to_postgres(traced, credentials, flawed):
    """Admission order: credentials shape, then signature, before anything else of the request is read."""
    handler, round_trips = traced
    method, path, request = flawed
    headers = {**credentials.get("headers", {}), **request.get("headers", {})}
    event = http_api_event(
        method, path, cookies=credentials.get("cookies"), headers=headers, **_without(request, "headers")
    )
    response = invoke(handler, event)
    assert response.status == 401, response
    assert response.json()["error"]["code"] == "unauthenticated"
    assert round_trips() == 0


def test_a_signed_token_of_no_session_costs_one_round_trip_whatever_else_is_wrong(traced):
    from sync_core.domain.session import sign_token
    from tests.conftest import TEST_SECRET

    handler, round_trips = traced
    bearer = {"Authorization": f"Bearer {sign_token(TEST_SECRET.encode(), 'no-such-session')}"}
    for method, path, request in (FLAWED_REQUESTS["a malformed body"], FLAWED_REQUESTS["an oversized body"]):
        before = round_trips()
        response = invoke(handler, http_api_event(method, path, headers=bearer, **request))
        assert response.status == 401, response
        assert round_trips() - before == 1


def _without(options: dict, name: str) -> dict:
    return {key: value for key, value in options.items() if key != name}


def test_a_refused_request_that_reached_the_limiter_is_one_round_trip_too(traced, new_user):
    handler, round_trips = traced
    user = new_user()
    for method, path, request in (FLAWED_REQUESTS["a malformed body"], FLAWED_REQUESTS["an oversized body"]):
        before = round_trips()
        response = invoke(handler, http_api_event(method, path, cookies=[user.cookie], **request))
        assert response.status in (400, 413), response
        assert round_trips() - before == 1


@pytest.fixture
def traced_functions(lambda_environment):
    """Every project function as Lambda imports it, with its services over one traced connection."""
    database, round_trips = counting_database()
    services = api_services(load_settings(ApiSettings), database)
    handlers = [load_function(name).handler for name in FUNCTIONS]
    for handler in handlers:
        handler.app.state.services = services
    return handlers, round_trips


def test_every_route_of_every_function_judges_credentials_before_anything_else(traced_functions):
    """The admission order for every route, those of later functions included: a request flawed in every
    way the API checks, and signed by no one, is a 401 that costs Postgres nothing."""
    handlers, round_trips = traced_functions
    flawed = {"If-Match": "x", "If-None-Match": "x", "Content-Length": "99999999"}
    checked = set()
    for handler in handlers:
        for method, path in served_routes(handler):
            concrete = path.replace("{project_id}", "NOT-A-UUID")
            for credentials in CREDENTIALS_WITHOUT_A_VALID_SIGNATURE.values():
                headers = {**flawed, **credentials.get("headers", {})}
                cookies = credentials.get("cookies")
                event = http_api_event(
                    method,
                    concrete,
                    cookies=cookies,
                    headers=headers,
                    query="x=1&includeDeleted=x&since=x&limit=x",
                    body="{",
                )
                response = invoke(handler, event)
                assert response.status == 401, (method, path)
                if method != "HEAD":  # a HEAD answer has its GET's headers, and no body
                    assert response.json()["error"]["code"] == "unauthenticated", (method, path)
            checked.add((method, path))
    assert {
        ("GET", "/api/projects"),
        ("GET", "/api/changes"),
        ("HEAD", "/api/projects/{project_id}"),
        ("DELETE", "/api/projects/{project_id}"),
        ("POST", "/api/changes"),
        ("GET", "/api/projects/{project_id}/revisions"),
        ("HEAD", "/api/projects/{project_id}/revisions/{revision}"),
    } <= checked
    assert round_trips() == 0


def served_routes(handler) -> set[tuple[str, str]]:
    """(method, path) of every route a function's app serves."""
    return {(method, route.path) for route in handler.app.routes for method in route.methods}


def test_a_write_the_storage_quota_refuses_is_one_round_trip(lambda_environment, new_user):
    database, round_trips = counting_database()
    settings = load_settings(ApiSettings).model_copy(update={"quota_projects_per_user": 1})
    handler = HttpApiHandler(api_app(*ROUTERS.values(), settings=settings, database=database))
    user = new_user()
    body = json.dumps({"name": "x", "data": {}, "baseRevision": 0})
    batch = json.dumps({"changes": [{"id": str(uuid.uuid4()), "name": "y", "data": {}, "baseRevision": 0}]})
    assert invoke(handler, http_api_event("PUT", f"/api/projects/{uuid.uuid4()}", cookies=[user.cookie], body=body))
    for method, path, sent in (("PUT", f"/api/projects/{uuid.uuid4()}", body), ("POST", "/api/changes", batch)):
        before = round_trips()
        response = invoke(handler, http_api_event(method, path, cookies=[user.cookie], body=sent))
        answer = response.json()
        assert (answer.get("error") or answer["results"][0]["error"])["code"] == "quota_exceeded", response
        assert round_trips() - before == 1
