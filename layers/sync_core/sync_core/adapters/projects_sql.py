"""The projects store on Postgres: each method is one SQL statement, so one round trip.

Each project's revisions, data and all, live in project_revisions, appended once by the write that
makes each (migrations/20261203_01_...); a projects row holds what a write changes in place. The newest
revision of a project is always its current one.

Each statement checks the Better Auth session itself (the `viewer` CTE), takes the limiter's token
(`admission`), and only then reads the body (`parsed_body`), scopes every row to that user, applies the
revision rule, and builds the response JSON in Postgres so that `data` is never decoded into Python
objects. No statement raises on what a client sent: a refused request still spends its token. The
revision rule lives here and nowhere else; the rules of a write's fields live in the SQL functions of
migrations/20261202_07_create-statement-functions.sql, which every write's statement calls.

Each statement is composed here from the pieces they share; `make statements` writes each, as sent,
to layers/sync_core/statements/<name>.sql, where it reads top to bottom (a test keeps them equal). PUT's
runs as a function's body (`PUT_PROJECT_QUERY`, migrations/20261207_30_...), so Postgres plans it once per
connection: the store sends its call.
"""

import re
import uuid
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger

from sync_core.adapters.postgres import Database
from sync_core.domain.changes import FEED_START, LAST_ID, PAGE_BYTES, ChangesPage, FeedCursor, FeedPosition, next_cursor
from sync_core.domain.errors import (
    CursorExpired,
    InvalidField,
    InvalidRequest,
    ProjectNotFound,
    QuotaExceeded,
    RateLimited,
    RevisionConflict,
    RevisionNotFound,
    Unauthenticated,
    WriteRaced,
)
from sync_core.domain.limits import (
    LimitEvent,
    LimitEventKind,
    LimitHooks,
    RateLimits,
    Scope,
    StorageQuota,
    retry_after_seconds,
)
from sync_core.domain.projects import (
    CANONICAL_SPELLING,
    MAX_CHANGES,
    CachedRevisions,
    ChangeBatch,
    NotModified,
    ProjectDeletion,
    ProjectDocument,
    ProjectWrite,
)
from sync_core.domain.write_body import find_data_span

logger = Logger(service="appframes-sync", child=True)


class WriteOutcome(StrEnum):
    """What PUT's statement did, in its `outcome` column."""

    WRITTEN = "written"
    REPLAYED = "replayed"  # the same writeId was applied before: its receipt again
    CONFLICT = "conflict"
    # A write committed after this statement's snapshot took the revision (ON CONFLICT), and the locking
    # read cannot see a row first inserted since; a new statement sees it (409 or replay). Rare: two
    # writes of one project at once.
    RACED = "raced"
    OVER_QUOTA = "over_quota"  # the user's storage quota refuses it (403)
    # Not written, and Postgres refused the data sent apart: not JSON, or not data's whole value (the
    # handler's span reaches past it when a nested member follows data). The store runs the statement
    # again with the body whole, whose reading answers (migrations/20261207_10_...).
    REREAD = "reread"


class ChangeOutcome(StrEnum):
    """What POST /api/changes' statement did with each change, in its `outcomes` column."""

    WRITTEN = "written"
    REPLAYED = "replayed"
    CONFLICT = "conflict"
    RACED = "raced"  # as PUT's: the store reruns the statement for these changes
    TOMBSTONED = "tombstoned"
    NOT_FOUND = "not_found"
    REFUSED = "refused"  # its fields are wrong (422)
    OVER_QUOTA = "over_quota"  # the user's storage quota refuses it (403)


class DeleteOutcome(StrEnum):
    """What DELETE's statement did, in its `outcome` column."""

    TOMBSTONED = "tombstoned"
    CONFLICT = "conflict"
    NOT_FOUND = "not_found"


# The pieces every statement starts with. Each renders as SQL that reads top to bottom in the
# statement's file (statements/<name>.sql); comments that explain the SQL are SQL comments there.

VIEWER = """
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
)"""


ADMISSION = """
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
)"""

# Every statement answers these first, from its one limit_check row: who is asking (user_id), and
# whether the limiter admitted them (admitted, tokens_left, wait_seconds, blocked).
LIMIT_COLUMNS = """
    limit_check.*"""
ADMITTED = "(SELECT admitted FROM limit_check)"


def _with(*ctes: str) -> str:
    return "WITH\n" + ",\n".join(cte.strip("\n") for cte in ctes)


def _time(column: str) -> str:
    """A timestamp as JavaScript's Date.toISOString() writes it (migrations/20261202_07_...)."""
    return f"public.to_iso_string({column})"


# The JSON objects below are written where a statement's columns are (8 spaces in), so they continue at 12.
def _summary(alias: str) -> str:
    return f"""json_build_object(
            'id', {alias}.id, 'name', {alias}.name, 'revision', {alias}.revision,
            'updatedAt', {_time(f'{alias}."updatedAt"')},
            'deletedAt', {_time(f'{alias}."deletedAt"')})"""


def _document(alias: str, data: str | None = None) -> str:
    """A project as GET shows it; `data` is where its data is read from (a revision's, by default alias.data)."""
    return f"""json_build_object(
            'id', {alias}.id, 'name', {alias}.name, 'data', {data or f"{alias}.data"}, 'revision', {alias}.revision,
            'updatedAt', {_time(f'{alias}."updatedAt"')},
            'deletedAt', {_time(f'{alias}."deletedAt"')})"""


