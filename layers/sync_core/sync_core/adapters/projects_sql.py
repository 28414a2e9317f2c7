"""The projects store on Postgres: each method is one SQL statement, so one round trip.

Each statement checks the Better Auth session itself (the `viewer` CTE), takes the limiter's token
(`admission`), and only then reads the body (`parsed_body`), scopes every row to that user, applies the
revision rule, and builds the response JSON in Postgres so that `data` is never decoded into Python
objects. No statement raises on what a client sent: a refused request still spends its token. The
revision rule and the body's rules live here and nowhere else.
"""

import uuid
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger

from sync_core.adapters.postgres import Database
from sync_core.domain.errors import (
    InvalidField,
    InvalidRequest,
    ProjectNotFound,
    RateLimited,
    RevisionConflict,
    Unauthenticated,
    WriteRaced,
)
from sync_core.domain.limits import LimitEvent, LimitEventKind, LimitHooks, RateLimits, Scope, retry_after_seconds
from sync_core.domain.projects import CachedRevisions, NotModified, ProjectDeletion, ProjectDocument, ProjectWrite

logger = Logger(service="appframes-sync", child=True)


class WriteOutcome(StrEnum):
    """What PUT's statement did, in its `outcome` column."""

    WRITTEN = "written"
    REPLAYED = "replayed"  # the same writeId was applied before: its receipt again
    CONFLICT = "conflict"
    # ON CONFLICT met a first write committed after this statement's snapshot, which the locking read
    # cannot see; a new statement sees it (409 or replay). Rare: two first writes.
    RACED = "raced"


class DeleteOutcome(StrEnum):
    """What DELETE's statement did, in its `outcome` column."""

    TOMBSTONED = "tombstoned"
    CONFLICT = "conflict"
    NOT_FOUND = "not_found"


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


