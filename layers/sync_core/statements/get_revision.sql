-- The get_revision statement exactly as the projects store sends it (one round trip): rendered from
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
-- The user's token bucket for this request's scope, taken in the same statement. The conditional
-- upsert is exact under concurrency: ON CONFLICT re-checks its WHERE on the latest row version.
-- A refused request writes nothing; refused_bucket says how long to wait.
active_block AS (
    SELECT block."blockedUntil"
    FROM public.rate_limit_blocks AS block
    JOIN viewer ON block."userId" = viewer.user_id
    WHERE %(limits_on)s AND block.scope = %(limit_scope)s AND block."blockedUntil" > now()
),
admission AS (
    INSERT INTO public.rate_limits AS bucket ("userId", scope, tokens, "refilledAt")
    SELECT viewer.user_id, %(limit_scope)s, %(limit_burst)s::float8 - 1, now()
    FROM viewer
    WHERE %(limits_on)s AND NOT EXISTS (SELECT FROM active_block)
    ON CONFLICT ("userId", scope) DO UPDATE
        SET tokens = least(%(limit_burst)s::float8, bucket.tokens + extract(epoch FROM now() - bucket."refilledAt")::float8 * %(limit_per_second)s::float8) - 1, "refilledAt" = now()
        WHERE least(%(limit_burst)s::float8, bucket.tokens + extract(epoch FROM now() - bucket."refilledAt")::float8 * %(limit_per_second)s::float8) >= 1
    RETURNING bucket.tokens
),
-- Read only when refused, as a locking read: it sees the version that refused us, not the snapshot's.
refused_bucket AS (
    SELECT least(%(limit_burst)s::float8, bucket.tokens + extract(epoch FROM now() - bucket."refilledAt")::float8 * %(limit_per_second)s::float8) AS available
    FROM public.rate_limits AS bucket
    JOIN viewer ON bucket."userId" = viewer.user_id
    WHERE %(limits_on)s AND bucket.scope = %(limit_scope)s AND NOT EXISTS (SELECT FROM admission)
    FOR SHARE OF bucket
),
limit_check AS (
    SELECT
        NOT %(limits_on)s OR EXISTS (SELECT FROM admission) AS admitted,
        (SELECT tokens FROM admission) AS tokens_left,
        coalesce(
            extract(epoch FROM (SELECT "blockedUntil" FROM active_block) - now())::float8,
            (1 - (SELECT available FROM refused_bucket)) / %(limit_per_second)s::float8
        ) AS wait_seconds,
        EXISTS (SELECT FROM active_block) AS blocked
)
SELECT
    (SELECT user_id FROM viewer) AS user_id,
    (SELECT admitted FROM limit_check) AS admitted,
    (SELECT tokens_left FROM limit_check) AS tokens_left,
    (SELECT wait_seconds FROM limit_check) AS wait_seconds,
    (SELECT blocked FROM limit_check) AS blocked,
    found.revision,
    CASE
        WHEN %(any_revision)s OR found.revision = ANY (%(cached_revisions)s::bigint[]) THEN NULL
        ELSE json_build_object(
            'id', found.id, 'name', found.name, 'data', found.data, 'revision', found.revision,
            'updatedAt', public.to_iso_string(found."updatedAt"),
            'deletedAt', public.to_iso_string(found."deletedAt"))::text
    END AS document
FROM (SELECT) AS answer
LEFT JOIN (
    SELECT kept.*
    FROM viewer, LATERAL (
        SELECT *
        FROM public.project_revisions AS kept
        WHERE kept."userId" = viewer.user_id AND kept.id = %(project_id)s AND kept.revision = %(revision)s
        LIMIT 1
    ) AS kept
    WHERE (SELECT admitted FROM limit_check)
) AS found ON true
