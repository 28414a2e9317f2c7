"""The projects store on Postgres: each method is one SQL statement, so one round trip.

Each statement checks the Better Auth session itself (the `viewer` CTE), scopes every row to that
user, applies the revision rule, and builds the response JSON in Postgres so that `data` is never
decoded into Python objects. The revision rule lives here and nowhere else.
"""

import uuid

from sync_core.adapters.postgres import Database
from sync_core.domain.errors import (
    DatabaseUnavailable,
    InvalidField,
    ProjectNotFound,
    RateLimited,
    RevisionConflict,
    Unauthenticated,
)
from sync_core.domain.limits import LimitEvent, LimitEventKind, LimitHooks, RateLimits, Scope, retry_after_seconds
from sync_core.domain.projects import CachedRevisions, NotModified, ProjectDocument, ProjectWrite

# A live session of a user who is not banned. Better Auth's admin plugin adds "banned" and
# "banExpires" to "user"; reading them through to_jsonb works whether or not the plugin is installed.
VIEWER = """
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
)"""


# The user's token bucket for this request's scope, taken in the same statement. The conditional
# upsert is exact under concurrency: ON CONFLICT re-checks its WHERE on the latest row version.
# A refused request writes nothing; `bucket` (a locking read of the version that refused it) says
# how long to wait.
_AVAILABLE = """least(%(limit_burst)s::float8,
        bucket.tokens + extract(epoch FROM now() - bucket."refilledAt")::float8 * %(limit_per_second)s::float8)"""
ADMISSION = f"""
block AS (
    SELECT block."blockedUntil"
    FROM public.rate_limit_blocks AS block
    JOIN viewer ON block."userId" = viewer.user_id
    WHERE %(limits_on)s AND block.scope = %(limit_scope)s AND block."blockedUntil" > now()
),
admission AS (
    INSERT INTO public.rate_limits AS bucket ("userId", scope, tokens, "refilledAt")
    SELECT viewer.user_id, %(limit_scope)s, %(limit_burst)s::float8 - 1, now()
    FROM viewer
    WHERE %(limits_on)s AND NOT EXISTS (SELECT FROM block)
    ON CONFLICT ("userId", scope) DO UPDATE
        SET tokens = {_AVAILABLE} - 1, "refilledAt" = now()
        WHERE {_AVAILABLE} >= 1
    RETURNING bucket.tokens
),
-- Read only when refused, as a locking read: it sees the version that refused us, not the snapshot's.
bucket AS (
    SELECT {_AVAILABLE} AS available
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
            extract(epoch FROM (SELECT "blockedUntil" FROM block) - now())::float8,
            (1 - (SELECT available FROM bucket)) / %(limit_per_second)s::float8
        ) AS wait_seconds,
        EXISTS (SELECT FROM block) AS blocked
)"""

# Every statement answers these first: who is asking, and whether the limiter admitted them.
LIMIT_COLUMNS = """
    (SELECT user_id FROM viewer) AS user_id,
    (SELECT admitted FROM limit_check) AS admitted,
    (SELECT tokens_left FROM limit_check) AS tokens_left,
    (SELECT wait_seconds FROM limit_check) AS wait_seconds,
    (SELECT blocked FROM limit_check) AS blocked"""
ADMITTED = "(SELECT admitted FROM limit_check)"