def _current_unless(change: str, accepted: str) -> str:
    """The project as it now is, read only when the request was `accepted` and `change` changed nothing.

    A locking read returns the latest committed version of a row the snapshot saw, even when a
    concurrent write updated it since, so a conflict reports the copy that won. A row first inserted
    after the snapshot stays invisible: `put_project` reruns the statement for that case.
    """
    return f"""current AS (
    SELECT project.*
    FROM public.projects AS project, viewer
    WHERE NOT EXISTS (SELECT FROM {change}) AND EXISTS (SELECT FROM {accepted})
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

# The body, read once the session and the limiter said yes. It enters as a bytea parameter of a
# MATERIALIZED CTE that has a row only for an admitted viewer: the planner, which folds a cast of a
# parameter into a constant while planning (before any admission ran), gets no jsonb to fold, and the
# parse function runs for admitted requests only. It never raises (migrations/20261202_01_...), so a
# refused body leaves the token spent; `problem` says why in our words, `refusal` in Postgres' own.
PARSED_BODY = """
admitted_body AS MATERIALIZED (
    SELECT %(body)s::bytea AS sent
    FROM viewer, limit_check
    WHERE limit_check.admitted
),
parsed_body AS MATERIALIZED (
    SELECT parsed.document, parsed.data, parsed.problem, parsed.refusal
    FROM admitted_body, public.parse_request_body(admitted_body.sent) AS parsed
)"""


def _base_revision(document: str) -> str:
    """`baseRevision` as a bigint when it is a whole number from 0 to 2^63-1 with no fractional digits
    (jsonb reads 1e2 as 100 and keeps 1.0 as 1.0), else NULL. PUT and DELETE both read it this way.
    CASE keeps the casts behind the checks; AND would not promise an order."""
    text = f"({document} ->> 'baseRevision')"
    return f"""CASE
        WHEN jsonb_typeof({document} -> 'baseRevision') IS DISTINCT FROM 'number' THEN NULL
        WHEN {text} !~ '^[0-9]{{1,19}}$' THEN NULL
        WHEN {text}::numeric > 9223372036854775807 THEN NULL
        ELSE {text}::bigint
    END"""


BASE_REVISION_PROBLEM = "baseRevision must be a whole number, 0 or more"

# Refusals, in the two kinds the HTTP adapter maps: unreadable (400) and wrong fields (422).
REFUSALS = """
    (SELECT problem FROM parsed_body) AS unreadable,
    (SELECT refusal FROM parsed_body) AS refusal,
    (SELECT field_problem FROM request) AS field_problem"""

# The write reads `data` as the exact text it was sent as (the parse function takes it from a json
# parse of the body): numbers keep their spelling (1e400 stays 1e400) and the stored text can never
# print larger than the body that carried it.
PUT_PROJECT = f"""
WITH {VIEWER}, {ADMISSION}, {PARSED_BODY},
request AS (
    SELECT
        document,
        data,
        CASE
            WHEN problem IS NOT NULL THEN NULL
            WHEN jsonb_typeof(document) IS DISTINCT FROM 'object' THEN 'the body must be a JSON object'
            WHEN jsonb_typeof(document -> 'name') IS DISTINCT FROM 'string' THEN 'name must be a string'
            WHEN length(document ->> 'name') > 1000 THEN 'name must be at most 1000 characters'
            WHEN NOT document ? 'data' THEN 'data is required'
            WHEN {_base_revision("document")} IS NULL THEN '{BASE_REVISION_PROBLEM}'
            WHEN coalesce(jsonb_typeof(document -> 'writeId'), 'null') <> 'null'
                AND NOT (jsonb_typeof(document -> 'writeId') = 'string' AND document ->> 'writeId' ~* {UUID_PATTERN})
                THEN 'writeId must be a UUID'
            WHEN coalesce(jsonb_typeof(document -> 'clientUpdatedAt'), 'null') NOT IN ('null', 'string')
                THEN 'clientUpdatedAt must be a string'
        END AS field_problem,
        problem
    FROM parsed_body
),
write AS (
    SELECT
        document ->> 'name' AS name,
        data,
        {_base_revision("document")} AS base_revision,
        coalesce((document ->> 'writeId')::uuid, %(fallback_write_id)s::uuid) AS write_id
    FROM request
    WHERE problem IS NULL AND field_problem IS NULL
),
-- A new row is always accepted (nothing can be overwritten); an existing one only at its revision,
-- and never twice for the same writeId. ON CONFLICT also settles two first writes racing.
written AS (
    INSERT INTO public.projects AS project ("userId", id, name, data, revision, "writeId")
    SELECT viewer.user_id, %(project_id)s, write.name, write.data, 1, write.write_id
    FROM viewer, write
    ON CONFLICT ("userId", id) DO UPDATE
        SET name = excluded.name, data = excluded.data, revision = project.revision + 1,
            "writeId" = excluded."writeId", "deletedAt" = NULL, "updatedAt" = now()
        WHERE project.revision = (SELECT base_revision FROM write)
          AND project."writeId" IS DISTINCT FROM excluded."writeId"
    RETURNING project.id, project.revision, project."updatedAt"
),
{_current_unless("written", "write")}
SELECT {LIMIT_COLUMNS}, {REFUSALS},
    CASE
        WHEN written.id IS NOT NULL THEN '{WriteOutcome.WRITTEN}'
        WHEN current."writeId" = (SELECT write_id FROM write) THEN '{WriteOutcome.REPLAYED}'
        WHEN current.id IS NOT NULL THEN '{WriteOutcome.CONFLICT}'
        WHEN EXISTS (SELECT FROM write) THEN '{WriteOutcome.RACED}'
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
# revision, so a retried DELETE whose first attempt committed still succeeds. The base revision comes
# from the body or If-Match (parsed by the adapter); when both are given they must agree.
DELETE_PROJECT = f"""
WITH {VIEWER}, {ADMISSION}, {PARSED_BODY},
request AS (
    SELECT
        CASE
            WHEN problem IS NOT NULL OR document IS NULL THEN NULL
            WHEN jsonb_typeof(document) <> 'object' THEN 'the body must be a JSON object'
            WHEN coalesce(jsonb_typeof(document -> 'baseRevision'), 'null') <> 'null'
                AND {_base_revision("document")} IS NULL THEN '{BASE_REVISION_PROBLEM}'
        END AS field_problem,
        problem,
        CASE WHEN jsonb_typeof(document) = 'object' THEN {_base_revision("document")} END AS from_body
    FROM parsed_body
),
deletion AS (
    SELECT
        coalesce(from_body, %(if_match_revision)s::bigint) AS base_revision,
        from_body <> %(if_match_revision)s::bigint AS disagreeing
    FROM request
    WHERE problem IS NULL AND field_problem IS NULL
),
tombstoned AS (
    UPDATE public.projects AS project
    SET "deletedAt" = now(), "updatedAt" = now(), revision = project.revision + 1, "writeId" = NULL
    FROM viewer, deletion
    -- Uncorrelated, so a one-time filter: no project is scanned for a request not admitted.
    WHERE EXISTS (SELECT FROM deletion WHERE disagreeing IS NOT TRUE)
      AND project."userId" = viewer.user_id AND project.id = %(project_id)s
      AND deletion.disagreeing IS NOT TRUE AND project."deletedAt" IS NULL
      AND (deletion.base_revision IS NULL OR project.revision = deletion.base_revision)
    RETURNING project.*
),
{_current_unless("tombstoned", "deletion WHERE disagreeing IS NOT TRUE")}
SELECT {LIMIT_COLUMNS}, {REFUSALS},
    CASE WHEN (SELECT disagreeing FROM deletion) THEN 'baseRevision in the body and If-Match disagree' END
        AS disagreement,
    CASE
        WHEN tombstoned.id IS NOT NULL OR current."deletedAt" IS NOT NULL THEN '{DeleteOutcome.TOMBSTONED}'
        WHEN current.id IS NOT NULL THEN '{DeleteOutcome.CONFLICT}'
        WHEN EXISTS (SELECT FROM deletion WHERE disagreeing IS NOT TRUE) THEN '{DeleteOutcome.NOT_FOUND}'
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

# Session and limiter alone, for a request refused before its body could be sent (too large): it is
# answered 401 or 429 like any other, and spends its token.
ADMIT = f"WITH {VIEWER}, {ADMISSION} SELECT {LIMIT_COLUMNS}"

SESSION_ENDED = "the session has expired, was signed out, or its user is banned"


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
        row = self._admitted_row(
            Scope.READ, LIST_PROJECTS, {"session_token": session_token, "include_deleted": include_deleted}
        )
        return row["projects"]

    def get_project(
        self, session_token: str, project_id: uuid.UUID, cached: CachedRevisions
    ) -> ProjectDocument | NotModified:
        row = self._admitted_row(
            Scope.READ,
            GET_PROJECT,
            {
                "session_token": session_token,
                "project_id": project_id,
                "any_revision": cached.any_revision,
                "cached_revisions": sorted(cached.revisions),
            },
        )
        if row["revision"] is None:
            raise ProjectNotFound(f"no project {project_id} in this account")
        if row["document"] is None:
            return NotModified(row["revision"])
        return ProjectDocument(row["revision"], row["document"])

    def put_project(self, session_token: str, project_id: uuid.UUID, write: ProjectWrite) -> ProjectDocument:
        params = {
            "session_token": session_token,
            "project_id": project_id,
            "body": write.body,
            "fallback_write_id": write.fallback_write_id,
        }
        row = self._admitted_row(Scope.WRITE, PUT_PROJECT, params)
        if row["outcome"] == WriteOutcome.RACED:
            row = self._admitted_row(Scope.WRITE, PUT_PROJECT, params)
        _refuse_unless_readable(row)
        outcome = WriteOutcome(row["outcome"])
        if outcome is WriteOutcome.CONFLICT:
            raise RevisionConflict(row["body"])
        if outcome is WriteOutcome.RACED:
            raise WriteRaced("the write raced another first write of this project; retry it", retry_after_seconds=1)
        return ProjectDocument(row["revision"], row["body"])

    def delete_project(self, session_token: str, project_id: uuid.UUID, deletion: ProjectDeletion) -> ProjectDocument:
        params = {
            "session_token": session_token,
            "project_id": project_id,
            "body": deletion.body,
            "if_match_revision": deletion.if_match_revision,
        }
        row = self._admitted_row(Scope.WRITE, DELETE_PROJECT, params)
        _refuse_unless_readable(row)
        if row["disagreement"] is not None:
            raise InvalidRequest(row["disagreement"])
        outcome = DeleteOutcome(row["outcome"])
        if outcome is DeleteOutcome.NOT_FOUND:
            raise ProjectNotFound(f"no project {project_id} in this account")
        if outcome is DeleteOutcome.CONFLICT:
            raise RevisionConflict(row["body"])
        return ProjectDocument(row["revision"], row["body"])

    def report_body_too_large(self, session_token: str) -> None:
        """An oversized body, refused unread: admitted like any write (401 or 429 first, the token spent),
        then a limit event for its user."""
        row = self._admitted_row(Scope.WRITE, ADMIT, {"session_token": session_token})
        self._hooks.publish(LimitEvent(LimitEventKind.BODY_TOO_LARGE, row["user_id"], Scope.WRITE))

    def _admitted_row(self, scope: Scope, sql: str, params: dict) -> dict[str, Any]:
        """Run a statement under the limiter; its row, once the user is known and admitted."""
        row = self._database.fetch_row(sql, {**params, **limit_parameters(self._limits, scope)})
        if row["user_id"] is None:
            raise Unauthenticated(SESSION_ENDED)
        if not row["admitted"]:
            self._hooks.publish(LimitEvent(LimitEventKind.THROTTLED, row["user_id"], scope))
            reason = "writes are blocked for repeated throttling" if row["blocked"] else f"over the {scope} rate limit"
            # No wait known: the bucket row was created by a request this statement could not see.
            wait = row["wait_seconds"]
            wait = wait if wait is not None else 1 / self._limits.bucket(scope).per_second
            raise RateLimited(reason, retry_after_seconds=retry_after_seconds(wait))
        tokens_left = row["tokens_left"]
        if tokens_left is not None and self._limits.crossed_soft_threshold(scope, tokens_left):
            self._hooks.publish(LimitEvent(LimitEventKind.BURST, row["user_id"], scope))
        return row


def _refuse_unless_readable(row: dict[str, Any]) -> None:
    """Raise when the body is unreadable (400) or its fields are wrong (422)."""
    if row["unreadable"] is not None:
        logger.info("request body refused", extra={"problem": row["unreadable"], "postgres": row["refusal"]})
        raise InvalidRequest(row["unreadable"])
    if row["field_problem"] is not None:
        raise InvalidField(row["field_problem"])