def _change(alias: str) -> str:
    """A project as the changes feed shows it: a tombstone carries no data."""
    return f"""json_build_object(
            'id', {alias}.id, 'name', {alias}.name,
            'data', CASE WHEN {alias}."deletedAt" IS NULL THEN {alias}.data END, 'revision', {alias}.revision,
            'updatedAt', {_time(f'{alias}."updatedAt"')},
            'deletedAt', {_time(f'{alias}."deletedAt"')})"""


def _write_receipt(alias: str) -> str:
    return f"""json_build_object(
            'id', {alias}.id, 'revision', {alias}.revision, 'updatedAt', {_time(f'{alias}."updatedAt"')})"""


def _server_data(alias: str) -> str:
    """The data of `alias`'s revision, for a 409: `alias` is a row a locking read returned, the latest
    version, which may have been committed after the statement's snapshot. So its revision is read by a
    volatile function, with a snapshot of its own (migrations/20261203_01_...), and only for a conflict."""
    return f"""public.project_revision_data({alias}."userId", {alias}.id, {alias}.revision)"""


def _current_unless(change: str, accepted: str) -> str:
    """The project as it now is, read only when the request was `accepted` and `change` changed nothing."""
    return f"""
-- The project as it now is, read only when the request was accepted and changed nothing. A locking
-- read returns the latest committed version of a row the snapshot saw, even when a concurrent write
-- updated it since, so a conflict reports the copy that won. A row first inserted after the snapshot
-- stays invisible (PUT's outcome 'raced': the store reruns the statement).
current AS (
    SELECT project.*
    FROM public.projects AS project, viewer
    WHERE NOT EXISTS (SELECT FROM {change}) AND EXISTS (SELECT FROM {accepted})
      AND project."userId" = viewer.user_id AND project.id = %(project_id)s
    FOR SHARE OF project
)"""


LIST_PROJECTS = f"""{_with(VIEWER, ADMISSION)}
SELECT{LIMIT_COLUMNS},
    (
        SELECT coalesce(json_agg({_summary("project")} ORDER BY project."updatedAt" DESC, project.id), '[]')
        FROM public.projects AS project
        JOIN viewer ON project."userId" = viewer.user_id
        WHERE {ADMITTED} AND (%(include_deleted)s OR project."deletedAt" IS NULL)
    ) AS projects
FROM limit_check
"""


# The revision reads below scan project_revisions inside a LATERAL subquery that a LIMIT or an aggregate
# keeps whole: the planner cannot start from the table (a small one is cheaper to scan than to join to),
# so the scan runs once per viewer, and never for a request without a session or not admitted.
# The document comes in three columns, its fields before data, data as stored, and its fields after
# data, which the store joins (_document_bytes) into what _document would build: Postgres sends the
# stored bytes as they are instead of copying a megabyte into a new json value (~8% of a 1 MiB GET's
# Postgres CPU, more than its session and limiter).
def _one_revision(which: str) -> str:
    """One kept revision of the viewer's project as GET answers it: `which` ends the WHERE of the scan."""
    modified = "NOT (%(any_revision)s OR found.revision = ANY (%(cached_revisions)s::bigint[]))"
    return f"""{_with(VIEWER, ADMISSION)}
SELECT{LIMIT_COLUMNS},
    found.revision,
    CASE WHEN {modified} THEN json_build_object('id', found.id, 'name', found.name) END AS before_data,
    CASE WHEN {modified} THEN found.data END AS data,
    CASE WHEN {modified} THEN json_build_object(
            'revision', found.revision,
            'updatedAt', {_time('found."updatedAt"')},
            'deletedAt', {_time('found."deletedAt"')}) END AS after_data
FROM limit_check
LEFT JOIN (
    SELECT kept.*
    FROM viewer, LATERAL (
        SELECT *
        FROM public.project_revisions AS kept
        WHERE kept."userId" = viewer.user_id AND kept.id = %(project_id)s{which}
        LIMIT 1
    ) AS kept
    WHERE {ADMITTED}
) AS found ON true
"""


def _document_bytes(row: dict[str, Any]) -> bytes:
    """A revision read by _one_revision as one document, byte for byte what _document's json_build_object
    writes: {"id" : ..., "name" : ..., "data" : ..., "revision" : ..., ...}."""
    data = b"null" if row["data"] is None else row["data"]
    return b"".join((row["before_data"][:-1], b', "data" : ', data, b", ", row["after_data"][1:]))


# A project is its newest revision: one backward step of project_revisions' primary key.
GET_PROJECT = _one_revision("\n        ORDER BY kept.revision DESC")

# The cursor's place, (after_xid, after_id), is exclusive: the page starts after it.
FEED_AFTER = """(project."changeXid", project.id) > (%(after_xid)s::xid8, %(after_id)s::uuid)"""

FEED_PAGE = f"""
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
          AND (%(after_xid)s::xid8, %(after_id)s::uuid) < (horizon."purgedThrough", '{LAST_ID}'::uuid)
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
          AND {ADMITTED} AND NOT (SELECT expired FROM expiry)
          AND project."changeXid" < (SELECT stable_below FROM feed_boundary)
          AND {FEED_AFTER}
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
)"""