def _time(column: str) -> str:
    """A timestamp as JavaScript's Date.toISOString() writes it, whatever the session's time zone."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


def _summary(alias: str) -> str:
    return f"""json_build_object(
        'id', {alias}.id, 'name', {alias}.name, 'revision', {alias}.revision,
        'updatedAt', {_time(f'{alias}."updatedAt"')}, 'deletedAt', {_time(f'{alias}."deletedAt"')})"""


def _document(alias: str) -> str:
    return f"""json_build_object(
        'id', {alias}.id, 'name', {alias}.name, 'data', {alias}.data, 'revision', {alias}.revision,
        'updatedAt', {_time(f'{alias}."updatedAt"')}, 'deletedAt', {_time(f'{alias}."deletedAt"')})"""


def _write_receipt(alias: str) -> str:
    updated_at = _time(f'{alias}."updatedAt"')
    return f"""json_build_object('id', {alias}.id, 'revision', {alias}.revision, 'updatedAt', {updated_at})"""


def _current_unless(change: str) -> str:
    """The project as it now is, read only when the `change` CTE changed nothing.

    A locking read returns the latest committed version of a row the snapshot saw, even when a
    concurrent write updated it since, so a conflict reports the copy that won. A row first inserted
    after the snapshot stays invisible: `put_project` reruns the statement for that case.
    """
    return f"""current AS (
    SELECT project.*
    FROM public.projects AS project, viewer
    WHERE NOT EXISTS (SELECT FROM {change}) AND {ADMITTED}
      AND project."userId" = viewer.user_id AND project.id = %(project_id)s
    FOR SHARE OF project
)"""


LIST_PROJECTS = f"""
WITH {VIEWER}, {ADMISSION}
SELECT {LIMIT_COLUMNS},
    (
        SELECT coalesce(json_agg({_summary("project")} ORDER BY project."updatedAt" DESC, project.id), '[]')::text
        FROM public.projects AS project
        JOIN viewer ON project."userId" = viewer.user_id
        WHERE {ADMITTED} AND (%(include_deleted)s OR project."deletedAt" IS NULL)
    ) AS projects
"""

GET_PROJECT = f"""
WITH {VIEWER}, {ADMISSION}
SELECT {LIMIT_COLUMNS},
    project.revision,
    CASE
        WHEN %(any_revision)s OR project.revision = ANY (%(cached_revisions)s::bigint[]) THEN NULL
        ELSE {_document("project")}::text
    END AS document
FROM (SELECT) AS request
LEFT JOIN (
    SELECT project.*
    FROM public.projects AS project
    JOIN viewer ON project."userId" = viewer.user_id
    WHERE project.id = %(project_id)s AND {ADMITTED}
) AS project ON true
"""

UUID_PATTERN = "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'"

# The body is parsed by Postgres in a MATERIALIZED CTE: the checks below then run in order at
# execution time, so a cast is only reached once the field's type has been checked. The parameter
# is cast to text first: it is read as jsonb here and as json for `data`, and an untyped parameter
# would take the type of its first cast (json would then be printed from jsonb, respelled).
PUT_PROJECT = f"""
WITH {VIEWER}, {ADMISSION},
sent AS MATERIALIZED (
    SELECT %(body)s::text::jsonb AS body
),
request AS (
    SELECT
        body,
        CASE
            WHEN jsonb_typeof(body) <> 'object' THEN 'the body must be a JSON object'
            WHEN jsonb_typeof(body -> 'name') IS DISTINCT FROM 'string' THEN 'name must be a string'
            WHEN length(body ->> 'name') > 1000 THEN 'name must be at most 1000 characters'
            WHEN NOT body ? 'data' THEN 'data is required'
            WHEN jsonb_typeof(body -> 'baseRevision') IS DISTINCT FROM 'number'
                OR (body -> 'baseRevision')::numeric NOT BETWEEN 0 AND 9223372036854775807
                OR (body -> 'baseRevision')::numeric <> trunc((body -> 'baseRevision')::numeric)
                THEN 'baseRevision must be a whole number, 0 or more'
            WHEN coalesce(jsonb_typeof(body -> 'writeId'), 'null') <> 'null'
                AND NOT (jsonb_typeof(body -> 'writeId') = 'string' AND body ->> 'writeId' ~* {UUID_PATTERN})
                THEN 'writeId must be a UUID'
            WHEN coalesce(jsonb_typeof(body -> 'clientUpdatedAt'), 'null') NOT IN ('null', 'string')
                THEN 'clientUpdatedAt must be a string'
        END AS problem
    FROM sent
),
write AS (
    SELECT
        body ->> 'name' AS name,
        -- `data` is stored as the exact text it was sent as: numbers keep their spelling (1e400 stays
        -- 1e400) and the stored text can never print larger than the body that carried it.
        (SELECT %(body)s::text::json -> 'data') AS data,
        (body -> 'baseRevision')::numeric::bigint AS base_revision,
        coalesce((body ->> 'writeId')::uuid, %(fallback_write_id)s::uuid) AS write_id
    FROM request
    WHERE problem IS NULL
),
-- A new row is always accepted (nothing can be overwritten); an existing one only at its revision,
-- and never twice for the same writeId. ON CONFLICT also settles two first writes racing.
written AS (
    INSERT INTO public.projects AS project ("userId", id, name, data, revision, "writeId")
    SELECT viewer.user_id, %(project_id)s, write.name, write.data, 1, write.write_id
    FROM viewer, write
    WHERE {ADMITTED}
    ON CONFLICT ("userId", id) DO UPDATE
        SET name = excluded.name, data = excluded.data, revision = project.revision + 1,
            "writeId" = excluded."writeId", "deletedAt" = NULL, "updatedAt" = now()
        WHERE project.revision = (SELECT base_revision FROM write)
          AND project."writeId" IS DISTINCT FROM excluded."writeId"
    RETURNING project.id, project.revision, project."updatedAt"
),
{_current_unless("written")}
SELECT {LIMIT_COLUMNS},
    (SELECT problem FROM request) AS problem,
    CASE
        WHEN written.id IS NOT NULL THEN 'written'
        WHEN current."writeId" = (SELECT write_id FROM write) THEN 'replayed'
        WHEN current.id IS NOT NULL THEN 'conflict'
    END AS outcome,
    coalesce(written.revision, current.revision) AS revision,
    CASE
        WHEN written.id IS NOT NULL THEN {_write_receipt("written")}::text
        WHEN current."writeId" = (SELECT write_id FROM write) THEN {_write_receipt("current")}::text
        WHEN current.id IS NOT NULL THEN json_build_object('server', {_document("current")})::text
    END AS body
