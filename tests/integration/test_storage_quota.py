"""The per-user storage quota, checked in each write's own statement on real Postgres: refused writes
change nothing, shrinking writes and deletes pass when over, batch items are judged one by one, the
purges lower the usage, and racing writers of one user cannot both pass the last of it."""

import time
import uuid

import psycopg
import pytest

from devserver.database import API_ROLE, as_role
from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import ROUTERS
from sync_core.adapters.settings import LocalServerSettings
from tests.conftest import TEST_SECRET
from tests.integration.conftest import ProjectsApi
from tests.integration.test_history_purge import purge as history_purge  # noqa: F401 (a fixture)
from tests.integration.test_tombstone_purge import _age_tombstone
from tests.integration.test_tombstone_purge import purge as tombstone_purge  # noqa: F401 (a fixture)
from tests.support.database import hold_uncommitted
from tests.support.lambda_events import FUNCTIONS


@pytest.fixture
def quota_api(database_url):
    """The API as a stage with these quotas serves it, as the API's database role."""

    def make(*, bytes_per_user=10_000_000, projects_per_user=1000, limits_on=True):
        settings = LocalServerSettings(
            database_url=as_role(database_url, API_ROLE),
            better_auth_secret=TEST_SECRET,
            rate_limits_enabled=limits_on,
            quota_bytes_per_user=bytes_per_user,
            quota_projects_per_user=projects_per_user,
        )
        handler = HttpApiHandler(api_app(*ROUTERS.values(), settings=settings))
        return ProjectsApi(dict.fromkeys(FUNCTIONS, handler))

    return make


def usage(database_url, user) -> tuple[int, int]:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            'SELECT bytes, projects FROM public.storage_usage WHERE "userId" = %s', (user.id,)
        ).fetchone()
    return (row[0], row[1]) if row else (0, 0)


def held(database_url, user) -> tuple[int, int]:
    """What the usage row should say, summed the slow way."""
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            'SELECT (SELECT coalesce(sum(bytes), 0) FROM public.project_revisions WHERE "userId" = %(user)s),'
            ' (SELECT count(*) FROM public.projects WHERE "userId" = %(user)s AND "deletedAt" IS NULL)',
            {"user": user.id},
        ).fetchone()


def stored(database_url, user) -> list[tuple]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(
            'SELECT id, revision, bytes FROM public.project_revisions WHERE "userId" = %s ORDER BY id, revision',
            (user.id,),
        ).fetchall()


def padded(size: int) -> dict:
    return {"pad": "x" * size}


def assert_quota_refusal(response, limit_name: str):
    assert response.status == 403, response
    error = response.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert limit_name in error["message"]


def test_a_write_past_the_byte_quota_is_refused_and_nothing_changes(quota_api, new_user, database_url):
    api, user = quota_api(bytes_per_user=3000), new_user()
    project_id = api.create(user, data=padded(1000))
    before, usage_before = stored(database_url, user), usage(database_url, user)
    refused = api.put(user, project_id, {"name": "n", "data": padded(2500), "baseRevision": 1})
    assert_quota_refusal(refused, "3000 bytes (QUOTA_BYTES_PER_USER)")
    new_project = api.put(user, uuid.uuid4(), {"name": "n", "data": padded(2500), "baseRevision": 0})
    assert_quota_refusal(new_project, "QUOTA_BYTES_PER_USER")
    assert stored(database_url, user) == before and usage(database_url, user) == usage_before
    assert api.get(user, project_id).json()["revision"] == 1


def test_a_new_project_past_the_project_quota_is_refused_and_a_restore_too(quota_api, new_user, database_url):
    api, user = quota_api(projects_per_user=2), new_user()
    first, second = api.create(user), api.create(user)
    before, refused_id = stored(database_url, user), uuid.uuid4()
    refused = api.put(user, refused_id, {"name": "n", "data": {}, "baseRevision": 0})
    assert_quota_refusal(refused, "2 projects (QUOTA_PROJECTS_PER_USER)")
    assert stored(database_url, user) == before and api.get(user, refused_id).status == 404
    assert usage(database_url, user)[1] == 2
    # Deleting always passes and makes room; restoring the tombstone then takes it again.
    assert api.delete(user, first, {"baseRevision": 1}).status == 200
    assert api.create(user) is not None
    restore = api.put(user, first, {"name": "back", "data": {}, "baseRevision": 2})
    assert_quota_refusal(restore, "QUOTA_PROJECTS_PER_USER")
    assert api.put(user, second, {"name": "edited", "data": {"v": 1}, "baseRevision": 1}).status == 200
    assert usage(database_url, user) == held(database_url, user)