# One row per change, not one aggregate: Postgres builds and sends a megabyte as one value far slower
# than as a hundred rows. Every row repeats the statement's own columns; an empty page is one row.
LIST_CHANGES = f"""{_with(VIEWER, ADMISSION, FEED_PAGE)}
SELECT{LIMIT_COLUMNS},
    (SELECT expired FROM expiry) AS expired,
    (SELECT count(*) FROM candidates) > (SELECT count(*) FROM page) AS more,
    (SELECT stable_below::text FROM feed_boundary) AS stable_below,
    (SELECT listing_began::text FROM reading) AS listing_began,
    page."changeXid"::text AS change_xid,
    page.id,
    CASE WHEN page.id IS NOT NULL THEN {_change("page")} END AS change
FROM limit_check
LEFT JOIN page ON true
ORDER BY page.place
"""

UUID_PATTERN = "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'"


BYTES_ADMISSION = f"""
-- The body's length, from the write_bytes bucket (its tokens are bytes), once the write bucket admitted.
bytes_admission AS MATERIALIZED (
    SELECT taken.tokens_left
    FROM viewer, public.take_tokens(
        viewer.user_id, '{Scope.WRITE_BYTES}', %(body_bytes)s, %(bytes_burst)s, %(bytes_per_second)s
    ) AS taken
    -- One-time filters (uncorrelated): checked before the call.
    WHERE %(limits_on)s AND {ADMITTED}
),
bytes_check AS (
    SELECT NOT %(limits_on)s OR (SELECT tokens_left FROM bytes_admission) IS NOT NULL AS admitted
)"""

ADMITTED_BODY = f"""{BYTES_ADMISSION},
-- The body, only once the session and the limiter said yes: a bytea parameter of a MATERIALIZED CTE
-- with a row only for an admitted viewer leaves the planner no jsonb cast to fold before admission ran.
-- The parse never raises (migrations/20261202_01_...): a refused body leaves the token spent.
admitted_body AS MATERIALIZED (
    SELECT %(body)s::bytea AS sent
    FROM viewer, limit_check, bytes_check
    WHERE limit_check.admitted AND bytes_check.admitted
)"""


def _parsed_body(parse: str) -> str:
    """The admitted body read by `parse` (a function of the migrations that never raises)."""
    return f"""{ADMITTED_BODY},
-- The body's fields are checked by functions (migrations/20261202_07_...): one copy of each rule.
parsed_body AS MATERIALIZED (
    SELECT
        parsed.document,
        parsed.data,
        parsed.problem,
        parsed.refusal,
        public.base_revision(parsed.document) AS base_revision
    FROM admitted_body, public.{parse}(admitted_body.sent) AS parsed
)"""


def _refusals(fields: str) -> str:
    """A write's refusals: over its byte budget (429), unreadable (400) and wrong fields (422)."""
    return f"""
    (SELECT admitted FROM bytes_check) AS bytes_admitted,
    (SELECT problem FROM parsed_body) AS unreadable,
    (SELECT refusal FROM parsed_body) AS refusal,
    (SELECT field_problem FROM {fields}) AS field_problem"""


PUT_BODY = f"""{BYTES_ADMISSION},
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
)"""

PUT_FIELDS = """
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
)"""


def _written(source: str, where: str = "true") -> str:
    """The upsert of the rows of `source` (id, name, base_revision, write_id, data), a batch's, and the
    revisions it makes."""
    return f"""
-- A new row is always accepted (nothing can be overwritten); an existing one only at its revision,
-- and never twice for the same writeId. ON CONFLICT also settles two first writes racing. The row
-- holds no data (NULL also clears a copy from before project_revisions): its revision does.
written AS (
    INSERT INTO public.projects AS project ("userId", id, name, revision, "writeId")
    SELECT viewer.user_id, {source}.id, {source}.name, 1, {source}.write_id
    FROM viewer, {source}
    WHERE {where}
    -- By id: new projects too are taken in one order (see locked).
    ORDER BY {source}.id
    ON CONFLICT ("userId", id) DO UPDATE
        SET name = excluded.name, data = NULL, revision = project.revision + 1,
            "writeId" = excluded."writeId", "deletedAt" = NULL, "updatedAt" = now(),
            "changeXid" = pg_current_xact_id()
        WHERE project.revision = (SELECT base_revision FROM {source} WHERE {source}.id = excluded.id)
          AND project."writeId" IS DISTINCT FROM excluded."writeId"
    RETURNING project."userId", project.id, project.name, project.revision, project."updatedAt"
),
-- Each written revision appended to its project's history, data as sent: the one write of the data.
-- The revision it replaced is already there, the one before it.
written_revision AS (
    INSERT INTO public.project_revisions ("userId", id, revision, name, data, "updatedAt", bytes)
    SELECT written."userId", written.id, written.revision, written.name,
        {source}.data,
        written."updatedAt", octet_length({source}.data::text)
    FROM written
    JOIN {source} ON {source}.id = written.id
)"""


