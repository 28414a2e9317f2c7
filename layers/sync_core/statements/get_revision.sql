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
)
SELECT
    limit_check.*,
    found.revision,
    CASE WHEN NOT (%(any_revision)s OR found.revision = ANY (%(cached_revisions)s::bigint[])) THEN json_build_object('id', found.id, 'name', found.name) END AS before_data,
    CASE WHEN NOT (%(any_revision)s OR found.revision = ANY (%(cached_revisions)s::bigint[])) THEN found.data END AS data,
    CASE WHEN NOT (%(any_revision)s OR found.revision = ANY (%(cached_revisions)s::bigint[])) THEN json_build_object(
            'revision', found.revision,
            'updatedAt', public.to_iso_string(found."updatedAt"),
            'deletedAt', public.to_iso_string(found."deletedAt")) END AS after_data
FROM limit_check
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
