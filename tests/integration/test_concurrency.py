"""Several processes racing read-modify-write PUTs on one project: no accepted update is lost."""

import json
import multiprocessing
import uuid

from tests.support.lambda_events import http_api_event, invoke, load_function

WRITERS = 4
WRITES_EACH = 15


def test_racing_writers_lose_no_update(api, new_user, database_url):
    user = new_user()
    project_id = api.create(user, data={"marks": []})
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        results = pool.starmap(
            _write_marks, [(database_url, user.cookie, str(project_id), writer) for writer in range(WRITERS)]
        )
    accepted = [entry for writer_results in results for entry in writer_results]
    revisions = [revision for _, revision in accepted]
    assert len(accepted) == WRITERS * WRITES_EACH
    assert len(set(revisions)) == len(revisions), "two accepted writes got the same revision"
    final = api.get(user, project_id).json()
    assert final["revision"] == 1 + len(accepted)
    assert sorted(final["data"]["marks"]) == sorted(mark for mark, _ in accepted)


def _write_marks(database_url: str, cookie: str, project_id: str, writer: int) -> list[tuple[str, int]]:
    """Each writer appends its marks one at a time, re-reading and retrying on 409, through the real handlers."""
    import os

    from tests.conftest import TEST_SECRET

    os.environ.update(DATABASE_URL=database_url, BETTER_AUTH_SECRET=TEST_SECRET, POWERTOOLS_LOG_LEVEL="WARNING")
    get_handler = load_function("get_project").handler
    put_handler = load_function("put_project").handler
    path = f"/api/projects/{project_id}"
    accepted = []
    for number in range(WRITES_EACH):
        mark = f"{writer}-{number}"
        current = invoke(get_handler, http_api_event("GET", path, cookies=[cookie])).json()
        while True:
            body = {
                "name": "race",
                "data": {"marks": [*current["data"]["marks"], mark]},
                "baseRevision": current["revision"],
                "writeId": str(uuid.uuid4()),
            }
            response = invoke(put_handler, http_api_event("PUT", path, cookies=[cookie], body=json.dumps(body)))
            if response.status == 200:
                accepted.append((mark, response.json()["revision"]))
                break
            assert response.status == 409, response
            current = response.json()["server"]
    return accepted


def test_racing_first_writes_of_one_new_project_accept_exactly_one(api, new_user, database_url):
    user = new_user()
    project_id = str(uuid.uuid4())
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(WRITERS) as pool:
        start_together = manager.Barrier(WRITERS)
        arguments = [(database_url, user.cookie, project_id, writer, start_together) for writer in range(WRITERS)]
        statuses = pool.starmap(_first_write, arguments)
    assert sorted(statuses) == [200] + [409] * (WRITERS - 1)
    assert api.get(user, project_id).json()["revision"] == 1


def _first_write(database_url: str, cookie: str, project_id: str, writer: int, start_together) -> int:
    import os

    from tests.conftest import TEST_SECRET

    os.environ.update(DATABASE_URL=database_url, BETTER_AUTH_SECRET=TEST_SECRET, POWERTOOLS_LOG_LEVEL="WARNING")
    put_handler = load_function("put_project").handler
    body = json.dumps({"name": f"writer {writer}", "data": {}, "baseRevision": 0, "writeId": str(uuid.uuid4())})
    start_together.wait()  # every process has imported its handler: the PUTs leave at once
    return invoke(put_handler, http_api_event("PUT", f"/api/projects/{project_id}", cookies=[cookie], body=body)).status