def _quota(source: str, where: str = "true") -> str:
    """Each write of `source` (a batch's) the user's storage quota refuses, and why
    (migrations/20261205_01_...), by the length of source.data in bytes."""
    sizes = f"octet_length({source}.data::text)::bigint"
    return f"""
-- The storage quota: the user's usage row, locked (writes of one user queue here), judges each write.
quota AS MATERIALIZED (
    SELECT judged.position, judged.over_quota
    FROM (
        SELECT array_agg({source}.position ORDER BY {source}.position) AS positions,
            public.storage_quota_refusals(
                viewer.user_id, array_agg({source}.id ORDER BY {source}.position),
                array_agg({sizes} ORDER BY {source}.position),
                array_agg({source}.base_revision ORDER BY {source}.position),
                array_agg({source}.write_id ORDER BY {source}.position), %(quota_bytes)s, %(quota_projects)s
            ) AS refusals
        FROM viewer, {source}
        WHERE {where}
        GROUP BY viewer.user_id
    ) AS batch, unnest(batch.positions, batch.refusals) AS judged (position, over_quota)
)"""


# PUT's one write, judged by the single-write function (migrations/20261206_30_...), the same judgment
# without the batch's arrays and loop.
PUT_QUOTA = """
-- The storage quota: the user's usage row, locked (writes of one user queue here), judges the write.
quota AS MATERIALIZED (
    SELECT write.position, public.storage_quota_refusal(
            viewer.user_id, write.id, write.bytes, write.base_revision, write.write_id,
            %(quota_bytes)s, %(quota_projects)s
        ) AS over_quota
    FROM viewer, write
)"""


UNREFUSED = "position NOT IN (SELECT position FROM quota WHERE over_quota IS NOT NULL)"


# PUT's write, revision first (migrations/20261207_10_...): data is cast once, where its revision stores
# it, and a data Postgres refuses is stored nowhere, since the projects row follows its revision.
PUT_WRITTEN = f"""
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
    WHERE write.{UNREFUSED} AND sent.data IS NOT NULL
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
)
"""


def _usage_lock(admitted: str) -> str:
    """The user's usage row, locked before any project row (a tombstone's trigger changes it after),
    once `admitted` (a row of what the request's admission let through) exists."""
    return f"""
usage_lock AS MATERIALIZED (
    SELECT public.lock_storage_usage(viewer.user_id) FROM viewer, {admitted}
)"""


HOLDING_USAGE = "EXISTS (SELECT FROM usage_lock)"


# A tombstone's columns, set by DELETE and by a batch's deleting changes.
TOMBSTONE = """"deletedAt" = now(), "updatedAt" = now(), revision = project.revision + 1, "writeId" = NULL,
        data = NULL, "changeXid" = pg_current_xact_id()"""

# A tombstone's revision, appended to its project's history: no data (the revision before it has it).
TOMBSTONE_REVISION = """
tombstone_revision AS (
    INSERT INTO public.project_revisions ("userId", id, revision, name, data, "deletedAt", "updatedAt", bytes)
    SELECT "userId", id, revision, name, NULL, "deletedAt", "updatedAt", 0
    FROM tombstoned
)"""


# PUT's query: the body of public.put_project_v1 (migrations/20261207_30_...), which shows it whole with each
# parameter as the function's (put_project_v1.name); a unit test keeps the two equal. A change to it, or to a
# piece it shares, is a new function in a new migration.
PUT_PROJECT_QUERY = f"""{
    _with(
        VIEWER,
        ADMISSION,
        PUT_BODY,
        PUT_FIELDS,
        PUT_QUOTA,
        PUT_WRITTEN,
        _current_unless("written", "write"),
    )
}
SELECT{LIMIT_COLUMNS},{_refusals("put_fields")},
    (SELECT over_quota FROM quota) AS over_quota,
    CASE
        WHEN written.id IS NOT NULL THEN '{WriteOutcome.WRITTEN}'
        -- Whatever else was judged, it was judged from fields that hold only if the data sent apart is
        -- data's whole value: when Postgres refuses it, the body is read whole.
        WHEN %(data_bytes)s::int IS NOT NULL AND EXISTS (SELECT FROM parsed_body)
            AND public.write_data_or_null(%(data)s::bytea) IS NULL THEN '{WriteOutcome.REREAD}'
        WHEN (SELECT over_quota FROM quota) IS NOT NULL THEN '{WriteOutcome.OVER_QUOTA}'
        WHEN current."writeId" = (SELECT write_id FROM write) THEN '{WriteOutcome.REPLAYED}'
        WHEN current.id IS NOT NULL AND current.revision <> (SELECT base_revision FROM write)
            THEN '{WriteOutcome.CONFLICT}'
        -- Allowed, yet not written: a write that committed since the snapshot took the revision.
        WHEN EXISTS (SELECT FROM write) THEN '{WriteOutcome.RACED}'
    END AS outcome,
    coalesce(written.revision, current.revision) AS revision,
    CASE
        WHEN written.id IS NOT NULL THEN {_write_receipt("written")}
        WHEN current."writeId" = (SELECT write_id FROM write) THEN {_write_receipt("current")}
        WHEN current.id IS NOT NULL
            THEN json_build_object('server', {_document("current", _server_data("current"))})
    END AS body
FROM limit_check
LEFT JOIN written ON true
LEFT JOIN current ON true
"""

PUT_PROJECT_FUNCTION = "put_project_v1"


def _call(function: str, query: str) -> str:
    """`query` run as the body of `function`, each of its parameters passed by name: Postgres plans a function's
    statement once per connection and reuses the plan (a statement sent as text is planned on every call, and
    prepared statements would pin RDS Proxy's connections)."""
    names = dict.fromkeys(re.findall(r"%\((\w+)\)s", query))
    arguments = ",\n    ".join(f"{name} => %({name})s" for name in names)
    return f"SELECT * FROM public.{function}(\n    {arguments}\n)"


