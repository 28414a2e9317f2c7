"""GET /api/changes through the real handler on real Postgres: order, paging, tombstones, cursors."""

import json
import random
import threading
import time
import uuid

import psycopg
import pytest
from psycopg.rows import dict_row

from sync_core.adapters.assembly import rate_limits_from, storage_quota_from
from sync_core.adapters.projects_sql import (
    LIST_CHANGES,
    PUT_PROJECT,
    body_parameters,
    data_span_parameters,
    limit_parameters,
    quota_parameters,
)
from sync_core.adapters.settings import ApiSettings, load_settings
from sync_core.domain.changes import FEED_START, LAST_ID, PAGE_BYTES, FeedPosition, parse_cursor
from sync_core.domain.limits import Scope
from tests.support.database import hold_uncommitted


def read_page(api, user, cursor=None, limit=None):
    query = "&".join(part for part in (cursor and f"since={cursor}", limit and f"limit={limit}") if part)
    response = api.changes(user, query=query)
    assert response.status == 200, response
    return response.json()


def read_to_the_end(api, user, cursor=None, limit=None) -> tuple[list[dict], str]:
    """Every page until `more` is false: the changes in order, and the cursor to go on from."""
    changes = []
    while True:
        page = read_page(api, user, cursor, limit)
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            return changes, cursor


def ids(changes: list[dict]) -> list[uuid.UUID]:
    return [uuid.UUID(change["id"]) for change in changes]


def edit(api, user, project_id, revision, **fields):
    body = {"name": "Project", "data": {"v": revision + 1}, "baseRevision": revision, **fields}
    assert api.put(user, project_id, body).status == 200


def test_the_first_listing_is_every_live_project_in_change_order_without_tombstones(api, new_user):
    user = new_user()
    first, gone, last = (api.create(user, name=name, data={"n": name}) for name in ("first", "gone", "last"))
    assert api.delete(user, gone).status == 200

    page = read_page(api, user)

    assert ids(page["changes"]) == [first, last]
    assert page["more"] is False
    assert page["changes"][0]["name"] == "first"
    assert page["changes"][0]["data"] == {"n": "first"}
    assert page["changes"][0]["revision"] == 1
    assert page["changes"][0]["deletedAt"] is None
    assert page["changes"][0]["updatedAt"].endswith("Z")


def test_since_a_cursor_come_the_changes_after_it_in_the_order_they_were_made(api, new_user):
    user = new_user()
    kept, removed = api.create(user), api.create(user)
    cursor = read_page(api, user)["cursor"]

    edit(api, user, kept, 1, name="renamed")
    assert api.delete(user, removed).status == 200
    added = api.create(user)
    page = read_page(api, user, cursor)

    assert ids(page["changes"]) == [kept, removed, added]
    renamed, tombstone, _ = page["changes"]
    assert (renamed["name"], renamed["revision"], renamed["data"]) == ("renamed", 2, {"v": 2})
    assert tombstone["deletedAt"] is not None
    assert tombstone["data"] is None
    assert tombstone["revision"] == 2
    assert read_page(api, user, page["cursor"])["changes"] == [], "nothing changed since"


def test_a_page_that_reads_everything_moves_the_cursor_to_the_snapshot_boundary(api, new_user, database_url):
    user = new_user()
    project_id = api.create(user)
    with psycopg.connect(database_url) as connection:
        (change_xid,) = connection.execute(
            'SELECT "changeXid"::text FROM projects WHERE "userId" = %s AND id = %s', (user.id, project_id)
        ).fetchone()
    listing = read_page(api, user)

    idle = read_page(api, user, listing["cursor"])

    assert idle["changes"] == [] and idle["more"] is False
    # Past every xid below the boundary, not just the last change read: idle polls start past them.
    moved = parse_cursor(idle["cursor"])
    assert moved.after.project_id == LAST_ID
    assert moved.after.change_xid >= int(change_xid)
    assert moved.after >= parse_cursor(listing["cursor"]).after


def test_paging_a_listing_leaves_out_older_tombstones_and_shows_deletions_made_while_it_was_read(api, new_user):
    user = new_user()
    deleted_before = api.create(user)
    assert api.delete(user, deleted_before).status == 200
    read_first, deleted_while_reading, untouched = api.create(user), api.create(user), api.create(user)

    page = read_page(api, user, limit=1)
    assert ids(page["changes"]) == [read_first]
    assert page["more"] is True
    assert api.delete(user, read_first).status == 200
    assert api.delete(user, deleted_while_reading).status == 200

    rest, _ = read_to_the_end(api, user, page["cursor"], limit=1)

    assert ids(rest) == [untouched, read_first, deleted_while_reading]
    assert [change["deletedAt"] is not None for change in rest] == [False, True, True]


