-- The delete_project statement exactly as the projects store sends it (one round trip): rendered from
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
-- The body's length, from the write_bytes bucket (its tokens are bytes), once the write bucket admitted.
bytes_admission AS MATERIALIZED (
    SELECT taken.tokens_left
    FROM viewer, public.take_tokens(
        viewer.user_id, 'write_bytes', %(body_bytes)s, %(bytes_burst)s, %(bytes_per_second)s
    ) AS taken
    -- One-time filters (uncorrelated): checked before the call.
    WHERE %(limits_on)s AND (SELECT admitted FROM limit_check)
),
bytes_check AS (
    SELECT NOT %(limits_on)s OR (SELECT tokens_left FROM bytes_admission) IS NOT NULL AS admitted
),
-- The body, only once the session and the limiter said yes: a bytea parameter of a MATERIALIZED CTE
-- with a row only for an admitted viewer leaves the planner no jsonb cast to fold before admission ran.
-- The parse never raises (migrations/20261202_01_...): a refused body leaves the token spent.
admitted_body AS MATERIALIZED (
    SELECT %(body)s::bytea AS sent
    FROM viewer, limit_check, bytes_check
    WHERE limit_check.admitted AND bytes_check.admitted
),
-- The body's fields are checked by functions (migrations/20261202_07_...): one copy of each rule.
parsed_body AS MATERIALIZED (
    SELECT
        parsed.document,
        parsed.data,
        parsed.problem,
        parsed.refusal,
        public.base_revision(parsed.document) AS base_revision
    FROM admitted_body, public.parse_request_body(admitted_body.sent) AS parsed
),
-- DELETE's one field, checked: the base revision comes from the body or If-Match (parsed by the
-- adapter); when both are given they must agree. An empty body is no body.
delete_fields AS (
    SELECT
        CASE
            WHEN problem IS NOT NULL OR document IS NULL THEN NULL
            WHEN jsonb_typeof(document) <> 'object' THEN 'the body must be a JSON object'
            ELSE public.deletion_field_problem(document)
        END AS field_problem,
        problem,
        CASE WHEN jsonb_typeof(document) = 'object' THEN base_revision END AS from_body
    FROM parsed_body
),
deletion AS (
    SELECT
        coalesce(from_body, %(if_match_revision)s::bigint) AS base_revision,
        from_body <> %(if_match_revision)s::bigint AS disagreeing
    FROM delete_fields
    WHERE problem IS NULL AND field_problem IS NULL
),
usage_lock AS MATERIALIZED (
    SELECT public.lock_storage_usage(viewer.user_id) FROM viewer, deletion WHERE deletion.disagreeing IS NOT TRUE
),
-- Deleting makes a tombstone. A tombstone deleted again is returned unchanged, whatever the base
-- revision, so a retried DELETE whose first attempt committed still succeeds.
tombstoned AS (
    UPDATE public.projects AS project
    SET "deletedAt" = now(), "updatedAt" = now(), revision = project.revision + 1, "writeId" = NULL,
        data = NULL, "changeXid" = pg_current_xact_id()
    FROM viewer, deletion
    -- Uncorrelated, so a one-time filter: no project is scanned for a request not admitted.
    WHERE EXISTS (SELECT FROM deletion WHERE disagreeing IS NOT TRUE) AND EXISTS (SELECT FROM usage_lock)
      AND project."userId" = viewer.user_id AND project.id = %(project_id)s
      AND deletion.disagreeing IS NOT TRUE AND project."deletedAt" IS NULL
      AND (deletion.base_revision IS NULL OR project.revision = deletion.base_revision)
    RETURNING project.*
),
tombstone_revision AS (
    INSERT INTO public.project_revisions ("userId", id, revision, name, data, "deletedAt", "updatedAt", bytes)
    SELECT "userId", id, revision, name, NULL, "deletedAt", "updatedAt", 0
    FROM tombstoned
),
-- The project as it now is, read only when the request was accepted and changed nothing. A locking
-- read returns the latest committed version of a row the snapshot saw, even when a concurrent write
-- updated it since, so a conflict reports the copy that won. A row first inserted after the snapshot
-- stays invisible (PUT's outcome 'raced': the store reruns the statement).
current AS (
    SELECT project.*
    FROM public.projects AS project, viewer
    WHERE NOT EXISTS (SELECT FROM tombstoned) AND EXISTS (SELECT FROM deletion WHERE disagreeing IS NOT TRUE)
      AND project."userId" = viewer.user_id AND project.id = %(project_id)s
    FOR SHARE OF project
)
SELECT
    limit_check.*,
    (SELECT admitted FROM bytes_check) AS bytes_admitted,
    (SELECT problem FROM parsed_body) AS unreadable,
    (SELECT refusal FROM parsed_body) AS refusal,
    (SELECT field_problem FROM delete_fields) AS field_problem,
    CASE WHEN (SELECT disagreeing FROM deletion) THEN 'baseRevision in the body and If-Match disagree' END
        AS disagreement,
    CASE
        WHEN tombstoned.id IS NOT NULL OR current."deletedAt" IS NOT NULL THEN 'tombstoned'
        WHEN current.id IS NOT NULL THEN 'conflict'
        WHEN EXISTS (SELECT FROM deletion WHERE disagreeing IS NOT TRUE) THEN 'not_found'
    END AS outcome,
    coalesce(tombstoned.revision, current.revision) AS revision,
    CASE
        WHEN tombstoned.id IS NOT NULL THEN json_build_object(
            'id', tombstoned.id, 'name', tombstoned.name, 'revision', tombstoned.revision,
            'updatedAt', public.to_iso_string(tombstoned."updatedAt"),
            'deletedAt', public.to_iso_string(tombstoned."deletedAt"))
        WHEN current."deletedAt" IS NOT NULL THEN json_build_object(
            'id', current.id, 'name', current.name, 'revision', current.revision,
            'updatedAt', public.to_iso_string(current."updatedAt"),
            'deletedAt', public.to_iso_string(current."deletedAt"))
        WHEN current.id IS NOT NULL
            THEN json_build_object('server', json_build_object(
            'id', current.id, 'name', current.name, 'data', public.project_revision_data(current."userId", current.id, current.revision), 'revision', current.revision,
            'updatedAt', public.to_iso_string(current."updatedAt"),
            'deletedAt', public.to_iso_string(current."deletedAt")))
    END AS body
FROM limit_check
LEFT JOIN tombstoned ON true
LEFT JOIN current ON true