PUT_PROJECT = _call(PUT_PROJECT_FUNCTION, PUT_PROJECT_QUERY)

DELETE_FIELDS = """
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
)"""

DELETE_PROJECT = f"""{
    _with(
        VIEWER,
        ADMISSION,
        _parsed_body("parse_request_body"),
        DELETE_FIELDS,
        _usage_lock("deletion WHERE deletion.disagreeing IS NOT TRUE"),
        f'''
-- Deleting makes a tombstone. A tombstone deleted again is returned unchanged, whatever the base
-- revision, so a retried DELETE whose first attempt committed still succeeds.
tombstoned AS (
    UPDATE public.projects AS project
    SET {TOMBSTONE}
    FROM viewer, deletion
    -- Uncorrelated, so a one-time filter: no project is scanned for a request not admitted.
    WHERE EXISTS (SELECT FROM deletion WHERE disagreeing IS NOT TRUE) AND {HOLDING_USAGE}
      AND project."userId" = viewer.user_id AND project.id = %(project_id)s
      AND deletion.disagreeing IS NOT TRUE AND project."deletedAt" IS NULL
      AND (deletion.base_revision IS NULL OR project.revision = deletion.base_revision)
    RETURNING project.*
),{TOMBSTONE_REVISION}''',
        _current_unless("tombstoned", "deletion WHERE disagreeing IS NOT TRUE"),
    )
}
SELECT{LIMIT_COLUMNS},{_refusals("delete_fields")},
    CASE WHEN (SELECT disagreeing FROM deletion) THEN 'baseRevision in the body and If-Match disagree' END
        AS disagreement,
    CASE
        WHEN tombstoned.id IS NOT NULL OR current."deletedAt" IS NOT NULL THEN '{DeleteOutcome.TOMBSTONED}'
        WHEN current.id IS NOT NULL THEN '{DeleteOutcome.CONFLICT}'
        WHEN EXISTS (SELECT FROM deletion WHERE disagreeing IS NOT TRUE) THEN '{DeleteOutcome.NOT_FOUND}'
    END AS outcome,
    coalesce(tombstoned.revision, current.revision) AS revision,
    CASE
        WHEN tombstoned.id IS NOT NULL THEN {_summary("tombstoned")}
        WHEN current."deletedAt" IS NOT NULL THEN {_summary("current")}
        WHEN current.id IS NOT NULL
            THEN json_build_object('server', {_document("current", _server_data("current"))})
    END AS body
FROM limit_check
LEFT JOIN tombstoned ON true
LEFT JOIN current ON true
"""

CHANGES_BODY = f"""{ADMITTED_BODY},
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
            WHEN jsonb_array_length(document -> 'changes') > {MAX_CHANGES}
                THEN 'changes holds ' || jsonb_array_length(document -> 'changes')
                    || ' items; a batch holds at most {MAX_CHANGES}'
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
            THEN public.spend_admitted_tokens(viewer.user_id, '{Scope.WRITE}', batch.cost - 1) END
    ) AS charge (tokens_left)
    WHERE changes_fields.problem IS NULL AND changes_fields.field_problem IS NULL
),
-- Each change's fields, by PUT's rules or DELETE's (a rerun reads only those in positions).
checked_change AS (
    SELECT
        change.*,
        CASE
            WHEN jsonb_typeof(document) IS DISTINCT FROM 'object' THEN 'each change must be a JSON object'
            WHEN jsonb_typeof(document -> 'id') IS DISTINCT FROM 'string' OR (document ->> 'id') !~ {UUID_PATTERN}
                THEN 'id must be a UUID in its canonical spelling: {CANONICAL_SPELLING}'
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
)"""


LOCKED = f"""
-- Every project the batch names, locked in id order before any is written: two batches of the same
-- projects in other orders queue, never deadlock. A locking read gives the latest committed version (a
-- conflict's winning copy); a first write committed after the snapshot stays unseen ('raced').
locked AS MATERIALIZED (
    SELECT project.*
    FROM public.projects AS project, viewer
    WHERE {HOLDING_USAGE} AND project."userId" = viewer.user_id AND project.id IN (SELECT id FROM valid_change)
    ORDER BY project.id
    FOR NO KEY UPDATE OF project
)"""

# Written and tombstoned start once locked has run whole: an uncorrelated subquery is a one-time
# filter, evaluated before the first row is read.
AFTER_LOCKING = "(SELECT count(*) FROM locked) >= 0"

