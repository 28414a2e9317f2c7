-- The put_project statement exactly as the projects store sends it (one round trip): rendered from
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
-- The body is read only once the session and the limiter said yes: the parse's argument refers to this
-- row, which exists only for an admitted viewer, so it cannot run first (nor be folded while planning).
admitted AS MATERIALIZED (
    SELECT true AS body_admitted
    FROM viewer, limit_check, bytes_check
    WHERE limit_check.admitted AND bytes_check.admitted
),
-- PUT's fields (migrations/20261207_10_...): of the body without its data, which the handler sends apart
-- and the revision's insert casts, or of the whole body when the handler could not place data (only then
-- does this row carry data). bytes is the length of the text stored.
parsed_body AS MATERIALIZED (
    SELECT
        parsed.document,
        parsed.data,
        coalesce(octet_length(parsed.data::text), %(data_bytes)s::int) AS bytes,
        parsed.problem,
        parsed.refusal,
        public.base_revision(parsed.document) AS base_revision
    FROM admitted, public.parse_write_fields(
        CASE WHEN admitted.body_admitted THEN %(fields)s::bytea END,
        CASE WHEN admitted.body_admitted THEN %(whole_body)s::bytea END
    ) AS parsed
),
-- PUT's fields, checked. The write stores data as the exact text it was sent as (its span of the body,
-- or a json parse of the body): numbers keep their spelling (1e400 stays 1e400) and the stored text can
-- never print larger than the body that carried it. bytes is that text's length.
put_fields AS (
    SELECT
        document,
        bytes,
        base_revision,
        CASE
            WHEN problem IS NOT NULL THEN NULL
            WHEN jsonb_typeof(document) IS DISTINCT FROM 'object' THEN 'the body must be a JSON object'
            ELSE public.write_field_problem(document)
        END AS field_problem,
        problem
    FROM parsed_body
),
write AS (
    SELECT
        %(project_id)s::uuid AS id,
        document ->> 'name' AS name,
        bytes,
        base_revision,
        coalesce((document ->> 'writeId')::uuid, %(fallback_write_id)s::uuid) AS write_id,
        1 AS position
    FROM put_fields
    WHERE problem IS NULL AND field_problem IS NULL
),
-- The storage quota: the user's usage row, locked (writes of one user queue here), judges the write.
quota AS MATERIALIZED (
    SELECT write.position, public.storage_quota_refusal(
            viewer.user_id, write.id, write.bytes, write.base_revision, write.write_id,
            %(quota_bytes)s, %(quota_projects)s
        ) AS over_quota
    FROM viewer, write
),
-- The project as this statement's snapshot saw it: the revision a write makes is the one after it.
stored AS MATERIALIZED (
    SELECT project.revision, project."writeId"
    FROM public.projects AS project, viewer
    WHERE EXISTS (SELECT FROM write) AND project."userId" = viewer.user_id AND project.id = %(project_id)s
),
-- A new project is always accepted (nothing can be overwritten); an existing one only at its revision,
-- and never twice for the same writeId. Its data as sent, cast here: the one read and write of it. The
-- revision's key settles races: a write that committed since the snapshot holds the revision after it,
-- so this one conflicts and writes nothing (writes of one user queue at the quota's lock before this).
written_revision AS (
    INSERT INTO public.project_revisions ("userId", id, revision, name, data, "updatedAt", bytes)
    SELECT viewer.user_id, write.id, coalesce((SELECT revision FROM stored) + 1, 1), write.name, sent.data,
        now(), write.bytes
    FROM viewer, write, LATERAL (
        SELECT coalesce((SELECT data FROM parsed_body), public.write_data_or_null(%(data)s::bytea)) AS data
        OFFSET 0
    ) AS sent
    WHERE write.position NOT IN (SELECT position FROM quota WHERE over_quota IS NOT NULL) AND sent.data IS NOT NULL
      AND NOT EXISTS (
          SELECT FROM stored
          WHERE stored.revision IS DISTINCT FROM write.base_revision
             OR stored."writeId" IS NOT DISTINCT FROM write.write_id
      )
    ON CONFLICT DO NOTHING
    RETURNING "userId", id, revision, name
),
-- The projects row takes the revision written. It holds no data (NULL also clears a copy from before
-- project_revisions): its revision does.
written AS (
    INSERT INTO public.projects AS project ("userId", id, name, revision, "writeId")
    SELECT added."userId", added.id, added.name, added.revision, write.write_id
    FROM written_revision AS added
    JOIN write ON write.id = added.id
    ON CONFLICT ("userId", id) DO UPDATE
        SET name = excluded.name, data = NULL, revision = excluded.revision,
            "writeId" = excluded."writeId", "deletedAt" = NULL, "updatedAt" = now(),
            "changeXid" = pg_current_xact_id()
    RETURNING project."userId", project.id, project.name, project.revision, project."updatedAt"
),
-- The project as it now is, read only when the request was accepted and changed nothing. A locking
-- read returns the latest committed version of a row the snapshot saw, even when a concurrent write
-- updated it since, so a conflict reports the copy that won. A row first inserted after the snapshot
-- stays invisible (PUT's outcome 'raced': the store reruns the statement).
current AS (
    SELECT project.*
    FROM public.projects AS project, viewer
    WHERE NOT EXISTS (SELECT FROM written) AND EXISTS (SELECT FROM write)
      AND project."userId" = viewer.user_id AND project.id = %(project_id)s
    FOR SHARE OF project
)
SELECT
    limit_check.*,
    (SELECT admitted FROM bytes_check) AS bytes_admitted,
    (SELECT problem FROM parsed_body) AS unreadable,
    (SELECT refusal FROM parsed_body) AS refusal,
    (SELECT field_problem FROM put_fields) AS field_problem,
    (SELECT over_quota FROM quota) AS over_quota,
    CASE
        WHEN written.id IS NOT NULL THEN 'written'
        -- Whatever else was judged, it was judged from fields that hold only if the data sent apart is
        -- data's whole value: when Postgres refuses it, the body is read whole.
        WHEN %(data_bytes)s::int IS NOT NULL AND EXISTS (SELECT FROM parsed_body)
            AND public.write_data_or_null(%(data)s::bytea) IS NULL THEN 'reread'
        WHEN (SELECT over_quota FROM quota) IS NOT NULL THEN 'over_quota'
        WHEN current."writeId" = (SELECT write_id FROM write) THEN 'replayed'
        WHEN current.id IS NOT NULL AND current.revision <> (SELECT base_revision FROM write)
            THEN 'conflict'
        -- Allowed, yet not written: a write that committed since the snapshot took the revision.
        WHEN EXISTS (SELECT FROM write) THEN 'raced'
    END AS outcome,
    coalesce(written.revision, current.revision) AS revision,
    CASE
        WHEN written.id IS NOT NULL THEN json_build_object(
            'id', written.id, 'revision', written.revision, 'updatedAt', public.to_iso_string(written."updatedAt"))
        WHEN current."writeId" = (SELECT write_id FROM write) THEN json_build_object(
            'id', current.id, 'revision', current.revision, 'updatedAt', public.to_iso_string(current."updatedAt"))
        WHEN current.id IS NOT NULL
            THEN json_build_object('server', json_build_object(
            'id', current.id, 'name', current.name, 'data', public.project_revision_data(current."userId", current.id, current.revision), 'revision', current.revision,
            'updatedAt', public.to_iso_string(current."updatedAt"),
            'deletedAt', public.to_iso_string(current."deletedAt")))
    END AS body
FROM limit_check
LEFT JOIN written ON true
LEFT JOIN current ON true
