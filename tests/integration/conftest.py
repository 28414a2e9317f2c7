"""The real Lambda handlers, invoked in-process with v2 events against the test Postgres."""

import json
import uuid

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.support.lambda_events import FUNCTIONS, http_api_event, invoke, load_function


class ProjectsApi:
    """Speaks to the handlers the way API Gateway would, as one signed-in user or another."""

    def __init__(self, handlers: dict):
        self.handlers = handlers

    def list(self, user, *, query: str = ""):
        return self._call("list_projects", "GET", "/api/projects", user, query=query)

    def changes(self, user, *, query: str = ""):
        return self._call("list_changes", "GET", "/api/changes", user, query=query)

    def get(self, user, project_id, *, headers=None):
        return self._call("get_project", "GET", f"/api/projects/{project_id}", user, headers=headers)

    def put(self, user, project_id, body, *, headers=None):
        raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self._call("put_project", "PUT", f"/api/projects/{project_id}", user, body=raw, headers=headers)

    def delete(self, user, project_id, body=None, *, headers=None):
        raw = body if body is None or isinstance(body, (str, bytes)) else json.dumps(body)
        return self._call("delete_project", "DELETE", f"/api/projects/{project_id}", user, body=raw, headers=headers)

    def push(self, user, body, *, headers=None):
        raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self._call("push_changes", "POST", "/api/changes", user, body=raw, headers=headers)

    def revisions(self, user, project_id):
        return self._call("list_revisions", "GET", f"/api/projects/{project_id}/revisions", user)

    def revision(self, user, project_id, revision, *, headers=None):
        path = f"/api/projects/{project_id}/revisions/{revision}"
        return self._call("get_revision", "GET", path, user, headers=headers)

    def create(self, user, *, name="Project", data=None, project_id=None):
        project_id = project_id or uuid.uuid4()
        response = self.put(user, project_id, {"name": name, "data": data or {"v": 1}, "baseRevision": 0})
        assert response.status == 200, response
        return project_id

    def _call(self, function, method, path, user, **options):
        cookies = [user.cookie] if user is not None else None
        return invoke(self.handlers[function], http_api_event(method, path, cookies=cookies, **options))


@pytest.fixture(scope="session")
def handlers(lambda_environment) -> dict:
    return {name: load_function(name).handler for name in FUNCTIONS}


@pytest.fixture
def api(handlers) -> ProjectsApi:
    return ProjectsApi(handlers)


@pytest.fixture(scope="module")
def connection(database_url):
    """A plain autocommit connection of the tests' own, rows as dicts, for calling SQL functions directly."""
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as connection:
        yield connection