PUSH_CHANGES = f"""{
    _with(
        VIEWER,
        ADMISSION,
        CHANGES_BODY,
        _usage_lock("batch_charge WHERE batch_charge.paid"),
        LOCKED,
        _quota("valid_change", f"NOT valid_change.deleting AND {AFTER_LOCKING}"),
        _written("valid_change", f"NOT valid_change.deleting AND {AFTER_LOCKING} AND valid_change.{UNREFUSED}"),
        f'''
-- As DELETE's: a tombstone deleted again is returned unchanged, whatever the base revision.
tombstoned AS (
    UPDATE public.projects AS project
    SET {TOMBSTONE}
    FROM viewer, valid_change AS deletion
    WHERE {AFTER_LOCKING} AND deletion.deleting
      AND project."userId" = viewer.user_id AND project.id = deletion.id AND project."deletedAt" IS NULL
      AND (deletion.base_revision IS NULL OR project.revision = deletion.base_revision)
    RETURNING project."userId", project.id, project.name, project.revision, project."deletedAt", project."updatedAt"
),{TOMBSTONE_REVISION},
-- Each change's outcome, and its answer as its own PUT or DELETE would answer it.
answered AS (
    SELECT checked.position, judged.outcome, CASE judged.outcome
            WHEN '{ChangeOutcome.RACED}' THEN NULL
            WHEN '{ChangeOutcome.CONFLICT}' THEN json_build_object(
                'id', valid.id, 'status', 409, 'server', {_document("locked", _server_data("locked"))})
            WHEN '{ChangeOutcome.NOT_FOUND}' THEN json_build_object(
                'id', valid.id, 'status', 404, 'error', json_build_object(
                    'code', '{ProjectNotFound.code}', 'message', 'no project ' || valid.id || ' in this account'))
            WHEN '{ChangeOutcome.OVER_QUOTA}' THEN json_build_object('id', valid.id, 'status', 403,
                'error', json_build_object('code', '{QuotaExceeded.code}', 'message', quota.over_quota))
            WHEN '{ChangeOutcome.REFUSED}' THEN json_build_object(
                'id', checked.document -> 'id', 'status', 422,
                'error', json_build_object('code', '{InvalidField.code}', 'message', checked.field_problem))
            ELSE json_build_object(
                'id', valid.id, 'status', 200,
                'revision', coalesce(written.revision, tombstoned.revision, locked.revision),
                'updatedAt', {_time('coalesce(written."updatedAt", tombstoned."updatedAt", locked."updatedAt")')})
        END AS result
    FROM checked_change AS checked
    LEFT JOIN valid_change AS valid USING (position)
    LEFT JOIN written ON written.id = valid.id
    LEFT JOIN tombstoned ON tombstoned.id = valid.id
    LEFT JOIN locked ON locked.id = valid.id
    LEFT JOIN quota USING (position),
    LATERAL (SELECT CASE
        WHEN checked.field_problem IS NOT NULL THEN '{ChangeOutcome.REFUSED}'
        WHEN quota.over_quota IS NOT NULL THEN '{ChangeOutcome.OVER_QUOTA}'
        WHEN written.id IS NOT NULL THEN '{ChangeOutcome.WRITTEN}'
        WHEN tombstoned.id IS NOT NULL OR (valid.deleting AND locked."deletedAt" IS NOT NULL)
            THEN '{ChangeOutcome.TOMBSTONED}'
        WHEN locked."writeId" = valid.write_id THEN '{ChangeOutcome.REPLAYED}'
        WHEN locked.id IS NOT NULL THEN '{ChangeOutcome.CONFLICT}'
        WHEN valid.deleting THEN '{ChangeOutcome.NOT_FOUND}'
        ELSE '{ChangeOutcome.RACED}'
    END) AS judged (outcome)
)''',
    )
}
SELECT{LIMIT_COLUMNS},{_refusals("changes_fields")},
    batch_charge.cost AS batch_cost,
    batch_charge.paid AS batch_paid,
    batch_charge.tokens_left AS batch_tokens_left,
    (SELECT array_agg(outcome ORDER BY position) FROM answered) AS outcomes,
    (SELECT array_agg(result ORDER BY position) FROM answered) AS results
FROM limit_check
LEFT JOIN batch_charge ON true
"""

# Session and limiter alone, for a request refused before its body could be sent (too large): it is
# answered 401 or 429 like any other, and spends its token.
ADMIT = f"""{_with(VIEWER, ADMISSION)}
SELECT{LIMIT_COLUMNS}
FROM limit_check
"""

# A project's history: every revision kept, newest first, the current one included, without data.
LIST_REVISIONS = f"""{_with(VIEWER, ADMISSION)}
SELECT{LIMIT_COLUMNS},
    (
        SELECT history.revisions
        FROM viewer, LATERAL (
            SELECT json_agg(json_build_object(
                'revision', kept.revision, 'name', kept.name,
                'updatedAt', {_time('kept."updatedAt"')},
                'deletedAt', {_time('kept."deletedAt"')},
                'bytes', kept.bytes) ORDER BY kept.revision DESC) AS revisions
            FROM public.project_revisions AS kept
            WHERE kept."userId" = viewer.user_id AND kept.id = %(project_id)s
        ) AS history
        WHERE {ADMITTED}
    ) AS revisions
FROM limit_check
"""

# One kept revision, as GET project answers for the current one; a revision never changes, so a client
# holding it (If-None-Match) gets no body.
GET_REVISION = _one_revision(" AND kept.revision = %(revision)s")

# Every statement by the name of its file in statements/, where each reads whole.
STATEMENTS = {
    "list_projects": LIST_PROJECTS,
    "list_changes": LIST_CHANGES,
    "get_project": GET_PROJECT,
    "put_project": PUT_PROJECT,
    "delete_project": DELETE_PROJECT,
    "push_changes": PUSH_CHANGES,
    "list_revisions": LIST_REVISIONS,
    "get_revision": GET_REVISION,
    "admit": ADMIT,
}

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


