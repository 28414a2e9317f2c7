"""The HTTP adapter over a fake store: status codes, headers and JSON errors, without Postgres.

The fake stands in for the projects store port; everything Postgres decides is tested in integration/.
"""

import asyncio
import gzip
import io
import json
import uuid

import pytest
from starlette.routing import Route, Router

from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.app import build_app
from sync_core.adapters.http.encoding import accepts_gzip
from sync_core.adapters.http.routes import ROUTERS, Services, list_projects_router
from sync_core.adapters.logs import logger
from sync_core.domain import changes, projects
from sync_core.domain.errors import CursorExpired, DatabaseUnavailable, RevisionConflict, WriteRaced
from sync_core.domain.limits import LimitHooks
from sync_core.domain.session import SessionPolicy, sign_token
from tests.support.lambda_events import http_api_event, invoke

SECRET = b"unit-secret"
ANSWER_GZIP_MIN_BYTES = 16
COOKIE = "better-auth.session_token=" + sign_token(SECRET, "tok").replace("=", "%3D").replace("+", "%2B")


class FakeStore:
    def __init__(self):
        self.calls = []
        self.failure = None
        self.document = b'{"id": "x"}'

    def _record(self, *call):
        self.calls.append(call)
        if self.failure:
            raise self.failure

    def list_projects(self, session_token, *, include_deleted):
        self._record("list", session_token, include_deleted)
        return b"[]"

    def list_changes(self, session_token, since, limit):
        self._record("changes", session_token, since, limit)
        return changes.ChangesPage([], changes.FeedCursor(9, changes.FEED_START), more=False)

    def get_project(self, session_token, project_id, cached):
        self._record("get", session_token, project_id, cached)
        if 5 in cached.revisions:
            return projects.NotModified(5)
        return projects.ProjectDocument(5, self.document)

    def put_project(self, session_token, project_id, write):
        self._record("put", session_token, project_id, write)
        return projects.ProjectDocument(6, b'{"revision": 6}')

    def report_body_too_large(self, session_token):
        self.calls.append(("report_body_too_large", session_token))

    def delete_project(self, session_token, project_id, deletion):
        self._record("delete", session_token, project_id, deletion)
        return projects.ProjectDocument(7, b'{"revision": 7}')


@pytest.fixture
def store():
    return FakeStore()


@pytest.fixture
def handler(store):
    services = Services(
        store=store,
        session_policy=SessionPolicy(secret=SECRET),
        max_body_bytes=64,
        answer_gzip_min_bytes=ANSWER_GZIP_MIN_BYTES,
        hooks=LimitHooks(),
    )
    return HttpApiHandler(build_app(*ROUTERS.values(), services=services))


def test_get_sets_the_etag_and_304_has_no_body(handler, store):
    project_id = uuid.uuid4()
    ok = invoke(handler, http_api_event("GET", f"/api/projects/{project_id}", cookies=[COOKIE]))
    assert ok.status == 200
    assert ok.headers["etag"] == '"5"'
    assert ok.text == '{"id": "x"}'
    cached = invoke(
        handler,
        http_api_event("GET", f"/api/projects/{project_id}", cookies=[COOKIE], headers={"If-None-Match": '"5"'}),
    )
    assert cached.status == 304
    assert cached.text == ""
    assert store.calls[0][:3] == ("get", "tok", project_id)


def test_put_hands_the_raw_body_to_the_store_with_a_fresh_fallback_write_id(handler, store):
    body = '{"name": "x", "data": 1, "baseRevision": 0}'
    path = f"/api/projects/{uuid.uuid4()}"
    invoke(handler, http_api_event("PUT", path, cookies=[COOKIE], body=body))
    invoke(handler, http_api_event("PUT", path, cookies=[COOKIE], body=body))
    first, second = store.calls[0][3], store.calls[1][3]
    assert first.body == body.encode(), "the bytes as sent: Postgres decodes and parses them"
    assert first.fallback_write_id != second.fallback_write_id


def test_a_base64_body_is_decoded(handler, store):
    body = '{"name": "é", "data": 1, "baseRevision": 0}'
    invoke(handler, http_api_event("PUT", f"/api/projects/{uuid.uuid4()}", cookies=[COOKIE], body=body.encode()))
    assert store.calls[0][3].body == body.encode()


