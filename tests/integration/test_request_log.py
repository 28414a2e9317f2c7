"""Each API request logs one JSON line an operator can follow (its ids, route, status, timings, sizes,
error code), the answer carries the same request id, and neither a session token nor project data is logged."""

import io
import json
import uuid
from dataclasses import dataclass

import pytest

from sync_core.adapters.logs import logger
from tests.support.lambda_events import LambdaResponse, http_api_event

SECRET_DATA = "layer-of-the-secret-mockup-7f3a"


@dataclass(frozen=True)
class LambdaContext:
    aws_request_id: str
    function_name: str = "appframes-sync-put-project"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:appframes-sync-put-project"


@pytest.fixture
def log_lines():
    """The lines the service's logger writes during the test at INFO (a deployed stage's level), parsed."""
    buffer = io.StringIO()
    previous_stream, previous_level = logger.registered_handler.setStream(buffer), logger.log_level
    logger.setLevel("INFO")
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    logger.setLevel(previous_level)
    logger.registered_handler.setStream(previous_stream)


def call(handler, user, method: str, path: str, body: dict | None = None) -> tuple[LambdaResponse, LambdaContext]:
    context = LambdaContext(aws_request_id=str(uuid.uuid4()))
    event = http_api_event(method, path, cookies=[user.cookie], body=None if body is None else json.dumps(body))
    return LambdaResponse(handler(event, context)), context


def request_line(lines: list[dict]) -> dict:
    (line,) = [line for line in lines if line["message"] == "request"]
    return line


def test_a_write_logs_one_line_with_its_context_and_counts(handlers, new_user, log_lines):
    user = new_user()
    project_id = str(uuid.uuid4())
    body = {"name": "Mockup", "data": {"note": SECRET_DATA}, "baseRevision": 0}
    response, context = call(handlers["put_project"], user, "PUT", f"/api/projects/{project_id}", body)
    assert response.status == 200, response
    assert response.headers["x-request-id"] == "test-request"

    lines = log_lines()
    line = request_line(lines)
    assert line["correlation_id"] == "test-request"
    assert line["request_id"] == "test-request"
    assert line["function_request_id"] == context.aws_request_id
    assert isinstance(line["cold_start"], bool)
    assert (line["method"], line["route"], line["status"]) == ("PUT", "/api/projects/{project_id}", 200)
    assert line["bytes_in"] == len(json.dumps(body).encode())
    assert line["bytes_out"] == len(response.text.encode())
    assert 0 < line["postgres_ms"] <= line["duration_ms"]
    assert "error_code" not in line  # powertools leaves out keys whose value is None
    everything_logged = "\n".join(json.dumps(line) for line in lines)
    for secret in (SECRET_DATA, user.token, user.signed_token, project_id):
        assert secret not in everything_logged


def test_an_error_answer_carries_the_request_id_and_logs_its_code(handlers, new_user, log_lines):
    user = new_user()
    response, _ = call(handlers["get_project"], user, "GET", "/api/projects/not-a-uuid")
    assert response.status == 400
    assert response.headers["x-request-id"] == "test-request"
    line = request_line(log_lines())
    assert (line["status"], line["error_code"]) == (400, "invalid_request")
    assert user.token not in json.dumps(line)


def test_a_refused_session_is_logged_without_its_token(handlers, log_lines):
    event = http_api_event("GET", "/api/projects", headers={"authorization": "Bearer not-a-real-token-91c2"})
    response = LambdaResponse(handlers["list_projects"](event, LambdaContext(aws_request_id=str(uuid.uuid4()))))
    assert response.status == 401
    assert response.headers["x-request-id"] == "test-request"
    line = request_line(log_lines())
    assert (line["status"], line["error_code"], line["postgres_ms"]) == (401, "unauthenticated", 0)
    assert "not-a-real-token-91c2" not in json.dumps(log_lines())
