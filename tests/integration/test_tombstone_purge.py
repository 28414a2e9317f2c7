"""The tombstone purge deletes only tombstones past the horizon, records each user's horizon, and a
second run changes nothing."""

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from devserver.database import PURGE_ROLE, as_role
from sync_core.adapters.assembly import tombstone_purge
from sync_core.adapters.postgres import Database, connector
from sync_core.adapters.settings import TombstonePurgeSettings


def _age_tombstone(database_url: str, user, project_id, days: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            'UPDATE public.projects SET "deletedAt" = now() - make_interval(days => %s)'
            ' WHERE "userId" = %s AND id = %s',
            (days, user.id, project_id),
        )


def _rows(database_url: str, user) -> dict:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            'SELECT id, "deletedAt" IS NOT NULL FROM public.projects WHERE "userId" = %s', (user.id,)
        ).fetchall()
    return dict(rows)


def _horizon(database_url: str, user) -> int | None:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            'SELECT "purgedThrough"::text FROM public.project_feed_horizons WHERE "userId" = %s', (user.id,)
        ).fetchone()
    return int(row[0]) if row else None


@pytest.fixture
def purge(database_url):
    def run(batch_size: int = 1000, max_batches: int = 50):
        settings = TombstonePurgeSettings(
            database_url=as_role(database_url, PURGE_ROLE),
            tombstone_purge_batch_size=batch_size,
            tombstone_purge_max_batches=max_batches,
        )
        return tombstone_purge(settings, Database(connector(settings))).run()

    return run


def _tombstone(api, user, days_old: int, database_url: str):
    project_id = api.create(user)
    assert api.delete(user, project_id, {"baseRevision": 1}).status == 200
    _age_tombstone(database_url, user, project_id, days_old)
    return project_id


def test_only_tombstones_past_the_horizon_go_and_the_horizon_is_recorded(api, new_user, database_url, purge):
    user, other = new_user(), new_user()
    live = api.create(user)
    old = _tombstone(api, user, 31, database_url)
    recent = _tombstone(api, user, 29, database_url)
    others_old = _tombstone(api, other, 40, database_url)
    restored = _tombstone(api, user, 45, database_url)
    assert api.put(user, restored, {"name": "Back", "data": {"v": 2}, "baseRevision": 2}).status == 200

    purge()

    assert _rows(database_url, user) == {live: False, recent: True, restored: False}
    assert _rows(database_url, other) == {}
    assert _horizon(database_url, user) is not None and _horizon(database_url, other) is not None
    assert api.get(user, old).status == 404 and api.get(other, others_old).status == 404


def test_a_second_run_changes_nothing(api, new_user, database_url, purge):
    user = new_user()
    _tombstone(api, user, 60, database_url)
    first = purge()
    horizon = _horizon(database_url, user)
    rows = _rows(database_url, user)

    second = purge()
    assert first.purged >= 1 and second.purged == 0 and not second.more
    assert _horizon(database_url, user) == horizon and _rows(database_url, user) == rows


def test_runs_are_bounded_and_the_next_run_goes_on(api, new_user, database_url, purge):
    user = new_user()
    for _ in range(5):
        _tombstone(api, user, 90, database_url)
    purge()  # whatever other tests left behind goes first

    for _ in range(5):
        _tombstone(api, user, 90, database_url)
    bounded = purge(batch_size=2, max_batches=2)
    assert (bounded.purged, bounded.batches, bounded.more) == (4, 2, True)
    rest = purge(batch_size=2, max_batches=5)
    assert rest.purged == 1 and not rest.more
    assert _rows(database_url, user) == {}


def test_the_horizon_only_moves_forward(api, new_user, database_url, purge):
    user = new_user()
    _tombstone(api, user, 70, database_url)
    purge()
    first = _horizon(database_url, user)
    later = _tombstone(api, user, 35, database_url)
    purge()
    assert _horizon(database_url, user) > first
    assert later not in _rows(database_url, user)


def test_a_cursor_that_had_not_seen_a_purged_tombstone_gets_410_and_a_fresh_listing_works(
    api, new_user, database_url, purge
):
    user = new_user()
    kept = api.create(user)
    doomed = api.create(user)
    listing = api.changes(user).json()
    assert {change["id"] for change in listing["changes"]} == {str(kept), str(doomed)}
    stale_cursor = listing["cursor"]

    assert api.delete(user, doomed, {"baseRevision": 1}).status == 200
    _age_tombstone(database_url, user, doomed, 45)
    caught_up = api.changes(user, query=f"since={stale_cursor}").json()
    assert [change["id"] for change in caught_up["changes"]] == [str(doomed)]

    purge()
    expired = api.changes(user, query=f"since={stale_cursor}")
    assert expired.status == 410 and expired.json()["error"]["code"] == "cursor_expired"
    assert api.changes(user, query=f"since={caught_up['cursor']}").status == 200, "a cursor past it is fine"
    relisted = api.changes(user).json()
    assert [change["id"] for change in relisted["changes"]] == [str(kept)]


def test_a_restore_racing_the_purge_of_its_tombstone_waits_for_it_instead_of_deadlocking(
    api, new_user, database_url, purge
):
    """A write locks its user's storage_usage row, then the project's row. The purge, started meanwhile,
    waits for the usage row before it locks any tombstone; taking the tombstone first, it would hold it while
    waiting for the usage row, which the write holds while waiting for the tombstone: a deadlock."""
    user = new_user()
    project_id = _tombstone(api, user, 40, database_url)
    with psycopg.connect(database_url) as writer, ThreadPoolExecutor(1) as pool:
        writer.execute("SELECT public.lock_storage_usage(%s)", (user.id,))
        purging = pool.submit(purge)
        time.sleep(0.5)  # the purge's statement is running
        writer.execute(
            'UPDATE public.projects SET "deletedAt" = NULL, revision = revision + 1 WHERE "userId" = %s AND id = %s',
            (user.id, project_id),
        )
        writer.commit()
        report = purging.result(timeout=30)
    assert report.purged == 0
    assert _rows(database_url, user) == {project_id: False}