def test_delete_hands_the_body_and_if_match_to_the_store(handler, store):
    path = f"/api/projects/{uuid.uuid4()}"
    invoke(
        handler,
        http_api_event("DELETE", path, cookies=[COOKIE], body='{"baseRevision": 3}', headers={"If-Match": '"3"'}),
    )
    assert store.calls[0][3] == projects.ProjectDeletion(body=b'{"baseRevision": 3}', if_match_revision=3)


def test_an_oversized_body_is_413_before_the_store(handler, store):
    response = invoke(handler, http_api_event("PUT", f"/api/projects/{uuid.uuid4()}", cookies=[COOKIE], body="x" * 65))
    assert response.status == 413
    assert store.calls == [("report_body_too_large", "tok")]


def test_a_conflict_returns_the_server_copy_verbatim(handler, store):
    store.failure = RevisionConflict('{"server": {"revision": 9}}')
    response = invoke(handler, http_api_event("DELETE", f"/api/projects/{uuid.uuid4()}", cookies=[COOKIE]))
    assert response.status == 409
    assert response.text == '{"server": {"revision": 9}}'


def test_an_unavailable_database_is_503_with_retry_after(handler, store):
    store.failure = DatabaseUnavailable("down", retry_after_seconds=1)
    response = invoke(handler, http_api_event("GET", "/api/projects", cookies=[COOKIE]))
    assert response.status == 503
    assert response.headers["retry-after"] == "1"
    assert response.json() == {"error": {"code": "database_unavailable", "message": "down"}}


def test_a_raced_write_is_503_with_retry_after_and_its_own_code(handler, store):
    store.failure = WriteRaced("raced", retry_after_seconds=1)
    response = invoke(handler, http_api_event("PUT", f"/api/projects/{uuid.uuid4()}", cookies=[COOKIE], body="{}"))
    assert response.status == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "write_raced"


def test_an_unexpected_failure_is_a_json_500_and_logged(handler, store):
    store.failure = RuntimeError("bug")
    response = invoke(handler, http_api_event("GET", "/api/projects", cookies=[COOKIE]))
    assert response.status == 500
    assert response.json()["error"]["code"] == "internal_error"


def test_unknown_routes_and_methods_are_json(handler):
    assert invoke(handler, http_api_event("GET", "/nope")).json()["error"]["code"] == "route_not_found"
    response = invoke(handler, http_api_event("POST", "/api/projects"))
    assert response.status == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_include_deleted_flag(handler, store):
    invoke(handler, http_api_event("GET", "/api/projects", cookies=[COOKIE], query="includeDeleted=1"))
    invoke(handler, http_api_event("GET", "/api/projects", cookies=[COOKIE]))
    assert [call[2] for call in store.calls] == [True, False]


def test_changes_hands_the_parsed_cursor_and_limit_to_the_store(handler, store):
    cursor = changes.FeedCursor(5, changes.FeedPosition(7, uuid.uuid4()))
    since = changes.encode_cursor(cursor)
    first = invoke(handler, http_api_event("GET", "/api/changes", cookies=[COOKIE]))
    invoke(handler, http_api_event("GET", "/api/changes", cookies=[COOKIE], query=f"since={since}&limit=7"))
    assert [call[2:] for call in store.calls] == [(None, changes.DEFAULT_LIMIT), (cursor, 7)]
    assert first.json() == {
        "changes": [],
        "cursor": changes.encode_cursor(changes.FeedCursor(9, changes.FEED_START)),
        "more": False,
    }


def test_an_expired_cursor_is_410_with_its_own_code(handler, store):
    store.failure = CursorExpired("expired")
    response = invoke(handler, http_api_event("GET", "/api/changes", cookies=[COOKIE]))
    assert response.status == 410
    assert response.json() == {"error": {"code": "cursor_expired", "message": "expired"}}


def test_a_function_leaves_cors_to_the_http_api():
    """On a stage the HTTP API answers preflights and adds the CORS headers; a function never does."""
    app = build_app(
        list_projects_router,
        services=Services(
            store=FakeStore(),
            session_policy=SessionPolicy(secret=SECRET),
            max_body_bytes=64,
            answer_gzip_min_bytes=ANSWER_GZIP_MIN_BYTES,
            hooks=LimitHooks(),
        ),
    )
    handler = HttpApiHandler(app)
    preflight = http_api_event(
        "OPTIONS", "/api/projects", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
    )
    response = invoke(handler, preflight)
    assert response.status == 405
    assert not [name for name in response.headers if name.startswith("access-control-")]


