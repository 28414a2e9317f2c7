"""Several processes racing read-modify-write PUTs on one project: no accepted update is lost."""

import json
import multiprocessing
import uuid

import pytest

from tests.support.database import hold_uncommitted
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


def test_a_first_write_committed_while_a_put_waits_makes_that_put_a_409(api, new_user, database_url):
    """The other device's first write of the project commits after this PUT's snapshot was taken."""
    user = new_user()
    project_id = uuid.uuid4()
    other_device = hold_uncommitted(
        database_url,
        """INSERT INTO projects ("userId", id, name, data, revision, "writeId")
           VALUES (%s, %s, 'other device', '{"from": "other"}', 1, gen_random_uuid())""",
        (user.id, project_id),
    )
    response = api.put(user, project_id, {"name": "mine", "data": {"from": "me"}, "baseRevision": 0})
    other_device.join()
    assert response.status == 409
    assert response.json()["server"]["name"] == "other device"
    assert api.get(user, project_id).json()["data"] == {"from": "other"}


def test_a_retry_of_a_first_write_committed_meanwhile_is_a_replay(api, new_user, database_url):
    user = new_user()
    project_id, write_id = uuid.uuid4(), uuid.uuid4()
    first_attempt = hold_uncommitted(
        database_url,
        """INSERT INTO projects ("userId", id, name, data, revision, "writeId")
           VALUES (%s, %s, 'mine', '{"from": "me"}', 1, %s)""",
        (user.id, project_id, write_id),
    )
    body = {"name": "mine", "data": {"from": "me"}, "baseRevision": 0, "writeId": str(write_id)}
    response = api.put(user, project_id, body)
    first_attempt.join()
    assert response.status == 200
    assert response.json()["revision"] == 1
    assert response.headers["etag"] == '"1"'


BATCH_ROUNDS, BATCH_IDS = 4, 50  # 400 write tokens: within the default burst


def test_racing_batches_of_the_same_first_writes_lose_none_and_never_fail(api, new_user, database_url):
    """Two devices claim the same new projects at once: for each, one batch writes it, the other gets a 409."""
    user = new_user()
    rounds = [[str(uuid.uuid4()) for _ in range(BATCH_IDS)] for _ in range(BATCH_ROUNDS)]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(2) as pool:
        together = manager.Barrier(2)  # each round's two batches start at once
        arguments = [(database_url, user.cookie, rounds, device, together) for device in ("a", "b")]
        devices = pool.starmap(_push_rounds, arguments)
    for project_id in (project_id for ids in rounds for project_id in ids):
        answers = {device: answers_by_id[project_id] for device, answers_by_id in zip("ab", devices, strict=True)}
        assert sorted(answer["status"] for answer in answers.values()) == [200, 409], answers
        winner = next(device for device, answer in answers.items() if answer["status"] == 200)
        stored = api.get(user, project_id).json()
        assert (stored["name"], stored["revision"]) == (winner, 1)


def _push_rounds(database_url: str, cookie: str, rounds: list[list[str]], device: str, together) -> dict[str, dict]:
    import os

    from tests.conftest import TEST_SECRET

    os.environ.update(DATABASE_URL=database_url, BETTER_AUTH_SECRET=TEST_SECRET, POWERTOOLS_LOG_LEVEL="WARNING")
    handler = load_function("push_changes").handler
    answers = {}
    for ids in rounds:
        ordered = ids if device == "a" else ids[::-1]  # in opposite orders: locks taken by id, not by place
        changes = [{"id": project_id, "name": device, "data": {}, "baseRevision": 0} for project_id in ordered]
        event = http_api_event("POST", "/api/changes", cookies=[cookie], body=json.dumps({"changes": changes}))
        together.wait()
        response = invoke(handler, event)
        assert response.status == 200, response
        answers.update((answer["id"], answer) for answer in response.json()["results"])
    return answers


MIXED_ROUNDS, MIXED_IDS = 30, 6


