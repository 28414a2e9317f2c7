"""Postgres restarted under load: 503s with a JSON error meanwhile, recovery by itself, no 200 lost."""

import json
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest

from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import get_project_router, put_project_router
from sync_core.adapters.settings import ApiSettings
from tests.conftest import TEST_SECRET
from tests.support.accounts import create_signed_in_user
from tests.support.lambda_events import http_api_event, invoke


@pytest.fixture
def own_postgres(tmp_path: Path):
    """A Postgres of this test's own, so stopping it disturbs no other test."""
    import pgserver

    from devserver.database import prepare_schema

    server = pgserver.get_server(tmp_path / "data", cleanup_mode="stop")
    prepare_schema(server.get_uri())
    yield server
    server.cleanup()


def pg_ctl(server, *args: str) -> None:
    from pgserver._commands import pg_ctl as run_pg_ctl

    run_pg_ctl([*args], pgdata=server.pgdata, user=server.system_user)


def start_again(server) -> None:
    """Start it as pgserver did: no TCP, the same Unix socket directory (the URL's host)."""
    socket_dir = parse_qs(urlparse(server.get_uri()).query)["host"][0]
    pg_ctl(server, "-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(server.log), "start")


def test_requests_during_a_restart_get_503_and_nothing_accepted_is_lost(own_postgres):
    url = own_postgres.get_uri()
    settings = ApiSettings(database_url=url, better_auth_secret=TEST_SECRET, db_connect_timeout_seconds=1)
    handler = HttpApiHandler(api_app(put_project_router, get_project_router, settings=settings))
    user = create_signed_in_user(url, TEST_SECRET)
    accepted, outage_answers, done = [], [], threading.Event()

    def restart_postgres_under_load():
        # The handler runs on the main thread; this thread drives Postgres.
        _wait_for(lambda: len(accepted) >= 20)
        pg_ctl(own_postgres, "stop", "-m", "immediate")
        _wait_for(lambda: len(outage_answers) >= 3)
        start_again(own_postgres)
        recovered_from = len(accepted)
        _wait_for(lambda: len(accepted) >= recovered_from + 20, timeout=30)
        done.set()

    controller = threading.Thread(target=restart_postgres_under_load, daemon=True)
    controller.start()
    deadline = time.monotonic() + 60
    while not done.is_set() and time.monotonic() < deadline:
        project_id = uuid.uuid4()
        body = json.dumps({"name": "p", "data": {"n": len(accepted)}, "baseRevision": 0})
        response = invoke(
            handler, http_api_event("PUT", f"/api/projects/{project_id}", cookies=[user.cookie], body=body)
        )
        if response.status == 200:
            accepted.append(project_id)
        else:
            outage_answers.append(response)
            time.sleep(0.05)
    assert done.is_set(), f"no recovery: {len(accepted)} accepted, {len(outage_answers)} refused"

    assert {response.status for response in outage_answers} == {503}
    for response in outage_answers:
        assert response.json()["error"]["code"] == "database_unavailable"
        assert response.headers["retry-after"] == "1"
    with psycopg.connect(url) as connection:
        stored = {row[0] for row in connection.execute('SELECT id FROM projects WHERE "userId" = %s', (user.id,))}
    assert set(accepted) <= stored


def _wait_for(condition, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