def asgi_put(app, chunks: int, chunk: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """PUT a body of `chunks` chunks straight through ASGI; returns (status, chunks the app pulled)."""
    pulled = 0
    statuses = []

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    path = f"/api/projects/{uuid.uuid4()}"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"local"), *headers],
        "server": ("local", 80),
        "client": ("127.0.0.1", 5000),
    }
    asyncio.run(app(scope, receive, send))
    return statuses[0], pulled


def test_a_chunked_body_is_refused_the_moment_it_passes_the_limit(handler, store):
    # Given a 64-byte limit and a body streamed in 16-byte chunks with no Content-Length
    status, pulled = asgi_put(handler.app, 1000, b"x" * 16, [(b"cookie", COOKIE.encode())])
    # Then the fifth chunk, the one that passes the limit, is the last one read
    assert (status, pulled) == (413, 5)
    assert store.calls == [("report_body_too_large", "tok")]


def test_without_credentials_not_one_chunk_of_the_body_is_read(handler, store):
    assert asgi_put(handler.app, 1000, b"x" * 16, []) == (401, 0)
    assert store.calls == []


def put_encoded(handler, body: bytes, encoding: str):
    event = http_api_event(
        "PUT", f"/api/projects/{uuid.uuid4()}", cookies=[COOKIE], body=body, headers={"Content-Encoding": encoding}
    )
    return invoke(handler, event)


def test_a_gzip_body_reaches_the_store_decoded(handler, store):
    body = b'{"name": "x", "data": 1}'
    assert put_encoded(handler, gzip.compress(body), "gzip").status == 200
    assert store.calls[0][3].body == body


def test_a_gzip_body_that_inflates_past_the_limit_is_413_after_admission(handler, store):
    # Given a 64-byte limit and fewer bytes on the wire, which would inflate to 16 KiB
    bomb = gzip.compress(b" " * 16 * 1024)
    assert len(bomb) < 64
    response = put_encoded(handler, bomb, "gzip")
    assert response.status == 413
    assert "decoded" in response.json()["error"]["message"]
    assert store.calls == [("report_body_too_large", "tok")]


@pytest.mark.parametrize(
    "sent",
    [b"not gzip at all", gzip.compress(b'{"name": "x"}')[:-6], gzip.compress(b"{}") + b"trailing"],
    ids=["not gzip", "truncated", "data after the stream"],
)
def test_a_corrupt_gzip_body_is_a_json_400(handler, store, sent):
    response = put_encoded(handler, sent, "gzip")
    assert response.status == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert "gzip" in response.json()["error"]["message"]
    assert store.calls == []


def test_an_unknown_content_encoding_is_415_before_the_body(handler, store):
    response = put_encoded(handler, b"{}", "br")
    assert response.status == 415
    assert response.json()["error"]["code"] == "unsupported_content_encoding"
    assert store.calls == []


def test_a_large_answer_is_gzip_encoded_for_a_client_that_accepts_it(handler, store):
    store.document = b'{"id": "x", "data": "' + b"y" * 200 + b'"}'
    path = f"/api/projects/{uuid.uuid4()}"
    encoded = invoke(handler, http_api_event("GET", path, cookies=[COOKIE], headers={"Accept-Encoding": "gzip, br"}))
    plain = invoke(handler, http_api_event("GET", path, cookies=[COOKIE]))
    assert encoded.headers["content-encoding"] == "gzip"
    assert encoded.raw["isBase64Encoded"], "Lambda is handed the gzip bytes in base64"
    assert len(encoded.body) < len(store.document)
    assert encoded.text == plain.text == store.document.decode()
    assert "content-encoding" not in plain.headers
    # The ETag names the revision, in either encoding; both answers say they vary by Accept-Encoding.
    assert encoded.headers["etag"] == plain.headers["etag"] == '"5"'
    assert "Accept-Encoding" in encoded.headers["vary"]
    assert "Accept-Encoding" in plain.headers["vary"]
    cached = http_api_event(
        "GET", path, cookies=[COOKIE], headers={"Accept-Encoding": "gzip", "If-None-Match": encoded.headers["etag"]}
    )
    not_modified = invoke(handler, cached)
    assert (not_modified.status, not_modified.body) == (304, b"")