# With the limiter on, each batch's admission locks the user's write bucket first, which queues the
# two batches; off (RATE_LIMITS_ENABLED=false), nothing but the statement's own lock order does.
@pytest.mark.parametrize("limits", ["true", "false"])
def test_racing_batches_that_write_and_delete_in_opposite_orders_never_deadlock(api, new_user, database_url, limits):
    """Two devices, each writing some projects and deleting the others, in opposite orders: for each
    project one change wins (200) and the other is a 409, and no batch fails (a deadlock would be 503)."""
    users, rounds = [], []
    for _ in range(MIXED_ROUNDS):  # a user a round: its write bucket pays for both batches
        user = new_user()
        ids = sorted(str(api.create(user)) for _ in range(MIXED_IDS))
        users.append(user.cookie)
        rounds.append(ids)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(2) as pool:
        together = manager.Barrier(2)
        arguments = [(database_url, limits, users, rounds, device, together) for device in ("a", "b")]
        devices = pool.starmap(_write_and_delete_rounds, arguments)
    for cookie, ids in zip(users, rounds, strict=True):
        for project_id in ids:
            answers = {device: answers_by_id[project_id] for device, answers_by_id in zip("ab", devices, strict=True)}
            assert sorted(answer["status"] for answer in answers.values()) == [200, 409], answers
            winner = next(device for device, answer in answers.items() if answer["status"] == 200)
            stored = invoke(
                load_function("get_project").handler,
                http_api_event("GET", f"/api/projects/{project_id}", cookies=[cookie]),
            ).json()
            assert stored["revision"] == 2
            wrote = _writes(winner, ids.index(project_id))
            assert (stored["deletedAt"] is None) == wrote, (winner, stored)
            assert stored["name"] == (winner if wrote else "Project")


def _writes(device: str, place: int) -> bool:
    """Device a writes the first half of a round's projects and deletes the rest; b the other way round."""
    return (place < MIXED_IDS // 2) == (device == "a")


def _write_and_delete_rounds(
    database_url: str, limits: str, cookies: list[str], rounds: list[list[str]], device: str, together
) -> dict[str, dict]:
    import os

    from tests.conftest import TEST_SECRET

    os.environ.update(
        DATABASE_URL=database_url,
        BETTER_AUTH_SECRET=TEST_SECRET,
        POWERTOOLS_LOG_LEVEL="WARNING",
        RATE_LIMITS_ENABLED=limits,
    )
    handler = load_function("push_changes").handler
    answers = {}
    for cookie, ids in zip(cookies, rounds, strict=True):
        changes = [
            {"id": project_id, "name": device, "data": {}, "baseRevision": 1}
            if _writes(device, place)
            else {"id": project_id, "deleted": True, "baseRevision": 1}
            for place, project_id in enumerate(ids)
        ]
        ordered = changes if device == "a" else changes[::-1]
        event = http_api_event("POST", "/api/changes", cookies=[cookie], body=json.dumps({"changes": ordered}))
        together.wait()
        response = invoke(handler, event)
        assert response.status == 200, response
        answers.update((answer["id"], answer) for answer in response.json()["results"])
    return answers


# Another device's write, as the store makes it: the projects row (no data) and its revision.
OTHER_DEVICES_WRITE = """
WITH updated AS (
    UPDATE projects SET name = 'other device', data = NULL, revision = revision + 1, "updatedAt" = now()
    WHERE "userId" = %s AND id = %s
    RETURNING "userId", id, name, revision, "updatedAt"
)
INSERT INTO project_revisions ("userId", id, revision, name, data, "updatedAt", bytes)
SELECT "userId", id, revision, name, '{"from": "other"}', "updatedAt", 17 FROM updated
"""


@pytest.mark.parametrize("request_kind", ["put", "delete", "batch"])
def test_a_write_committed_while_a_stale_write_waits_is_the_409s_server_copy_data_and_all(
    api, new_user, database_url, request_kind
):
    """The stale write's snapshot predates the other write's revision; its 409 still carries that data."""
    user = new_user()
    project_id = api.create(user, data={"from": "me"})
    other_device = hold_uncommitted(database_url, OTHER_DEVICES_WRITE, (user.id, project_id))
    if request_kind == "put":
        response = api.put(user, project_id, {"name": "mine", "data": {"from": "me, later"}, "baseRevision": 1})
        server = response.json()["server"]
    elif request_kind == "delete":
        response = api.delete(user, project_id, {"baseRevision": 1})
        server = response.json()["server"]
    else:
        change = {"id": str(project_id), "name": "mine", "data": {}, "baseRevision": 1}
        response = api.push(user, {"changes": [change]})
        (result,) = response.json()["results"]
        assert result["status"] == 409
        server = result["server"]
    other_device.join()
    assert response.status == (200 if request_kind == "batch" else 409), response
    assert (server["name"], server["revision"], server["data"]) == ("other device", 2, {"from": "other"})