FROM (SELECT) AS request
LEFT JOIN written ON true
LEFT JOIN current ON true
"""

# Deleting makes a tombstone. A tombstone deleted again is returned unchanged, whatever the base
# revision, so a retried DELETE whose first attempt committed still succeeds.
DELETE_PROJECT = f"""
WITH {VIEWER}, {ADMISSION},
tombstoned AS (
    UPDATE public.projects AS project
    SET "deletedAt" = now(), "updatedAt" = now(), revision = project.revision + 1, "writeId" = NULL
    FROM viewer
    WHERE project."userId" = viewer.user_id AND project.id = %(project_id)s AND {ADMITTED}
      AND project."deletedAt" IS NULL
      AND (%(base_revision)s::bigint IS NULL OR project.revision = %(base_revision)s::bigint)
    RETURNING project.*
),
{_current_unless("tombstoned")}
SELECT {LIMIT_COLUMNS},
    CASE
        WHEN tombstoned.id IS NOT NULL OR current."deletedAt" IS NOT NULL THEN 'tombstoned'
        WHEN current.id IS NOT NULL THEN 'conflict'
    END AS outcome,
    coalesce(tombstoned.revision, current.revision) AS revision,
    CASE
        WHEN tombstoned.id IS NOT NULL THEN {_summary("tombstoned")}::text
        WHEN current."deletedAt" IS NOT NULL THEN {_summary("current")}::text
        WHEN current.id IS NOT NULL THEN json_build_object('server', {_document("current")})::text
    END AS body
