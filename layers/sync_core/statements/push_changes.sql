-- The push_changes statement exactly as the projects store sends it (one round trip): rendered from
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
-- The body, read as PUT's (never raising, migrations/20261206_13_...): each change's members but data
-- as jsonb, and each change's data as json, as sent.
parsed_body AS MATERIALIZED (
    SELECT parsed.document, parsed.changes, parsed.problem, parsed.refusal
    FROM admitted_body, public.parse_changes_body_as_json(admitted_body.sent) AS parsed
),
-- Each change, in order: ROWS FROM pairs its jsonb (checked) with its data.
change AS MATERIALIZED (
    SELECT
        item.position,
        item.document,
        item.data,
        public.base_revision(item.document) AS base_revision,
        jsonb_typeof(item.document -> 'deleted') = 'boolean' AND item.document ->> 'deleted' = 'true' AS deleting
    FROM parsed_body,
        ROWS FROM (jsonb_array_elements(parsed_body.document -> 'changes'), json_array_elements(parsed_body.changes))
            WITH ORDINALITY AS item(document, data, position)
    WHERE parsed_body.changes IS NOT NULL
),
-- The batch's own rules: a refusal here refuses every change (422). One id twice would be two writes
-- of one row in one statement, which Postgres refuses or applies in no promised order.
changes_fields AS (
    SELECT
        CASE
            WHEN problem IS NOT NULL THEN NULL
            WHEN jsonb_typeof(document) IS DISTINCT FROM 'object' THEN 'the body must be a JSON object'
            WHEN jsonb_typeof(document -> 'changes') IS DISTINCT FROM 'array' THEN 'changes must be an array'
            WHEN jsonb_array_length(document -> 'changes') > 100
                THEN 'changes holds ' || jsonb_array_length(document -> 'changes')
                    || ' items; a batch holds at most 100'
            WHEN repeated.id IS NOT NULL THEN 'project id ' || repeated.id || ' appears more than once in changes'
        END AS field_problem,
        problem
    FROM parsed_body
    LEFT JOIN (
        SELECT change.document ->> 'id' AS id
        FROM change
        WHERE jsonb_typeof(change.document -> 'id') = 'string'
        GROUP BY 1
        HAVING count(*) > 1
        ORDER BY 1
        LIMIT 1
    ) AS repeated ON true
),
-- A batch of N changes costs N write tokens: the admission took one, this the rest (a rerun: none).
-- Unpaid, no change is read: the batch is refused (429), the admission's token spent.
batch_charge AS MATERIALIZED (
    SELECT batch.cost, charge.tokens_left, NOT batch.owed OR charge.tokens_left IS NOT NULL AS paid
    FROM viewer, changes_fields, (
        SELECT count(*) AS cost, %(limits_on)s AND %(positions)s::bigint[] IS NULL AND count(*) > 1 AS owed
        FROM change
    ) AS batch, LATERAL (
        SELECT CASE WHEN batch.owed
            THEN public.spend_admitted_tokens(viewer.user_id, 'write', batch.cost - 1) END
    ) AS charge (tokens_left)
    WHERE changes_fields.problem IS NULL AND changes_fields.field_problem IS NULL
),
-- Each change's fields, by PUT's rules or DELETE's (a rerun reads only those in positions).
checked_change AS (
    SELECT
        change.*,
        CASE
            WHEN jsonb_typeof(document) IS DISTINCT FROM 'object' THEN 'each change must be a JSON object'
            WHEN jsonb_typeof(document -> 'id') IS DISTINCT FROM 'string' OR (document ->> 'id') !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                THEN 'id must be a UUID in its canonical spelling: lower-case, hyphenated, ASCII (8-4-4-4-12 hex digits, as crypto.randomUUID() writes it)'
            WHEN coalesce(jsonb_typeof(document -> 'deleted'), 'null') NOT IN ('null', 'boolean')
                THEN 'deleted must be true or false'
            WHEN deleting THEN coalesce(public.deletion_field_problem(document), public.write_id_problem(document))
            ELSE public.write_field_problem(document)
        END AS field_problem
    FROM change, batch_charge
    WHERE batch_charge.paid
      AND (%(positions)s::bigint[] IS NULL OR change.position = ANY (%(positions)s::bigint[]))
),
-- MATERIALIZED: the casts run only on changes whose fields are right. A write without a writeId gets
-- one made from the request's seed and its place (alike on a rerun).
valid_change AS MATERIALIZED (
    SELECT
        position,
        deleting IS TRUE AS deleting,
        (document ->> 'id')::uuid AS id,
        document ->> 'name' AS name,
        data,
        base_revision,
        CASE WHEN deleting IS NOT TRUE
            THEN coalesce((document ->> 'writeId')::uuid, md5(%(fallback_write_id)s::text || position)::uuid)
        END AS write_id
    FROM checked_change
    WHERE field_problem IS NULL
),
usage_lock AS MATERIALIZED (
    SELECT public.lock_storage_usage(viewer.user_id) FROM viewer, batch_charge WHERE batch_charge.paid
),
-- Every project the batch names, locked in id order before any is written: two batches of the same
-- projects in other orders queue, never deadlock. A locking read gives the latest committed version (a
-- conflict's winning copy); a first write committed after the snapshot stays unseen ('raced').
locked AS MATERIALIZED (
    SELECT project.*
    FROM public.projects AS project, viewer
    WHERE EXISTS (SELECT FROM usage_lock) AND project."userId" = viewer.user_id AND project.id IN (SELECT id FROM valid_change)
    ORDER BY project.id
    FOR NO KEY UPDATE OF project
),
-- The storage quota: the user's usage row, locked (writes of one user queue here), judges each write.
quota AS MATERIALIZED (
    SELECT judged.position, judged.over_quota
    FROM (
        SELECT array_agg(valid_change.position ORDER BY valid_change.position) AS positions,
            public.storage_quota_refusals(
                viewer.user_id, array_agg(valid_change.id ORDER BY valid_change.position),
                array_agg(octet_length(valid_change.data::text)::bigint ORDER BY valid_change.position),
                array_agg(valid_change.base_revision ORDER BY valid_change.position),
                array_agg(valid_change.write_id ORDER BY valid_change.position), %(quota_bytes)s, %(quota_projects)s
            ) AS refusals
        FROM viewer, valid_change
        WHERE NOT valid_change.deleting AND (SELECT count(*) FROM locked) >= 0
        GROUP BY viewer.user_id
    ) AS batch, unnest(batch.positions, batch.refusals) AS judged (position, over_quota)
),
-- A new row is always accepted (nothing can be overwritten); an existing one only at its revision,
-- and never twice for the same writeId. ON CONFLICT also settles two first writes racing. The row
-- holds no data (NULL also clears a copy from before project_revisions): its revision does.
written AS (
    INSERT INTO public.projects AS project ("userId", id, name, revision, "writeId")
    SELECT viewer.user_id, valid_change.id, valid_change.name, 1, valid_change.write_id
    FROM viewer, valid_change
    WHERE NOT valid_change.deleting AND (SELECT count(*) FROM locked) >= 0 AND valid_change.position NOT IN (SELECT position FROM quota WHERE over_quota IS NOT NULL)
    -- By id: new projects too are taken in one order (see locked).
    ORDER BY valid_change.id
    ON CONFLICT ("userId", id) DO UPDATE
        SET name = excluded.name, data = NULL, revision = project.revision + 1,
            "writeId" = excluded."writeId", "deletedAt" = NULL, "updatedAt" = now(),
            "changeXid" = pg_current_xact_id()
        WHERE project.revision = (SELECT base_revision FROM valid_change WHERE valid_change.id = excluded.id)
          AND project."writeId" IS DISTINCT FROM excluded."writeId"
    RETURNING project."userId", project.id, project.name, project.revision, project."updatedAt"
),
-- Each written revision appended to its project's history, data as sent: the one write of the data.
-- The revision it replaced is already there, the one before it.
written_revision AS (
    INSERT INTO public.project_revisions ("userId", id, revision, name, data, "updatedAt", bytes)
    SELECT written."userId", written.id, written.revision, written.name,
        valid_change.data,
        written."updatedAt", octet_length(valid_change.data::text)
    FROM written
    JOIN valid_change ON valid_change.id = written.id
),
-- As DELETE's: a tombstone deleted again is returned unchanged, whatever the base revision.
tombstoned AS (
    UPDATE public.projects AS project
    SET "deletedAt" = now(), "updatedAt" = now(), revision = project.revision + 1, "writeId" = NULL,
        data = NULL, "changeXid" = pg_current_xact_id()
    FROM viewer, valid_change AS deletion
    WHERE (SELECT count(*) FROM locked) >= 0 AND deletion.deleting
      AND project."userId" = viewer.user_id AND project.id = deletion.id AND project."deletedAt" IS NULL
      AND (deletion.base_revision IS NULL OR project.revision = deletion.base_revision)
    RETURNING project."userId", project.id, project.name, project.revision, project."deletedAt", project."updatedAt"
),
tombstone_revision AS (
    INSERT INTO public.project_revisions ("userId", id, revision, name, data, "deletedAt", "updatedAt", bytes)
    SELECT "userId", id, revision, name, NULL, "deletedAt", "updatedAt", 0
    FROM tombstoned
),
-- Each change's outcome, and its answer as its own PUT or DELETE would answer it.
answered AS (
    SELECT checked.position, judged.outcome, CASE judged.outcome
            WHEN 'raced' THEN NULL
            WHEN 'conflict' THEN json_build_object(
                'id', valid.id, 'status', 409, 'server', json_build_object(
            'id', locked.id, 'name', locked.name, 'data', public.project_revision_data(locked."userId", locked.id, locked.revision), 'revision', locked.revision,
            'updatedAt', public.to_iso_string(locked."updatedAt"),
            'deletedAt', public.to_iso_string(locked."deletedAt")))
            WHEN 'not_found' THEN json_build_object(
                'id', valid.id, 'status', 404, 'error', json_build_object(
                    'code', 'project_not_found', 'message', 'no project ' || valid.id || ' in this account'))
            WHEN 'over_quota' THEN json_build_object('id', valid.id, 'status', 403,
                'error', json_build_object('code', 'quota_exceeded', 'message', quota.over_quota))
            WHEN 'refused' THEN json_build_object(
                'id', checked.document -> 'id', 'status', 422,
                'error', json_build_object('code', 'invalid_field', 'message', checked.field_problem))
            ELSE json_build_object(
                'id', valid.id, 'status', 200,
                'revision', coalesce(written.revision, tombstoned.revision, locked.revision),
                'updatedAt', public.to_iso_string(coalesce(written."updatedAt", tombstoned."updatedAt", locked."updatedAt")))
        END AS result
    FROM checked_change AS checked
    LEFT JOIN valid_change AS valid USING (position)
    LEFT JOIN written ON written.id = valid.id
    LEFT JOIN tombstoned ON tombstoned.id = valid.id
    LEFT JOIN locked ON locked.id = valid.id
    LEFT JOIN quota USING (position),
    LATERAL (SELECT CASE
        WHEN checked.field_problem IS NOT NULL THEN 'refused'
        WHEN quota.over_quota IS NOT NULL THEN 'over_quota'
        WHEN written.id IS NOT NULL THEN 'written'
        WHEN tombstoned.id IS NOT NULL OR (valid.deleting AND locked."deletedAt" IS NOT NULL)
            THEN 'tombstoned'
        WHEN locked."writeId" = valid.write_id THEN 'replayed'
        WHEN locked.id IS NOT NULL THEN 'conflict'
        WHEN valid.deleting THEN 'not_found'
        ELSE 'raced'
    END) AS judged (outcome)
)
SELECT
    limit_check.*,
    (SELECT admitted FROM bytes_check) AS bytes_admitted,
    (SELECT problem FROM parsed_body) AS unreadable,
    (SELECT refusal FROM parsed_body) AS refusal,
    (SELECT field_problem FROM changes_fields) AS field_problem,
    batch_charge.cost AS batch_cost,
    batch_charge.paid AS batch_paid,
    batch_charge.tokens_left AS batch_tokens_left,
    (SELECT array_agg(outcome ORDER BY position) FROM answered) AS outcomes,
    (SELECT array_agg(result ORDER BY position) FROM answered) AS results
FROM limit_check
LEFT JOIN batch_charge ON true
