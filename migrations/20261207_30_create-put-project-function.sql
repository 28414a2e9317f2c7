-- PUT's statement as a PL/pgSQL function (issues 14 and 15): Postgres plans a function's statement once
-- per connection and reuses the plan, where a statement sent as text is planned on every call (~40% of a
-- small PUT's time; at 1-4 MiB the planner also copies the data parameter, once per reference). Prepared
-- statements would do the same, but they pin RDS Proxy's connections; a function call does not. The
-- store sends `SELECT * FROM public.put_project_v1(<each parameter by name>)`
-- (layers/sync_core/statements/put_project.sql); the query below is the statement it sent before, each
-- %(name)s now the function's parameter put_project_v1.name (a unit test keeps it equal to
-- PUT_PROJECT_QUERY in layers/sync_core/sync_core/adapters/projects_sql.py). Its answer is that
-- statement's one row, column for column.
-- Generic plans only: a custom plan, made for each call's values, is planned on every call again, which is
-- what this function is for. The setting holds inside the function only; the caller's session keeps its
-- own. Nothing of the schema changes: the statement of the release before this one keeps working.
-- A change to the query is a new function (put_project_v2) in a new migration, and the code that calls it.
-- depends: 20261207_10_create-write-data-apart

CREATE FUNCTION public.put_project_v1(
    session_token text,
    limits_on boolean,
    limit_scope text,
    limit_burst bigint,
    limit_per_second float8,
    body_bytes bigint,
    bytes_burst bigint,
    bytes_per_second float8,
    data_bytes integer,
    fields bytea,
    whole_body bytea,
    project_id uuid,
    fallback_write_id uuid,
    quota_bytes bigint,
    quota_projects bigint,
    data bytea
) RETURNS TABLE (
    user_id text,
    admitted boolean,
    tokens_left float8,
    wait_seconds float8,
    blocked boolean,
    bytes_admitted boolean,
    unreadable text,
    refusal text,
    field_problem text,
    over_quota text,
    outcome text,
    revision bigint,
    body json
)
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
AS $put_project$
-- The answer's column names are also the query's: in the query they name columns.
#variable_conflict use_column
BEGIN
RETURN QUERY
WITH
-- Who is asking: a live session of a user who is not banned. Better Auth's admin plugin adds "banned"
-- and "banExpires" to "user"; reading them through to_jsonb works whether or not it is installed.
viewer AS (
    SELECT session."userId" AS user_id
    FROM public."session" AS session
    JOIN public."user" AS account_user ON account_user.id = session."userId"
    WHERE session.token = put_project_v1.session_token
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
    WHERE put_project_v1.limits_on AND block.scope = put_project_v1.limit_scope AND block."blockedUntil" > now()
),
admission AS MATERIALIZED (
    SELECT taken.tokens_left, taken.available
    FROM viewer, public.take_tokens(viewer.user_id, put_project_v1.limit_scope, 1, put_project_v1.limit_burst, put_project_v1.limit_per_second) AS taken
    WHERE put_project_v1.limits_on AND NOT EXISTS (SELECT FROM active_block)
),
limit_check AS (
    SELECT
        (SELECT user_id FROM viewer) AS user_id,
        NOT put_project_v1.limits_on OR (SELECT tokens_left FROM admission) IS NOT NULL AS admitted,
        (SELECT tokens_left FROM admission) AS tokens_left,
        coalesce(
            extract(epoch FROM (SELECT "blockedUntil" FROM active_block) - now())::float8,
            (1 - (SELECT available FROM admission)) / put_project_v1.limit_per_second::float8
        ) AS wait_seconds,
        EXISTS (SELECT FROM active_block) AS blocked
),
-- The body's length, from the write_bytes bucket (its tokens are bytes), once the write bucket admitted.
bytes_admission AS MATERIALIZED (
    SELECT taken.tokens_left
    FROM viewer, public.take_tokens(
        viewer.user_id, 'write_bytes', put_project_v1.body_bytes, put_project_v1.bytes_burst, put_project_v1.bytes_per_second
    ) AS taken
    -- One-time filters (uncorrelated): checked before the call.
    WHERE put_project_v1.limits_on AND (SELECT admitted FROM limit_check)
),
bytes_check AS (
    SELECT NOT put_project_v1.limits_on OR (SELECT tokens_left FROM bytes_admission) IS NOT NULL AS admitted
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
        coalesce(octet_length(parsed.data::text), put_project_v1.data_bytes::int) AS bytes,
        parsed.problem,
        parsed.refusal,
        public.base_revision(parsed.document) AS base_revision
    FROM admitted, public.parse_write_fields(
        CASE WHEN admitted.body_admitted THEN put_project_v1.fields::bytea END,
        CASE WHEN admitted.body_admitted THEN put_project_v1.whole_body::bytea END
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
        put_project_v1.project_id::uuid AS id,
        document ->> 'name' AS name,
        bytes,
        base_revision,
        coalesce((document ->> 'writeId')::uuid, put_project_v1.fallback_write_id::uuid) AS write_id,
        1 AS position
    FROM put_fields
    WHERE problem IS NULL AND field_problem IS NULL
),
-- The storage quota: the user's usage row, locked (writes of one user queue here), judges the write.
quota AS MATERIALIZED (
    SELECT write.position, public.storage_quota_refusal(
            viewer.user_id, write.id, write.bytes, write.base_revision, write.write_id,
            put_project_v1.quota_bytes, put_project_v1.quota_projects
        ) AS over_quota
    FROM viewer, write
),
-- The project as this statement's snapshot saw it: the revision a write makes is the one after it.
stored AS MATERIALIZED (
    SELECT project.revision, project."writeId"
    FROM public.projects AS project, viewer
    WHERE EXISTS (SELECT FROM write) AND project."userId" = viewer.user_id AND project.id = put_project_v1.project_id
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
        SELECT coalesce((SELECT data FROM parsed_body), public.write_data_or_null(put_project_v1.data::bytea)) AS data
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
      AND project."userId" = viewer.user_id AND project.id = put_project_v1.project_id
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
        WHEN put_project_v1.data_bytes::int IS NOT NULL AND EXISTS (SELECT FROM parsed_body)
            AND public.write_data_or_null(put_project_v1.data::bytea) IS NULL THEN 'reread'
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
LEFT JOIN current ON true;
END
$put_project$;
