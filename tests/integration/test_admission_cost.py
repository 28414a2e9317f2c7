"""What a refused request costs Postgres, read from what Postgres executed for it: a token of no session
costs one index lookup, and no body is parsed before the session and the limiter said yes, gzip-encoded
or not (a gzip body is decoded in Python and reaches the statement as a plain one does)."""

import gzip
import json
import uuid

import psycopg
import pytest

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import ROUTERS
from sync_core.adapters.settings import ApiSettings
from sync_core.domain.session import sign_token
from tests.conftest import TEST_SECRET
from tests.support.lambda_events import http_api_event, invoke
from tests.support.plans import ExplainedDatabase

SESSION_LOOKUP = ("Index Scan", "session")
MALFORMED = '{"name": "n", "data": {'
VALID = json.dumps({"name": "n", "data": {"v": 1}, "baseRevision": 0})


@pytest.fixture
def explained(database_url):
    """Every route over a store whose every statement Postgres also explains; returns (handler, executions)."""
    settings = ApiSettings(database_url=database_url, better_auth_secret=TEST_SECRET)
    database = ExplainedDatabase(settings)
    return HttpApiHandler(api_app(*ROUTERS.values(), settings=settings, database=database)), database.executions


def requests_with_a_body(body: str) -> list[tuple[str, str, str]]:
    project = f"/api/projects/{uuid.uuid4()}"
    return [("PUT", project, body), ("DELETE", project, body), ("POST", "/api/changes", f'{{"changes": [{body}]}}')]


def every_request(body: str) -> list[tuple[str, str, str | None]]:
    reads = [
        ("GET", "/api/projects", None),
        ("GET", "/api/changes", None),
        ("GET", f"/api/projects/{uuid.uuid4()}", None),
        ("GET", f"/api/projects/{uuid.uuid4()}/revisions", None),
        ("GET", f"/api/projects/{uuid.uuid4()}/revisions/1", None),
    ]
    return [*reads, *requests_with_a_body(body)]


def sent_as(encoding: str, headers: dict[str, str], body: str | None) -> dict:
    """The event arguments for `body` sent plain or gzip-encoded (base64 in the event, as API Gateway gives it)."""
    if encoding == "plain" or body is None:
        return {"headers": headers, "body": body}
    return {"headers": {**headers, "Content-Encoding": "gzip"}, "body": gzip.compress(body.encode())}


@pytest.mark.parametrize("encoding", ["plain", "gzip"])
@pytest.mark.parametrize("body", [VALID, MALFORMED], ids=["valid body", "malformed body"])
def test_a_signed_token_of_no_session_costs_one_index_lookup_and_no_parse(explained, body, encoding):
    handler, executions = explained
    bearer = {"Authorization": f"Bearer {sign_token(TEST_SECRET.encode(), 'no-such-session')}"}
    for method, path, sent in every_request(body):
        response = invoke(handler, http_api_event(method, path, **sent_as(encoding, bearer, sent)))
        assert response.status == 401, (method, response)
        (execution,) = executions[-1:]
        assert execution.error is None, (method, execution.error)
        assert execution.scans == [SESSION_LOOKUP], (method, path)
        assert execution.bodies_parsed == 0, method
        assert not execution.parsed_while_planning, method


@pytest.mark.parametrize("encoding", ["plain", "gzip"])
@pytest.mark.parametrize("body", [VALID, MALFORMED], ids=["valid body", "malformed body"])
def test_a_throttled_users_body_is_never_parsed(explained, new_user, database_url, body, encoding):
    handler, executions = explained
    user = new_user()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            """INSERT INTO rate_limits ("userId", scope, tokens, "refilledAt") VALUES (%s, 'write', -1000, now())""",
            (user.id,),
        )
    for method, path, sent in requests_with_a_body(body):
        event = http_api_event(method, path, cookies=[user.cookie], **sent_as(encoding, {}, sent))
        response = invoke(handler, event)
        assert response.status == 429, (method, response)
        (execution,) = executions[-1:]
        assert execution.error is None, (method, execution.error)
        assert execution.bodies_parsed == 0, method
        assert not execution.parsed_while_planning, method


@pytest.mark.parametrize("encoding", ["plain", "gzip"])
def test_an_admitted_body_is_parsed_once_in_the_requests_one_statement(explained, new_user, encoding):
    handler, executions = explained
    user = new_user()
    for method, path, sent in requests_with_a_body(VALID):
        before = len(executions)
        event = http_api_event(method, path, cookies=[user.cookie], **sent_as(encoding, {}, sent))
        assert invoke(handler, event).status in (200, 409)
        assert [execution.bodies_parsed for execution in executions[before:]] == [1], method


def test_a_gzip_body_inflating_past_the_limit_is_refused_by_the_limiter_first(explained, new_user, database_url):
    """A zip bomb is a 413 for an admitted user, and for a throttled one the 429 the limiter gives."""
    handler, executions = explained
    user = new_user()
    bomb = gzip.compress(b" " * (ApiSettings.model_fields["max_body_bytes"].default + 1))
    event = http_api_event(
        "PUT", f"/api/projects/{uuid.uuid4()}", cookies=[user.cookie], headers={"Content-Encoding": "gzip"}, body=bomb
    )
    assert len(bomb) < 10_000
    assert invoke(handler, event).status == 413
    with psycopg.connect(database_url, autocommit=True) as connection:
        throttle = """UPDATE rate_limits SET tokens = -1000 WHERE "userId" = %s AND scope = 'write'"""
        connection.execute(throttle, (user.id,))
    assert invoke(handler, event).status == 429
    assert [execution.bodies_parsed for execution in executions] == [0, 0]
