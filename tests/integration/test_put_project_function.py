"""PUT's statement runs as public.put_project_v1 (migrations/20261207_30_...), so that Postgres plans it once
per connection; the statement it was before, sent as text, keeps working beside it (the release before)."""

import json
import uuid

import psycopg
import pytest
from psycopg.rows import dict_row

from devserver.database import API_ROLE, as_role
from sync_core.adapters.assembly import rate_limits_from, storage_quota_from
from sync_core.adapters.projects_sql import (
    PUT_PROJECT,
    PUT_PROJECT_QUERY,
    body_parameters,
    data_span_parameters,
    limit_parameters,
    quota_parameters,
)
from sync_core.adapters.settings import ApiSettings, load_settings
from sync_core.domain.limits import Scope


def put_parameters(user, project_id: uuid.UUID, base_revision: int) -> dict:
    """PUT's parameters as the store sends them."""
    settings = load_settings(ApiSettings)
    limits = rate_limits_from(settings)
    body = json.dumps({"name": "P", "data": {"v": base_revision}, "baseRevision": base_revision}).encode()
    return {
        "session_token": user.token,
        "project_id": project_id,
        "fallback_write_id": uuid.uuid4(),
        **limit_parameters(limits, Scope.WRITE),
        **body_parameters(limits, body),
        **data_span_parameters(body),
        **quota_parameters(storage_quota_from(settings)),
    }


@pytest.fixture
def api_connection(database_url, lambda_environment):
    with psycopg.connect(as_role(database_url, API_ROLE), autocommit=True, row_factory=dict_row) as connection:
        yield connection


def test_the_functions_plan_setting_stays_inside_it(api_connection, new_user):
    user, project_id = new_user(), uuid.uuid4()
    for base_revision in range(7):  # past the five custom plans a cached plan starts with
        row = api_connection.execute(PUT_PROJECT, put_parameters(user, project_id, base_revision)).fetchone()
        assert (row["outcome"], row["revision"]) == ("written", base_revision + 1)
    assert api_connection.execute("SHOW plan_cache_mode").fetchone()["plan_cache_mode"] == "auto"


@pytest.mark.parametrize(
    ("first", "then"),
    [(PUT_PROJECT_QUERY, PUT_PROJECT), (PUT_PROJECT, PUT_PROJECT_QUERY)],
    ids=["statement, then call", "call, then statement"],
)
def test_the_statement_before_the_function_and_the_call_write_alike(api_connection, new_user, first, then):
    user, project_id = new_user(), uuid.uuid4()
    written = api_connection.execute(first, put_parameters(user, project_id, 0)).fetchone()
    stale = api_connection.execute(then, put_parameters(user, project_id, 0)).fetchone()
    assert (written["outcome"], written["revision"]) == ("written", 1)
    assert (stale["outcome"], stale["revision"]) == ("conflict", 1)
    assert stale["body"]["server"]["data"] == {"v": 0}
