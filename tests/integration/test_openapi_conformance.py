"""The running API agrees with its document: schemathesis generates requests for every operation of
/openapi.json (valid ones and, in its negative phases, invalid ones) and sends them to the local server's
app on the test Postgres, signed in as a real Better Auth session. No answer may be a 5xx, and every
answer's status, content type, headers and body must be the ones the document gives that operation.
Bounded to about a hundred requests an operation and 15 sequences of up to 6 calls (25-45 s here)."""

import collections
import uuid

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from devserver.app import build_local_app
from devserver.openapi import load_document, operations
from sync_core.adapters.settings import LocalServerSettings, load_settings
from tests.conftest import TEST_SECRET
from tests.support.accounts import create_signed_in_user

CHECKS = [
    # No 5xx; the status, content type, headers and body are the operation's documented ones.
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    # A request the document forbids is refused (4xx), a required header missing too, other methods 405;
    # a request that succeeded, sent again without its session or with a made-up one, is a 401.
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
    ignored_auth,
]
# A batch answers a change's wrong fields inside its 200 (that change's 422), so that one bad change
# never blocks the others: a batch with a change the document forbids is accepted by design.
BATCH_CHECKS = [check for check in CHECKS if check is not negative_data_rejection]
# The project id the document's examples use: it exists for the signed-in user, so the examples reach it.
EXAMPLE_PROJECT_ID = load_document()["components"]["parameters"]["projectId"]["example"]
# Each operation's answers, by status: the run must have reached every operation signed in.
statuses_by_operation: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


@pytest.fixture(scope="module")
def signed_in_user(database_url):
    return create_signed_in_user(database_url, TEST_SECRET)


@pytest.fixture(scope="module")
def local_app(lambda_environment, signed_in_user):
    # Without limits: thousands of requests of one user would otherwise end as 429s, which say nothing
    # about the routes behind the limiter (the 429 itself is covered in test_rate_limits.py).
    return build_local_app(load_settings(LocalServerSettings).model_copy(update={"rate_limits_enabled": False}))


@pytest.fixture(scope="module")
def api_schema(local_app, signed_in_user):
    example = {"name": "Example", "data": {"frames": []}, "baseRevision": 0}
    bearer = {"Authorization": f"Bearer {signed_in_user.signed_token}"}
    put = TestClient(local_app).put(f"/api/projects/{EXAMPLE_PROJECT_ID}", json=example, headers=bearer)
    assert put.status_code == 200, put.text
    # The session as the document's bearer scheme, so that schemathesis knows its requests are signed in.
    config = SchemathesisConfig.from_dict(
        {"auth": {"openapi": {"bearerToken": {"bearer": signed_in_user.signed_token}}}}
    )
    return schemathesis.openapi.from_asgi("/openapi.json", local_app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case):
    response = case.call_and_validate(checks=checks_for(case))
    statuses_by_operation[f"{case.operation.method.upper()} {case.operation.path}"][response.status_code] += 1


def test_the_run_reached_every_operation_signed_in():
    # Runs after the test above (pytest keeps a file's order) and reads what it recorded: a run whose
    # requests all ended as 401s, 404s or 422s would prove little about the routes behind them.
    documented = {f"{method} {path}" for method, path, _ in operations(load_document())}
    assert set(statuses_by_operation) == documented, "run test_every_operation_answers_as_documented first"
    not_reached = {operation for operation, statuses in statuses_by_operation.items() if statuses[200] == 0}
    assert not not_reached, dict(statuses_by_operation)


def test_sequences_of_calls_along_the_documents_links_answer_as_documented(api_schema, local_app, database_url):
    # Given the document's links (a PUT's id to its GET and DELETE, an ETag to If-None-Match and If-Match,
    # a page's cursor to the next page), schemathesis chains calls with values real answers gave
    class Sequences(api_schema.as_state_machine()):
        client = TestClient(local_app)

        def setup(self):
            # Each sequence in an account of its own, holding one project: the same steps then meet the
            # same projects (Hypothesis replays choices, not the database).
            self.bearer = f"Bearer {create_signed_in_user(database_url, TEST_SECRET).signed_token}"
            project = {"name": "Sequence", "data": {"frames": []}, "baseRevision": 0}
            put = self.client.put(f"/api/projects/{uuid.uuid4()}", json=project, headers={"Authorization": self.bearer})
            assert put.status_code == 200, put.text

        def before_call(self, case):
            if case.headers and "Authorization" in case.headers:
                case.headers["Authorization"] = self.bearer

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # ignored_auth takes this account's session for a made-up one (the test above runs it).
            checks = [check for check in checks_for(case) if check is not ignored_auth]
            case.validate_response(response, checks=checks, transport_kwargs=kwargs or None)

    # Then every answer along the way is as documented. No shrinking and no replays (of choices, not of
    # the database): the first failure is reported as it happened.
    Sequences.run(
        settings=settings(
            max_examples=15,
            stateful_step_count=6,
            phases=[Phase.generate],
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )


def checks_for(case) -> list:
    batch = case.operation.method.upper() == "POST" and case.operation.path == "/api/changes"
    return BATCH_CHECKS if batch or _blank_delete_body(case) else CHECKS


def _blank_delete_body(case) -> bool:
    """A DELETE whose body is only whitespace: no body, by design (an unconditional delete, as in
    test_errors' test_a_delete_takes_its_base_revision_...), which the document cannot say, so the
    negative phase once took it for a forbidden body."""
    body = case.body
    if case.operation.method.upper() != "DELETE" or not isinstance(body, str | bytes):
        return False
    return not (body.decode("latin-1") if isinstance(body, bytes) else body).strip(" \t\n\r")