def test_an_answer_below_the_threshold_goes_unencoded(handler, store):
    store.document = b'{"id": "x"}'
    assert len(store.document) < ANSWER_GZIP_MIN_BYTES
    path = f"/api/projects/{uuid.uuid4()}"
    response = invoke(handler, http_api_event("GET", path, cookies=[COOKIE], headers={"Accept-Encoding": "gzip"}))
    assert "content-encoding" not in response.headers
    assert response.text == '{"id": "x"}'


@pytest.mark.parametrize(
    ("accept_encoding", "accepted"),
    [
        ("gzip", True),
        ("br, GZIP;q=0.5", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0", False),
        ("identity", False),
        ("deflate, br", False),
        ("gzip;q=bad", False),
        ("*;q=0, gzip", True),
        ("*, gzip;q=0", False),
        ("identity, *;q=0.5", True),
        (None, False),
    ],
)
def test_accept_encoding_takes_gzip_only_with_a_positive_quality(accept_encoding, accepted):
    assert accepts_gzip(accept_encoding) is accepted


@pytest.mark.parametrize("sent", ["not base64!", "abc", "3q2+7w"], ids=["alphabet", "length", "padding"])
def test_a_body_that_is_not_valid_base64_is_a_json_400(handler, store, sent):
    event = http_api_event("PUT", f"/api/projects/{uuid.uuid4()}", cookies=[COOKIE], body="x")
    response = invoke(handler, {**event, "body": sent, "isBase64Encoded": True})
    assert response.status == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert "base64" in response.json()["error"]["message"]
    assert store.calls == []


def test_a_gzip_body_sent_as_base64_reaches_the_store_decoded(handler, store):
    event = http_api_event(
        "PUT",
        f"/api/projects/{uuid.uuid4()}",
        cookies=[COOKIE],
        headers={"content-encoding": "gzip"},
        body=gzip.compress(b'{"name": "x"}'),
    )
    assert event["isBase64Encoded"]
    assert invoke(handler, event).status == 200
    assert store.calls[0][3].body == b'{"name": "x"}'


class Suspends:
    """An awaitable that hands control back to whoever drives the coroutine, as waiting on I/O does."""

    def __await__(self):
        yield


def test_a_route_that_waits_is_a_json_500_with_the_request_id_logged_once(store):
    async def waiting_route(request):
        await Suspends()

    services = Services(store, SessionPolicy(secret=SECRET), 64, ANSWER_GZIP_MIN_BYTES, LimitHooks())
    handler = HttpApiHandler(build_app(Router([Route("/wait", waiting_route)]), services=services))
    buffer = io.StringIO()
    previous_stream, previous_level = logger.registered_handler.setStream(buffer), logger.log_level
    logger.setLevel("INFO")
    try:
        response = invoke(handler, http_api_event("GET", "/wait"))
    finally:
        logger.setLevel(previous_level)
        logger.registered_handler.setStream(previous_stream)
    assert response.status == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.headers["x-request-id"] == "test-request"
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    by_message = {line["message"]: line for line in lines}
    assert sorted(line["message"] for line in lines) == ["request", "unexpected error"]
    assert "awaited something that waits" in by_message["unexpected error"]["exception"]
    assert (by_message["request"]["status"], by_message["request"]["error_code"]) == (500, "internal_error")


def test_a_text_body_with_a_lone_surrogate_is_a_json_400(handler, store):
    event = http_api_event("PUT", f"/api/projects/{uuid.uuid4()}", cookies=[COOKIE], body='{"name": "\udcff"}')
    response = invoke(handler, event)
    assert response.status == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert store.calls == []


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", f"/api/projects/{uuid.uuid4()}", "DELETE, GET, HEAD, PUT"),
        ("PUT", "/api/changes", "GET, HEAD, POST"),
        ("POST", "/api/projects", "GET, HEAD"),
    ],
)
def test_a_405_allows_every_method_its_path_takes_across_routes(handler, method, path, allowed):
    response = invoke(handler, http_api_event(method, path, cookies=[COOKIE]))
    assert (response.status, response.json()["error"]["code"]) == (405, "method_not_allowed")
    assert response.headers["allow"] == allowed