def test_when_over_a_shrinking_write_and_a_delete_pass(quota_api, new_user, database_url):
    roomy, user = quota_api(), new_user()
    big, other = roomy.create(user, data=padded(3000)), roomy.create(user, data=padded(500))
    # The stage lowers its quota below what the user holds.
    api = quota_api(bytes_per_user=2000, projects_per_user=1)
    assert_quota_refusal(api.put(user, other, {"name": "n", "data": padded(600), "baseRevision": 1}), "bytes")
    shrunk = api.put(user, big, {"name": "n", "data": padded(100), "baseRevision": 1})
    assert shrunk.status == 200, shrunk
    same_size = api.put(user, other, {"name": "renamed", "data": padded(500), "baseRevision": 1})
    assert same_size.status == 200, same_size
    assert api.delete(user, other, {"baseRevision": 2}).status == 200
    assert usage(database_url, user) == held(database_url, user)


def test_a_stale_or_replayed_write_is_answered_as_before_not_refused(quota_api, new_user):
    api, user = quota_api(bytes_per_user=2500), new_user()
    project_id, write_id = uuid.uuid4(), str(uuid.uuid4())
    body = {"name": "n", "data": padded(2000), "baseRevision": 0, "writeId": write_id}
    assert api.put(user, project_id, body).status == 200
    assert api.put(user, project_id, body).status == 200  # the replay: its receipt again
    stale = api.put(user, project_id, {"name": "n", "data": padded(2000), "baseRevision": 0})
    assert stale.status == 409


def test_a_batch_judges_each_item_and_writes_the_rest(quota_api, new_user, database_url):
    api, user = quota_api(bytes_per_user=5000, projects_per_user=3), new_user()
    kept = api.create(user, data=padded(100))
    first, too_big, second, one_too_many = (str(uuid.uuid4()) for _ in range(4))
    changes = [
        {"id": first, "name": "a", "data": padded(1000), "baseRevision": 0},
        {"id": too_big, "name": "b", "data": padded(4000), "baseRevision": 0},
        {"id": second, "name": "c", "data": padded(1000), "baseRevision": 0},
        {"id": one_too_many, "name": "d", "data": {}, "baseRevision": 0},
        {"id": str(kept), "deleted": True, "baseRevision": 1},
    ]
    response = api.push(user, {"changes": changes})
    assert response.status == 200, response
    results = response.json()["results"]
    assert [result["status"] for result in results] == [200, 403, 200, 403, 200]
    assert results[1]["error"]["code"] == "quota_exceeded" and "QUOTA_BYTES_PER_USER" in results[1]["error"]["message"]
    assert "QUOTA_PROJECTS_PER_USER" in results[3]["error"]["message"]
    assert api.get(user, too_big).status == 404 and api.get(user, one_too_many).status == 404
    assert usage(database_url, user) == held(database_url, user)


def test_the_purges_lower_the_usage(api, new_user, database_url, history_purge, tombstone_purge):  # noqa: F811
    user = new_user()
    edited = api.create(user, data=padded(1000))
    for revision in range(2, 5):
        assert api.put(user, edited, {"name": "p", "data": padded(1000), "baseRevision": revision - 1}).status == 200
    gone = api.create(user, data=padded(700))
    assert api.delete(user, gone, {"baseRevision": 1}).status == 200
    _age_tombstone(database_url, user, gone, 40)
    before = usage(database_url, user)
    assert before == held(database_url, user) and before[0] > 4 * 1000 + 700
    tombstone_purge()  # the tombstone goes, and its history (700 bytes and more) with it
    after_tombstones = usage(database_url, user)
    assert before[0] - after_tombstones[0] > 700 and after_tombstones == held(database_url, user)
    history_purge(keep_revisions=1)
    after_history = usage(database_url, user)
    assert after_tombstones[0] - after_history[0] > 3 * 1000 and after_history == held(database_url, user)
    assert after_history[1] == 1


# What a racing write of the same user does first: lock the usage row, then write (the trigger counts
# its new project), held uncommitted while the write under test arrives.
RACING_WRITE = """
WITH usage_lock AS (SELECT public.lock_storage_usage(%s) AS used)
INSERT INTO public.projects ("userId", id, name, revision, "writeId")
SELECT (used)."userId", gen_random_uuid(), 'racer', 1, gen_random_uuid() FROM usage_lock
"""


@pytest.mark.parametrize("limits_on", [True, False])
def test_a_write_racing_another_for_the_last_project_waits_for_it_and_is_refused(
    quota_api, new_user, database_url, limits_on
):
    """With the limiter off, its bucket row does not queue them: the usage row does."""
    api, user = quota_api(projects_per_user=2, limits_on=limits_on), new_user()
    api.create(user)
    racer = hold_uncommitted(database_url, RACING_WRITE, (user.id,))
    started = time.monotonic()
    refused = api.put(user, uuid.uuid4(), {"name": "late", "data": {}, "baseRevision": 0})
    waited = time.monotonic() - started
    racer.join()
    assert_quota_refusal(refused, "2 projects")
    assert waited >= 0.3, "the write did not wait for the racing one"
    assert usage(database_url, user) == held(database_url, user) == (held(database_url, user)[0], 2)