FROM (SELECT) AS request
LEFT JOIN tombstoned ON true
LEFT JOIN current ON true
"""

SESSION_ENDED = "the session has expired, was signed out, or its user is banned"

WHO_IS_ASKING = f"WITH {VIEWER} SELECT (SELECT user_id FROM viewer)"


def limit_parameters(limits: RateLimits, scope: Scope) -> dict:
    """The parameters of the ADMISSION CTE for a request of `scope`."""
    bucket = limits.bucket(scope)
    return {
        "limits_on": limits.enabled,
        "limit_scope": scope.value,
        "limit_burst": bucket.burst,
        "limit_per_second": bucket.per_second,
    }


class PostgresProjectsStore:
    def __init__(self, database: Database, limits: RateLimits, hooks: LimitHooks):
        self._database = database
        self._limits = limits
        self._hooks = hooks

    def list_projects(self, session_token: str, *, include_deleted: bool) -> str:
        (projects,) = self._admitted_row(
            Scope.READ, LIST_PROJECTS, {"session_token": session_token, "include_deleted": include_deleted}
        )
        return projects

    def get_project(
        self, session_token: str, project_id: uuid.UUID, cached: CachedRevisions
    ) -> ProjectDocument | NotModified:
        revision, document = self._admitted_row(
            Scope.READ,
            GET_PROJECT,
            {
                "session_token": session_token,
                "project_id": project_id,
                "any_revision": cached.any_revision,
                "cached_revisions": sorted(cached.revisions),
            },
        )
        if revision is None:
            raise ProjectNotFound(f"no project {project_id} in this account")
        return NotModified(revision) if document is None else ProjectDocument(revision, document)

    def put_project(self, session_token: str, project_id: uuid.UUID, write: ProjectWrite) -> ProjectDocument:
        params = {
            "session_token": session_token,
            "project_id": project_id,
            "body": write.body,
            "fallback_write_id": write.fallback_write_id,
        }
        problem, outcome, revision, body = self._admitted_row(Scope.WRITE, PUT_PROJECT, params)
        if problem is None and outcome is None:
            # ON CONFLICT met a first write committed after this statement's snapshot, which the
            # locking read cannot see; a new statement sees it (409 or replay). Rare: two first writes.
            problem, outcome, revision, body = self._admitted_row(Scope.WRITE, PUT_PROJECT, params)
        if problem is not None:
            raise InvalidField(problem)
        if outcome == "conflict":
            raise RevisionConflict(body)
        if outcome is None:
            raise DatabaseUnavailable("the write raced another; retry it", retry_after_seconds=1)
        return ProjectDocument(revision, body)

    def delete_project(
        self, session_token: str, project_id: uuid.UUID, *, base_revision: int | None
    ) -> ProjectDocument:
        outcome, revision, body = self._admitted_row(
            Scope.WRITE,
            DELETE_PROJECT,
            {"session_token": session_token, "project_id": project_id, "base_revision": base_revision},
        )
        if outcome is None:
            raise ProjectNotFound(f"no project {project_id} in this account")
        if outcome == "conflict":
            raise RevisionConflict(body)
        return ProjectDocument(revision, body)

    def report_body_too_large(self, session_token: str) -> None:
        """A refused oversized body is refused as unauthenticated first, then becomes a limit event for its
        user (this path only: one round trip)."""
        (user_id,) = self._database.fetch_row(WHO_IS_ASKING, {"session_token": session_token})
        if user_id is None:
            raise Unauthenticated(SESSION_ENDED)
        self._hooks.publish(LimitEvent(LimitEventKind.BODY_TOO_LARGE, user_id, Scope.WRITE))

    def _admitted_row(self, scope: Scope, sql: str, params: dict) -> tuple:
        """Run a statement under the limiter; the row's own columns, once the user is known and admitted."""
        user_id, admitted, tokens_left, wait_seconds, blocked, *row = self._database.fetch_row(
            sql, {**params, **limit_parameters(self._limits, scope)}
        )
        if user_id is None:
            raise Unauthenticated(SESSION_ENDED)
        if not admitted:
            self._hooks.publish(LimitEvent(LimitEventKind.THROTTLED, user_id, scope))
            reason = "writes are blocked for repeated throttling" if blocked else f"over the {scope} rate limit"
            # No wait known: the bucket row was created by a request this statement could not see.
            wait = wait_seconds if wait_seconds is not None else 1 / self._limits.bucket(scope).per_second
            raise RateLimited(reason, retry_after_seconds=retry_after_seconds(wait))
        if tokens_left is not None and self._limits.crossed_soft_threshold(scope, tokens_left):
            self._hooks.publish(LimitEvent(LimitEventKind.BURST, user_id, scope))
        return tuple(row)
