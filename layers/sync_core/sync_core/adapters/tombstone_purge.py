"""The tombstone purge: deletes tombstones older than the horizon, in bounded batches, idempotently.

A tombstone tells other devices that a project was deleted; kept forever, tombstones pile up (CouchDB's
and RxDB's users report it). After the horizon (a setting, 30 days by default, longer than a device is
expected to stay offline) each batch deletes the oldest ones and records, per user, the newest place
in the changes feed it purged: a feed cursor from before that may have missed a deletion that no
longer exists, so the feed answers it 410 and the client resyncs from scratch. A purged project's
history goes with it (project_revisions' foreign key cascades).
"""

from dataclasses import dataclass

from sync_core.adapters.postgres import Database

# One batch: the oldest tombstones past the horizon, locked and skipped if another run has them. A
# project restored meanwhile is no tombstone any more and is left alone. The horizon only ever moves
# forward. Deleting changes its users' storage_usage rows (the triggers of migrations/20261205_01_...),
# and every write locks its user's usage row before any project row; so the purge locks those rows
# first too, users in id order, before any tombstone: the other way round, a write restoring a tombstone
# as the purge took it would deadlock with it (test_a_restore_racing_the_purge_of_its_tombstone_...).
PURGE_BATCH = """
WITH candidates AS MATERIALIZED (
    SELECT project."userId", project.id
    FROM public.projects AS project
    WHERE project."deletedAt" IS NOT NULL
      AND project."deletedAt" < now() - make_interval(days => %(horizon_days)s)
    ORDER BY project."deletedAt"
    LIMIT %(batch_size)s
),
usage_lock AS MATERIALIZED (
    SELECT public.lock_storage_usage(owner."userId")
    FROM (SELECT DISTINCT "userId" FROM candidates ORDER BY "userId") AS owner
),
doomed AS (
    SELECT project."userId", project.id
    FROM public.projects AS project
    JOIN candidates USING ("userId", id)
    -- Uncorrelated, so a one-time filter: every usage row is locked before any tombstone.
    WHERE (SELECT count(*) FROM usage_lock) >= 0
      AND project."deletedAt" IS NOT NULL
      AND project."deletedAt" < now() - make_interval(days => %(horizon_days)s)
    FOR UPDATE OF project SKIP LOCKED
),
purged AS (
    DELETE FROM public.projects AS project
    USING doomed
    WHERE project."userId" = doomed."userId" AND project.id = doomed.id AND project."deletedAt" IS NOT NULL
    RETURNING project."userId", project."changeXid"
),
horizon AS (
    INSERT INTO public.project_feed_horizons AS horizon ("userId", "purgedThrough")
    SELECT "userId", max("changeXid") FROM purged GROUP BY "userId"
    ON CONFLICT ("userId") DO UPDATE
        SET "purgedThrough" = greatest(horizon."purgedThrough", excluded."purgedThrough")
    RETURNING horizon."userId"
)
SELECT (SELECT count(*) FROM purged) AS purged, (SELECT count(*) FROM horizon) AS users
"""


@dataclass(frozen=True)
class PurgeReport:
    purged: int
    batches: int
    # True when the run stopped at its batch limit with tombstones left: the next run goes on.
    more: bool

    def as_dict(self) -> dict:
        return {"purged": self.purged, "batches": self.batches, "more": self.more}


@dataclass(frozen=True)
class TombstonePurge:
    database: Database
    horizon_days: int
    batch_size: int
    max_batches: int

    def run(self) -> PurgeReport:
        """Batches until one comes back short of `batch_size` or `max_batches` ran; each is its own transaction."""
        purged = 0
        for batch in range(1, self.max_batches + 1):
            row = self.database.fetch_row(
                PURGE_BATCH, {"horizon_days": self.horizon_days, "batch_size": self.batch_size}
            )
            purged += row["purged"]
            if row["purged"] < self.batch_size:
                return PurgeReport(purged=purged, batches=batch, more=False)
        return PurgeReport(purged=purged, batches=self.max_batches, more=True)