def test_pages_hold_at_most_limit_changes_and_together_every_change_once(api, new_user):
    user = new_user()
    created = [api.create(user) for _ in range(5)]

    pages = []
    cursor = None
    while not pages or pages[-1]["more"]:
        pages.append(read_page(api, user, cursor, limit=2))
        cursor = pages[-1]["cursor"]

    assert [len(page["changes"]) for page in pages] == [2, 2, 1]
    assert [page["more"] for page in pages] == [True, True, False]
    assert [change_id for page in pages for change_id in ids(page["changes"])] == created
    assert len(read_page(api, user)["changes"]) == 5, "the default limit is 100"


def sized_data(size: int) -> dict:
    return {"blob": "x" * size}


def test_a_page_stops_at_its_byte_budget(api, new_user):
    user = new_user()
    quarter = PAGE_BYTES // 4
    created = [api.create(user, data=sized_data(quarter)) for _ in range(5)]

    pages = []
    cursor = None
    while not pages or pages[-1]["more"]:
        pages.append(read_page(api, user, cursor))
        cursor = pages[-1]["cursor"]

    # Four quarters and their envelopes pass the budget, so three fit on a page.
    assert [len(page["changes"]) for page in pages] == [3, 2]
    assert [change_id for page in pages for change_id in ids(page["changes"])] == created
    assert len(api.changes(user).text.encode()) <= PAGE_BYTES


def test_a_project_larger_than_the_budget_comes_alone_in_its_own_page(api, new_user):
    user = new_user()
    small_before = api.create(user)
    large = api.create(user, data=sized_data(PAGE_BYTES + 1024))
    small_after = api.create(user)

    pages = []
    cursor = None
    while not pages or pages[-1]["more"]:
        pages.append(read_page(api, user, cursor))
        cursor = pages[-1]["cursor"]

    assert [ids(page["changes"]) for page in pages] == [[small_before], [large], [small_after]]
    assert len(pages[1]["changes"][0]["data"]["blob"]) == PAGE_BYTES + 1024


def test_another_users_changes_never_appear(api, new_user):
    user, other = new_user(), new_user()
    mine = api.create(user)
    cursor = read_page(api, user)["cursor"]
    theirs = api.create(other)
    api.delete(other, api.create(other))
    edit(api, other, theirs, 1)
    also_mine = api.create(user)

    assert ids(read_page(api, user, cursor)["changes"]) == [also_mine]
    assert ids(read_page(api, user)["changes"]) == [mine, also_mine]
    assert theirs in ids(read_page(api, other)["changes"])


@pytest.mark.parametrize(
    "query",
    ["since=", "since=nope", "since=MS43NjQ", "limit=0", "limit=501", "limit=-1", "limit=ten", "limit=2.5", "limit="],
)
def test_a_malformed_cursor_or_limit_is_a_400_in_the_apis_words(api, new_user, query):
    response = api.changes(new_user(), query=query)
    assert response.status == 400, response
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "since" in error["message"] or "limit" in error["message"]