def body_parameters(limits: RateLimits, body: bytes) -> dict:
    """A write's body, and what the write_bytes bucket needs to charge for it."""
    bucket = limits.bucket(Scope.WRITE_BYTES)
    return {"body": body, "body_bytes": len(body), "bytes_burst": bucket.burst, "bytes_per_second": bucket.per_second}


# What data_span_parameters sends for a body Postgres reads whole, but the body.
WHOLE_BODY = {"fields": None, "data": None, "data_bytes": None}


def data_span_parameters(body: bytes) -> dict:
    """PUT's body for parse_write_fields (migrations/20261207_10_...): data's value apart, and the body with
    null in its place; or the whole body, when data cannot be placed (then Postgres reads it whole)."""
    span = find_data_span(body)
    if span is None:
        return {**WHOLE_BODY, "whole_body": body}
    return {
        "fields": body[: span.start] + b"null" + body[span.end :],
        "data": memoryview(body)[span.start : span.end],
        "data_bytes": span.end - span.start,
        "whole_body": None,
    }


def quota_parameters(quota: StorageQuota) -> dict:
    """What a write's `quota` CTE judges against."""
    return {"quota_bytes": quota.bytes_per_user, "quota_projects": quota.projects_per_user}


class PostgresProjectsStore:
    def __init__(self, database: Database, limits: RateLimits, hooks: LimitHooks, quota: StorageQuota):
        self._database = database
        self._limits = limits
        self._hooks = hooks
        self._quota = quota_parameters(quota)

    def list_projects(self, session_token: str, *, include_deleted: bool) -> bytes:
        row = self._admitted_row(
            Scope.READ, LIST_PROJECTS, {"session_token": session_token, "include_deleted": include_deleted}
        )
        return row["projects"]

    def list_changes(self, session_token: str, since: FeedCursor | None, limit: int) -> ChangesPage:
        after = since.after if since else FEED_START
        params = {
            "session_token": session_token,
            "listing_began": None if since is None else str(since.listing_began),
            "after_xid": str(after.change_xid),
            "after_id": after.project_id,
            "limit": limit,
            "page_bytes": PAGE_BYTES,
        }
        rows = self._admitted_rows(Scope.READ, LIST_CHANGES, params)
        answer = rows[0]
        if answer["expired"]:
            raise CursorExpired(
                "the cursor is older than the deletions kept for this account; list again without since"
            )
        read = [row for row in rows if row["id"] is not None]
        reading = since or FeedCursor(int(answer["listing_began"]), FEED_START)
        last_read = FeedPosition(int(read[-1]["change_xid"]), read[-1]["id"]) if read else None
        cursor = next_cursor(reading, last_read, int(answer["stable_below"]), more=answer["more"])
        return ChangesPage([row["change"] for row in read], cursor, answer["more"])

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
        if row["before_data"] is None:
            return NotModified(row["revision"])
        return ProjectDocument(row["revision"], _document_bytes(row))

    def put_project(self, session_token: str, project_id: uuid.UUID, write: ProjectWrite) -> ProjectDocument:
        params = {
            "session_token": session_token,
            "project_id": project_id,
            **body_parameters(self._limits, write.body),
            **data_span_parameters(write.body),
            **self._quota,
            "fallback_write_id": write.fallback_write_id,
        }
        row = self._admitted_row(Scope.WRITE, PUT_PROJECT, params)
        if row["outcome"] == WriteOutcome.REREAD:
            params |= {**WHOLE_BODY, "whole_body": write.body}
            row = self._admitted_row(Scope.WRITE, PUT_PROJECT, params)
        if row["outcome"] == WriteOutcome.RACED:
            row = self._admitted_row(Scope.WRITE, PUT_PROJECT, params)
        _refuse_unless_readable(row)
        outcome = WriteOutcome(row["outcome"])
        if outcome is WriteOutcome.OVER_QUOTA:
            raise QuotaExceeded(row["over_quota"])
        if outcome is WriteOutcome.CONFLICT:
            raise RevisionConflict(row["body"])
        if outcome is WriteOutcome.RACED:
            raise WriteRaced("the write raced another first write of this project; retry it", retry_after_seconds=1)
        return ProjectDocument(row["revision"], row["body"])

    def delete_project(self, session_token: str, project_id: uuid.UUID, deletion: ProjectDeletion) -> ProjectDocument:
        params = {
            "session_token": session_token,
            "project_id": project_id,
            **body_parameters(self._limits, deletion.body),
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

    def push_changes(self, session_token: str, batch: ChangeBatch) -> bytes:
        """Every change of the batch, each as its own PUT or DELETE; their answers in request order."""
        params = {
            "session_token": session_token,
            **body_parameters(self._limits, batch.body),
            **self._quota,
            "fallback_write_id": batch.fallback_write_id,
            "positions": None,
        }
        row = self._admitted_row(Scope.WRITE, PUSH_CHANGES, params)
        _refuse_unless_readable(row)
        if not row["batch_paid"]:
            self._refuse_unpaid_batch(row)
        self._report_burst(row["user_id"], row["batch_tokens_left"], spent=row["batch_cost"] - 1)
        results = row["results"] or []
        raced = [place for place, outcome in enumerate(row["outcomes"] or [], 1) if outcome == ChangeOutcome.RACED]
        if raced:
            self._rerun_raced(params, raced, results)
        return b'{"results":[' + b",".join(results) + b"]}"

    def _rerun_raced(self, params: dict, raced: list[int], results: list[bytes | None]) -> None:
        """As PUT does: the changes (1-based places) that raced a first write, again; a new statement sees it."""
        rerun = self._admitted_row(Scope.WRITE, PUSH_CHANGES, {**params, "positions": raced})
        if ChangeOutcome.RACED in rerun["outcomes"]:
            raise WriteRaced("a change raced another first write of its project; retry it", retry_after_seconds=1)
        for place, result in zip(raced, rerun["results"], strict=True):
            results[place - 1] = result

    def list_revisions(self, session_token: str, project_id: uuid.UUID) -> bytes:
        row = self._admitted_row(Scope.READ, LIST_REVISIONS, {"session_token": session_token, "project_id": project_id})
        if row["revisions"] is None:
            raise ProjectNotFound(f"no project {project_id} in this account")
        return row["revisions"]

    def get_revision(
        self, session_token: str, project_id: uuid.UUID, revision: int, cached: CachedRevisions
    ) -> ProjectDocument | NotModified:
        params = {
            "session_token": session_token,
            "project_id": project_id,
            "revision": revision,
            "any_revision": cached.any_revision,
            "cached_revisions": sorted(cached.revisions),
        }
        row = self._admitted_row(Scope.READ, GET_REVISION, params)
        if row["revision"] is None:
            raise RevisionNotFound(f"no revision {revision} of project {project_id} is kept in this account")
        if row["before_data"] is None:
            return NotModified(row["revision"])
        return ProjectDocument(row["revision"], _document_bytes(row))

    def report_body_too_large(self, session_token: str) -> None:
        """An oversized body, refused unread: admitted like any write (401 or 429 first, the token spent),
        then a limit event for its user."""
        row = self._admitted_row(Scope.WRITE, ADMIT, {"session_token": session_token})
        self._hooks.publish(LimitEvent(LimitEventKind.BODY_TOO_LARGE, row["user_id"], Scope.WRITE))

    def _refuse_unpaid_batch(self, row: dict[str, Any]) -> None:
        """A batch the write bucket cannot pay for whole: 429, with the wait until it can."""
        self._hooks.publish(LimitEvent(LimitEventKind.THROTTLED, row["user_id"], Scope.WRITE))
        bucket = self._limits.bucket(Scope.WRITE)
        missing = row["batch_cost"] - 1 - row["tokens_left"]
        raise RateLimited(
            f"over the write rate limit: a batch of {row['batch_cost']} changes costs {row['batch_cost']} writes"
            f" (at most {bucket.burst} at once)",
            retry_after_seconds=retry_after_seconds(missing / bucket.per_second),
        )

    def _admitted_row(self, scope: Scope, sql: str, params: dict) -> dict[str, Any]:
        """Run a statement under the limiter; its row, once the user is known and admitted."""
        return self._admitted_rows(scope, sql, params)[0]

    def _admitted_rows(self, scope: Scope, sql: str, params: dict) -> list[dict[str, Any]]:
        """Run a statement under the limiter; its rows (each carrying the limiter's columns), once the user
        is known and admitted."""
        rows = self._database.fetch_rows(sql, {**params, **limit_parameters(self._limits, scope)})
        row = rows[0]
        if row["user_id"] is None:
            raise Unauthenticated(SESSION_ENDED)
        if not row["admitted"]:
            self._hooks.publish(LimitEvent(LimitEventKind.THROTTLED, row["user_id"], scope))
            reason = "writes are blocked for repeated throttling" if row["blocked"] else f"over the {scope} rate limit"
            raise RateLimited(reason, retry_after_seconds=retry_after_seconds(row["wait_seconds"]))
        if row.get("bytes_admitted") is False:
            self._refuse_over_byte_budget(row["user_id"], params["body_bytes"])
        self._report_burst(row["user_id"], row["tokens_left"], scope=scope)
        return rows

    def _report_burst(self, user_id: str, tokens_left: float | None, *, spent: int = 1, scope: Scope = Scope.WRITE):
        """A BURST event when the tokens just `spent` took the bucket below its soft threshold."""
        if tokens_left is not None and self._limits.crossed_soft_threshold(scope, tokens_left, spent=spent):
            self._hooks.publish(LimitEvent(LimitEventKind.BURST, user_id, scope))

    def _refuse_over_byte_budget(self, user_id: str, body_bytes: int) -> None:
        self._hooks.publish(LimitEvent(LimitEventKind.THROTTLED, user_id, Scope.WRITE_BYTES))
        # At most the time the bucket takes to refill this body's bytes from none.
        wait = body_bytes / self._limits.bucket(Scope.WRITE_BYTES).per_second
        raise RateLimited(
            "over the write_bytes rate limit (bytes written a minute)", retry_after_seconds=retry_after_seconds(wait)
        )


def _refuse_unless_readable(row: dict[str, Any]) -> None:
    """Raise when the body is unreadable (400) or its fields are wrong (422)."""
    if row["unreadable"] is not None:
        logger.info("request body refused", extra={"problem": row["unreadable"], "postgres": row["refusal"]})
        raise InvalidRequest(row["unreadable"])
    if row["field_problem"] is not None:
        raise InvalidField(row["field_problem"])
