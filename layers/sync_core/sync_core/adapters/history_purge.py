"""The history purge: deletes project revisions past the stage's retention limits, in bounded batches,
idempotently. A project's current revision is never history, so it is never purged.

History is every revision but each project's current one. A revision goes when it is past any limit:
more than `keep_revisions` revisions of its project are newer (the current one counts), it was written
more than `keep_days` days ago, or the user's newer history already holds `keep_bytes_per_user` bytes.
"""

from dataclasses import dataclass

from sync_core.adapters.postgres import Database

# One batch: the oldest revisions past a limit. Each batch ranks the history again, so it sees what the
# batches before it left. Two runs at once may pick the same revisions: the second DELETE finds them
# gone and deletes nothing (row locks make it wait, not fail). A write meanwhile only makes a current
# revision history; the one this batch read as current stays kept.
PURGE_BATCH = """
WITH history AS (
    SELECT
        kept."userId",
        kept.id,
        kept.revision,
        kept."updatedAt",
        -- 1 for the newest earlier revision: the current one is newer still.
        row_number() OVER (PARTITION BY kept."userId", kept.id ORDER BY kept.revision DESC) AS newer_than_current,
        sum(kept.bytes) OVER (
            PARTITION BY kept."userId" ORDER BY kept."updatedAt" DESC, kept.id, kept.revision DESC
        ) AS user_bytes_through
    FROM public.project_revisions AS kept
    JOIN public.projects AS project ON project."userId" = kept."userId" AND project.id = kept.id
    WHERE kept.revision < project.revision
),
doomed AS MATERIALIZED (
    SELECT "userId", id, revision
    FROM history
    WHERE newer_than_current >= %(keep_revisions)s
       OR "updatedAt" < now() - make_interval(days => %(keep_days)s)
       OR user_bytes_through > %(keep_bytes_per_user)s
    ORDER BY "updatedAt"
    LIMIT %(batch_size)s
),
-- Deleting changes the users' storage_usage rows (migrations/20261205_01_...): they are locked first, in
-- id order, as every write and the tombstone purge lock them before the rows they change. Locked after
-- the revisions, a tombstone purge cascading to the same revisions would deadlock with this.
usage_lock AS MATERIALIZED (
    SELECT public.lock_storage_usage(owner."userId")
    FROM (SELECT DISTINCT "userId" FROM doomed ORDER BY "userId") AS owner
),
purged AS (
    DELETE FROM public.project_revisions AS kept
    USING doomed
    -- Uncorrelated, so a one-time filter: every usage row is locked before any revision.
    WHERE (SELECT count(*) FROM usage_lock) >= 0
      AND kept."userId" = doomed."userId" AND kept.id = doomed.id AND kept.revision = doomed.revision
    RETURNING kept.bytes
)
SELECT count(*) AS purged, coalesce(sum(bytes), 0)::bigint AS bytes FROM purged
"""


@dataclass(frozen=True)
class HistoryPurgeReport:
    purged: int
    bytes: int
    batches: int
    # True when the run stopped at its batch limit with revisions left: the next run goes on.
    more: bool

    def as_dict(self) -> dict:
        return {"purged": self.purged, "bytes": self.bytes, "batches": self.batches, "more": self.more}


@dataclass(frozen=True)
class HistoryPurge:
    database: Database
    keep_revisions: int
    keep_days: int
    keep_bytes_per_user: int
    batch_size: int
    max_batches: int

    def run(self) -> HistoryPurgeReport:
        """Batches until one comes back short of `batch_size` or `max_batches` ran; each is its own transaction."""
        params = {
            "keep_revisions": self.keep_revisions,
            "keep_days": self.keep_days,
            "keep_bytes_per_user": self.keep_bytes_per_user,
            "batch_size": self.batch_size,
        }
        purged = purged_bytes = 0
        for batch in range(1, self.max_batches + 1):
            row = self.database.fetch_row(PURGE_BATCH, params)
            purged += row["purged"]
            purged_bytes += row["bytes"]
            if row["purged"] < self.batch_size:
                return HistoryPurgeReport(purged=purged, bytes=purged_bytes, batches=batch, more=False)
        return HistoryPurgeReport(purged=purged, bytes=purged_bytes, batches=self.max_batches, more=True)
