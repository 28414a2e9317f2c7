-- The list_changes statement exactly as the projects store sends it (one round trip): rendered from
-- layers/sync_core/sync_core/adapters/projects_sql.py by `make statements`; edit it there.
-- Parameters are psycopg's named ones, %(name)s.

WITH
-- Who is asking: a live session of a user who is not banned. Better Auth's admin plugin adds "banned"
-- and "banExpires" to "user"; reading them through to_jsonb works whether or not it is installed.
viewer AS (
    SELECT session."userId" AS user_id
    FROM public."session" AS session
    JOIN public."user" AS account_user ON account_user.id = session."userId"
    WHERE session.token = %(session_token)s
      AND session."expiresAt" > now()
      AND NOT (
          coalesce((to_jsonb(account_user) ->> 'banned')::boolean, false)
          AND coalesce((to_jsonb(account_user) ->> 'banExpires')::timestamptz > now(), true)
      )
),
-- This request's token, from the user's bucket of its scope (public.take_tokens). A refused request
-- writes nothing; available says how long to wait.
active_block AS (
    SELECT block."blockedUntil"
    FROM public.rate_limit_blocks AS block
    JOIN viewer ON block."userId" = viewer.user_id
    WHERE %(limits_on)s AND block.scope = %(limit_scope)s AND block."blockedUntil" > now()
),
admission AS MATERIALIZED (
    SELECT taken.tokens_left, taken.available
    FROM viewer, public.take_tokens(viewer.user_id, %(limit_scope)s, 1, %(limit_burst)s, %(limit_per_second)s) AS taken
    WHERE %(limits_on)s AND NOT EXISTS (SELECT FROM active_block)
),
limit_check AS (
    SELECT
        (SELECT user_id FROM viewer) AS user_id,
        NOT %(limits_on)s OR (SELECT tokens_left FROM admission) IS NOT NULL AS admitted,
        (SELECT tokens_left FROM admission) AS tokens_left,
        coalesce(
            extract(epoch FROM (SELECT "blockedUntil" FROM active_block) - now())::float8,
            (1 - (SELECT available FROM admission)) / %(limit_per_second)s::float8
        ) AS wait_seconds,
        EXISTS (SELECT FROM active_block) AS blocked
),
-- Every transaction below the snapshot's xmin has finished, so every row changed below it is visible
-- and stays put (a later write moves its row to that write's own, higher, xid). A row at or above it
-- may yet be joined below it by a write that commits late, in any order: later pages read those.
feed_boundary AS (
    SELECT pg_snapshot_xmin(pg_current_snapshot()) AS stable_below
),
-- A first listing (no cursor) begins at this boundary: tombstones below it predate the listing.
reading AS (
    SELECT coalesce(%(listing_began)s::xid8, stable_below) AS listing_began
    FROM feed_boundary
),
-- A cursor before the user's tombstone purge may have missed a deletion that no longer exists. It is
-- never shown tombstones below listing_began, so only a purge that reached that far counts.
expiry AS (
    SELECT EXISTS (
        SELECT FROM public.project_feed_horizons AS horizon, viewer, reading
        WHERE horizon."userId" = viewer.user_id AND horizon."purgedThrough" >= reading.listing_began
          AND (%(after_xid)s::xid8, %(after_id)s::uuid) < (horizon."purgedThrough", 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)
    ) AS expired
),
-- The changes after the cursor in feed order, one more than asked (to tell whether more follow), each
-- with its current revision's data and a bound on its JSON's size: data as stored (its revision's
-- bytes), the name escaped at worst (6 bytes a byte), the rest at most 256 bytes; bytes_through is the
-- running sum. A tombstone's revision has no data.
candidates AS (
    SELECT
        project.*,
        kept.data,
        row_number() OVER feed_order AS place,
        sum(coalesce(kept.bytes, 0) + 6 * octet_length(project.name) + 256) OVER feed_order AS bytes_through
    FROM (
        SELECT project.id, project.name, project.revision, project."deletedAt", project."updatedAt",
            project."changeXid", project."userId"
        FROM public.projects AS project
        -- The user as a value, not a join: an index scan of ("userId", "changeXid", id) then reads the
        -- rows in feed order and stops at the limit (a join's rows come in no order, so all are sorted).
        WHERE project."userId" = (SELECT user_id FROM viewer)
          -- Uncorrelated, so one-time filters: no project is read for a request refused or expired.
          AND (SELECT admitted FROM limit_check) AND NOT (SELECT expired FROM expiry)
          AND project."changeXid" < (SELECT stable_below FROM feed_boundary)
          AND (project."changeXid", project.id) > (%(after_xid)s::xid8, %(after_id)s::uuid)
          AND (project."deletedAt" IS NULL OR project."changeXid" >= (SELECT listing_began FROM reading))
        ORDER BY project."changeXid", project.id
        LIMIT %(limit)s + 1
    ) AS project
    LEFT JOIN public.project_revisions AS kept
        ON kept."userId" = project."userId" AND kept.id = project.id AND kept.revision = project.revision
            AND project."deletedAt" IS NULL
    WINDOW feed_order AS (ORDER BY project."changeXid", project.id)
),
-- The page: at most limit rows within the byte budget; a first row larger than the budget comes alone.
page AS (
    SELECT *
    FROM candidates
    WHERE place <= %(limit)s AND (place = 1 OR bytes_through <= %(page_bytes)s)
)
SELECT
    limit_check.*,
    (SELECT expired FROM expiry) AS expired,
    (SELECT count(*) FROM candidates) > (SELECT count(*) FROM page) AS more,
    (SELECT stable_below::text FROM feed_boundary) AS stable_below,
    (SELECT listing_began::text FROM reading) AS listing_began,
    page."changeXid"::text AS change_xid,
    page.id,
    CASE WHEN page.id IS NOT NULL THEN json_build_object(
            'id', page.id, 'name', page.name,
            'data', CASE WHEN page."deletedAt" IS NULL THEN page.data END, 'revision', page.revision,
            'updatedAt', public.to_iso_string(page."updatedAt"),
            'deletedAt', public.to_iso_string(page."deletedAt")) END AS change
FROM limit_check
LEFT JOIN page ON true
ORDER BY page.place
