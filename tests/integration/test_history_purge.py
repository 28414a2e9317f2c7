"""The history purge keeps each project's current revision whatever the limits, deletes what is past
the count, age or per-user byte limit, and a second run changes nothing."""

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from devserver.database import PURGE_ROLE, as_role
from sync_core.adapters.assembly import history_purge, tombstone_purge
from sync_core.adapters.postgres import Database, connector
from sync_core.adapters.settings import HistoryPurgeSettings, TombstonePurgeSettings
from tests.integration.test_tombstone_purge import _tombstone


@pytest.fixture
def purge(database_url):
    def run(
        *, keep_revisions=100, keep_days=30, keep_bytes_per_user=256 * 1024 * 1024, batch_size=1000, max_batches=50
    ):
        settings = HistoryPurgeSettings(
            database_url=as_role(database_url, PURGE_ROLE),
            history_keep_revisions=keep_revisions,
            history_keep_days=keep_days,
            history_keep_bytes_per_user=keep_bytes_per_user,
            history_purge_batch_size=batch_size,
            history_purge_max_batches=max_batches,
        )
        return history_purge(settings, Database(connector(settings))).run()

    return run


def _project_with_revisions(api, user, count: int, *, pad: int = 0):
    project_id = api.create(user, data={"v": 1, "pad": "x" * pad})
    for revision in range(2, count + 1):
        body = {"name": "p", "data": {"v": revision, "pad": "x" * pad}, "baseRevision": revision - 1}
        assert api.put(user, project_id, body).status == 200
    return project_id


def _kept(api, user, project_id) -> list[int]:
    return [kept["revision"] for kept in api.revisions(user, project_id).json()]


def _age(database_url, user, project_id, revisions, days: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            'UPDATE public.project_revisions SET "updatedAt" = now() - make_interval(days => %s)'
            ' WHERE "userId" = %s AND id = %s AND revision = ANY (%s)',
            (days, user.id, project_id, list(revisions)),
        )


def test_at_most_n_revisions_per_project_are_kept_the_current_one_included(api, new_user, purge):
    user = new_user()
    long, short = _project_with_revisions(api, user, 6), _project_with_revisions(api, user, 2)
    purge(keep_revisions=3)
    assert _kept(api, user, long) == [6, 5, 4]
    assert _kept(api, user, short) == [2, 1]
    assert api.revision(user, long, 3).status == 404 and api.revision(user, long, 4).status == 200


def test_earlier_revisions_past_the_age_limit_go_and_the_current_one_stays_however_old(
    api, new_user, database_url, purge
):
    user = new_user()
    edited, untouched = _project_with_revisions(api, user, 4), _project_with_revisions(api, user, 1)
    _age(database_url, user, edited, [1, 2], 31)
    _age(database_url, user, edited, [3], 29)
    _age(database_url, user, untouched, [1], 400)
    purge(keep_days=30)
    assert _kept(api, user, edited) == [4, 3]
    assert _kept(api, user, untouched) == [1]
    assert api.get(user, untouched).json()["data"] == {"v": 1, "pad": ""}


def test_each_users_history_is_kept_up_to_its_byte_limit_newest_first(api, new_user, purge):
    user, other = new_user(), new_user()
    first = _project_with_revisions(api, user, 3, pad=1000)
    second = _project_with_revisions(api, user, 3, pad=1000)
    others = _project_with_revisions(api, other, 3, pad=1000)
    # A revision is a little over 1000 bytes: room for three of the user's four earlier revisions.
    purge(keep_bytes_per_user=3 * 1100)
    assert _kept(api, user, first) == [3, 2]
    assert _kept(api, user, second) == [3, 2, 1]
    assert _kept(api, other, others) == [3, 2, 1]

    purge(keep_bytes_per_user=0)
    assert _kept(api, user, first) == [3] and _kept(api, user, second) == [3]


def test_a_second_run_changes_nothing(api, new_user, purge):
    user = new_user()
    project_id = _project_with_revisions(api, user, 5)
    first = purge(keep_revisions=2)
    kept = _kept(api, user, project_id)
    second = purge(keep_revisions=2)
    assert first.purged >= 3 and first.bytes > 0
    assert (second.purged, second.bytes, second.more) == (0, 0, False)
    assert _kept(api, user, project_id) == kept == [5, 4]


def test_runs_are_bounded_and_the_next_run_goes_on(api, new_user, purge):
    purge(keep_revisions=1)  # whatever other tests left behind goes first
    user = new_user()
    project_id = _project_with_revisions(api, user, 6)
    bounded = purge(keep_revisions=1, batch_size=2, max_batches=2)
    assert (bounded.purged, bounded.batches, bounded.more) == (4, 2, True)
    rest = purge(keep_revisions=1, batch_size=2, max_batches=5)
    assert rest.purged == 1 and not rest.more
    assert _kept(api, user, project_id) == [6]


def test_the_tombstone_purge_takes_the_projects_history_with_it(api, new_user, database_url):
    user = new_user()
    project_id = _tombstone(api, user, 45, database_url)
    assert _kept(api, user, project_id) == [2, 1]
    settings = TombstonePurgeSettings(database_url=database_url)
    tombstone_purge(settings, Database(connector(settings))).run()
    assert _history_rows(database_url, user) == 0 and api.revisions(user, project_id).status == 404


def test_deleting_the_account_deletes_its_history(api, new_user, database_url):
    user = new_user()
    _project_with_revisions(api, user, 3)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute('DELETE FROM public."user" WHERE id = %s', (user.id,))
    assert _history_rows(database_url, user) == 0


def _history_rows(database_url, user) -> int:
    with psycopg.connect(database_url) as connection:
        query = 'SELECT count(*) FROM public.project_revisions WHERE "userId" = %s'
        return connection.execute(query, (user.id,)).fetchone()[0]


def test_a_history_purge_racing_a_tombstone_purge_of_the_same_history_waits_for_it_instead_of_deadlocking(
    api, new_user, database_url, purge
):
    """The tombstone purge locks the usage row, then deletes the project and, by cascade, its revisions. The
    history purge, started meanwhile, waits for the usage row before it locks any revision; locking the
    revisions first, it would hold them while waiting for the usage row, which the tombstone purge holds
    while waiting for those revisions: a deadlock."""
    user = new_user()
    project_id = _project_with_revisions(api, user, 3)
    with psycopg.connect(database_url) as tombstone_purge_like, ThreadPoolExecutor(1) as pool:
        tombstone_purge_like.execute("SELECT public.lock_storage_usage(%s)", (user.id,))
        purging = pool.submit(purge, keep_revisions=1)
        time.sleep(0.5)  # the history purge's statement is running
        tombstone_purge_like.execute(
            'DELETE FROM public.projects WHERE "userId" = %s AND id = %s', (user.id, project_id)
        )
        tombstone_purge_like.commit()
        report = purging.result(timeout=30)
    assert report.purged == 0
    assert _history_rows(database_url, user) == 0
