"""The events/ fixtures (the ones `sam local invoke -e` and `make invoke` use) work against the handlers."""

import json
from pathlib import Path

import psycopg
import pytest

from devserver.invoke import FIXTURE_USER_ID, seed_fixture_session
from sync_core.adapters.http.routes import ROUTERS
from tests.support.lambda_events import LambdaResponse

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def event(database_url):
    seed_fixture_session(database_url)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute('DELETE FROM projects WHERE "userId" = %s', (FIXTURE_USER_ID,))
    return lambda name: json.loads((EVENTS / f"{name}.json").read_text())


def test_the_fixtures_walk_a_project_through_its_life(handlers, event):
    def run(function: str) -> LambdaResponse:
        return LambdaResponse(handlers[function](event(function), None))

    created = run("put_project")
    assert created.status == 200
    assert created.json()["revision"] == 1
    assert run("put_project").json() == created.json(), "the fixture's writeId makes a repeat a replay"
    assert run("get_project").json()["name"] == "Launch poster"
    assert [kept["revision"] for kept in run("list_revisions").json()] == [1]
    assert run("get_revision").json()["data"] == run("get_project").json()["data"]
    assert [p["revision"] for p in run("list_projects").json()] == [1]
    assert [change["name"] for change in run("list_changes").json()["changes"]] == ["Launch poster"]
    assert run("delete_project").json()["deletedAt"] is not None
    assert run("put_project").status == 409, "baseRevision 0 no longer matches the tombstone"
    assert run("list_projects").json()[0]["deletedAt"] is not None
    assert run("list_changes").json()["changes"] == [], "a first listing leaves tombstones out"
    assert [kept["revision"] for kept in run("list_revisions").json()] == [2, 1]
    assert run("get_revision").json()["name"] == "Launch poster", "the content from before the delete is kept"


@pytest.mark.parametrize("name", sorted(ROUTERS))
def test_each_fixture_is_a_payload_v2_event_for_its_route(name, event):
    fixture = event(name)
    assert fixture["version"] == "2.0"
    assert fixture["requestContext"]["stage"] == "$default"
    assert fixture["routeKey"] == fixture["requestContext"]["routeKey"]
    assert fixture["cookies"][0].startswith("better-auth.session_token=")