def _purge_tombstone(database_url, user, project_id) -> None:
    """What the purge job does: drop a tombstone and record how far it purged."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            """WITH purged AS (DELETE FROM projects WHERE "userId" = %(user)s AND id = %(id)s RETURNING "changeXid")
               INSERT INTO project_feed_horizons ("userId", "purgedThrough") SELECT %(user)s, "changeXid" FROM purged
               ON CONFLICT ("userId") DO UPDATE SET "purgedThrough" = excluded."purgedThrough" """,
            {"user": user.id, "id": project_id},
        )


def test_a_cursor_older_than_the_purge_horizon_is_410(api, new_user, database_url):
    user = new_user()
    project_id = api.create(user)
    old_cursor = read_page(api, user)["cursor"]
    assert api.delete(user, project_id).status == 200
    _purge_tombstone(database_url, user, project_id)

    expired = api.changes(user, query=f"since={old_cursor}")

    assert expired.status == 410, expired
    assert expired.json()["error"]["code"] == "cursor_expired"
    assert expired.json()["error"]["message"]
    relisted = read_page(api, user)
    assert relisted["changes"] == []
    assert read_page(api, user, relisted["cursor"])["changes"] == [], "a cursor from after the purge reads on"


def test_a_cursor_past_the_purge_horizon_reads_on(api, new_user, database_url):
    user = new_user()
    project_id = api.create(user)
    assert api.delete(user, project_id).status == 200
    caught_up = read_to_the_end(api, user, read_page(api, user)["cursor"])[1]
    _purge_tombstone(database_url, user, project_id)
    assert read_page(api, user, caught_up)["changes"] == []


def test_a_write_that_started_earlier_and_commits_later_is_not_skipped(api, new_user, database_url):
    user = new_user()
    slow, fast = api.create(user), api.create(user)
    cursor = read_page(api, user)["cursor"]

    # The slow write takes its transaction id first and commits last.
    committed = hold_uncommitted(
        database_url,
        """UPDATE projects SET name = 'slow', revision = revision + 1, "changeXid" = pg_current_xact_id()
           WHERE "userId" = %s AND id = %s""",
        (user.id, slow),
        seconds=1.0,
    )
    edit(api, user, fast, 1, name="fast")
    while_held = read_page(api, user, cursor)
    committed.join()
    after = read_page(api, user, while_held["cursor"])

    assert while_held["changes"] == [], "the fast write is above the slow one's xid, so it waits for it"
    assert [(change["id"], change["name"]) for change in after["changes"]] == [(str(slow), "slow"), (str(fast), "fast")]


class RacingWriters:
    """Writers that each hold their transaction a random while before committing, so writes commit in
    another order than they took their transaction ids; a write counts once its commit returned."""

    def __init__(self, database_url, user, projects_per_writer: dict[int, list[uuid.UUID]]):
        self.database_url = database_url
        self.user = user
        self.projects_per_writer = projects_per_writer
        self.acknowledged: dict[uuid.UUID, int] = {}
        self.writes = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._write, args=(seed,)) for seed in projects_per_writer]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def _write(self, seed: int) -> None:
        chance = random.Random(seed)
        revisions = dict.fromkeys(self.projects_per_writer[seed], 1)
        params = {"session_token": self.user.token, "limits_on": False, "limit_scope": "write"}
        params |= {"limit_burst": 1, "limit_per_second": 1.0}
        with psycopg.connect(self.database_url, row_factory=dict_row) as connection:
            turns = _turns(list(revisions), chance)
            while not self.stopping.is_set():
                project_id = next(turns)
                body = json.dumps(
                    {"name": "raced", "data": {"v": revisions[project_id]}, "baseRevision": revisions[project_id]}
                )
                settings = load_settings(ApiSettings)
                sent = body_parameters(rate_limits_from(settings), body.encode())
                sent |= data_span_parameters(body.encode()) | quota_parameters(storage_quota_from(settings))
                row = connection.execute(
                    PUT_PROJECT, {**params, **sent, "project_id": project_id, "fallback_write_id": uuid.uuid4()}
                ).fetchone()
                assert row["outcome"] == "written", row
                time.sleep(chance.random() * 0.03)
                connection.commit()
                revisions[project_id] = row["revision"]
                with self.lock:
                    self.acknowledged[project_id] = revisions[project_id]
                    self.writes += 1

    def raced_enough(self, projects: int, writes: int) -> bool:
        with self.lock:
            return len(self.acknowledged) == projects and self.writes >= writes


def _turns(projects: list[uuid.UUID], chance: random.Random):
    """Each project once first, so every one is acknowledged however slow the machine; then at random."""
    yield from projects
    while True:
        yield chance.choice(projects)


RACED_WRITES = 60


def test_a_reader_paging_while_writers_race_ends_with_every_acknowledged_write(api, new_user, database_url):
    user = new_user()
    projects = {writer: [api.create(user) for _ in range(4)] for writer in range(5)}
    seen: dict[uuid.UUID, int] = {}

    def read_on(cursor):
        changes, cursor = read_to_the_end(api, user, cursor, limit=3)
        for change in changes:
            seen[uuid.UUID(change["id"])] = change["revision"]
        return cursor

    cursor = read_on(None)
    # Until every project is written and the writers raced for real (not a fixed time: a loaded machine
    # writes less in it); the deadline only keeps a stuck run from hanging.
    with RacingWriters(database_url, user, projects) as writers:
        deadline = time.monotonic() + 60
        while not writers.raced_enough(projects=20, writes=RACED_WRITES) and time.monotonic() < deadline:
            cursor = read_on(cursor)
    cursor = read_on(cursor)

    assert len(writers.acknowledged) == 20
    assert writers.writes >= RACED_WRITES, "the writers raced for real"
    assert {project_id: seen[project_id] for project_id in writers.acknowledged} == writers.acknowledged


def _projects_rows_read(database_url, user, limit: int, after: FeedPosition) -> int:
    """How many rows of projects the page's statement read, by EXPLAIN ANALYZE (rolled back)."""
    params = {
        "session_token": user.token,
        "listing_began": None,
        "after_xid": str(after.change_xid),
        "after_id": after.project_id,
        "limit": limit,
        "page_bytes": PAGE_BYTES,
        **limit_parameters(rate_limits_from(load_settings(ApiSettings)), Scope.READ),
    }
    with psycopg.connect(database_url) as connection:
        (plan,) = connection.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + LIST_CHANGES, params).fetchone()
        connection.rollback()

    def rows_read(node: dict) -> int:
        own = node["Actual Rows"] * node["Actual Loops"] if node.get("Relation Name") == "projects" else 0
        return own + sum(rows_read(child) for child in node.get("Plans", []))

    return rows_read(plan[0]["Plan"])


def test_a_page_reads_only_its_own_rows_however_many_projects_come_after_it(
    api, new_user, database_url, lambda_environment
):
    user = new_user()
    created = [api.create(user) for _ in range(40)]
    page = read_page(api, user, limit=5)
    middle = parse_cursor(page["cursor"]).after
    assert ids(page["changes"]) == created[:5]

    assert _projects_rows_read(database_url, user, 5, FEED_START) == 6, "the page and one more, to tell `more`"
    assert _projects_rows_read(database_url, user, 5, middle) == 6
