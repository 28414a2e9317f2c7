"""Projects as the sync API sees them: ids, revisions, tombstones, and the store port.

A request body is never turned into Python objects: it travels as the bytes sent to Postgres, which
parses and checks it once the session and the limiter admitted the request, and stores `data` as the
exact text it was sent as (see adapters/projects_sql.py). Of a PUT's body the handler only finds where
`data` lies (domain/write_body.py), so that Postgres need not parse `data` but once.
"""

import re
import uuid
from dataclasses import dataclass
from typing import Protocol

from sync_core.domain.changes import ChangesPage, FeedCursor
from sync_core.domain.errors import InvalidRequest, PayloadTooLarge

# A revision is a Postgres bigint above 0; a base revision may be 0 (no project yet). The SQL that reads
# baseRevision (adapters/projects_sql.py) is rendered with these too.
MAX_REVISION = 2**63 - 1
REVISION_DIGITS = len(str(MAX_REVISION))
_ENTITY_TAG = re.compile(rf'^\s*(?:W/)?"([0-9]{{1,{REVISION_DIGITS}}})"\s*$')
CANONICAL_SPELLING = "lower-case, hyphenated, ASCII (8-4-4-4-12 hex digits, as crypto.randomUUID() writes it)"
# At most this many changes in one POST /api/changes.
MAX_CHANGES = 100
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# A revision in a path, in its one spelling: no sign, no leading zero, ASCII digits only.
_REVISION = re.compile(rf"[1-9][0-9]{{0,{REVISION_DIGITS - 1}}}")


@dataclass(frozen=True)
class ProjectDocument:
    """A project as the JSON Postgres wrote (bytes, never decoded), with the revision that is its ETag."""

    revision: int
    json_bytes: bytes


@dataclass(frozen=True)
class NotModified:
    revision: int


@dataclass(frozen=True)
class CachedRevisions:
    """The revisions a client already holds (from `If-None-Match`); `*` means any revision."""

    revisions: frozenset[int] = frozenset()
    any_revision: bool = False


@dataclass(frozen=True)
class ProjectWrite:
    """A PUT as received: the body's bytes (parsed and checked by Postgres) and a fallback writeId.

    The fallback writeId is made here, once per request, so that retrying the same statement
    after a lost connection is recognised as the same write rather than a conflict.
    """

    body: bytes
    fallback_write_id: uuid.UUID


@dataclass(frozen=True)
class ProjectDeletion:
    """A DELETE as received: the body's bytes (empty, or JSON with `baseRevision`, read by Postgres) and
    the revision `If-Match` names (None: absent or `*`). With neither, the delete is unconditional."""

    body: bytes
    if_match_revision: int | None


@dataclass(frozen=True)
class ChangeBatch:
    """A POST /api/changes as received: the body's bytes (parsed and checked by Postgres) and the seed of
    each change's fallback writeId, made once per request so that rerunning the statement is a replay."""

    body: bytes
    fallback_write_id: uuid.UUID


class ProjectsStore(Protocol):
    """The port every adapter of the projects table implements. Each call is one round trip."""

    def list_projects(self, session_token: str, *, include_deleted: bool) -> bytes: ...

    def list_changes(self, session_token: str, since: FeedCursor | None, limit: int) -> ChangesPage: ...

    def get_project(
        self, session_token: str, project_id: uuid.UUID, cached: CachedRevisions
    ) -> ProjectDocument | NotModified: ...

    def put_project(self, session_token: str, project_id: uuid.UUID, write: ProjectWrite) -> ProjectDocument: ...

    def delete_project(
        self, session_token: str, project_id: uuid.UUID, deletion: ProjectDeletion
    ) -> ProjectDocument: ...

    def push_changes(self, session_token: str, batch: ChangeBatch) -> bytes: ...

    def list_revisions(self, session_token: str, project_id: uuid.UUID) -> bytes: ...

    def get_revision(
        self, session_token: str, project_id: uuid.UUID, revision: int, cached: CachedRevisions
    ) -> ProjectDocument | NotModified: ...

    def report_body_too_large(self, session_token: str) -> None: ...


def parse_project_id(raw: str) -> uuid.UUID:
    """The id in its one spelling only. `uuid.UUID` also takes upper case, braces, `urn:uuid:`, missing or
    moved dashes and non-ASCII digits; each would be another URL for the same project to caches and logs."""
    if not _CANONICAL_UUID.fullmatch(raw):
        raise InvalidRequest(f"project id {raw[:80]!r} is not a UUID in its canonical spelling: {CANONICAL_SPELLING}")
    return uuid.UUID(raw)


def parse_revision(raw: str) -> int:
    """A revision named in a path: a whole number from 1 to 2^63-1, in its one spelling."""
    if not _REVISION.fullmatch(raw) or int(raw) > MAX_REVISION:
        raise InvalidRequest(
            f"revision {raw[:40]!r} is not a revision number (a whole number from 1 to {MAX_REVISION})"
        )
    return int(raw)


def entity_tag(revision: int) -> str:
    return f'"{revision}"'


def cached_revisions(if_none_match: str | None) -> CachedRevisions:
    """What an `If-None-Match` header says the client holds already."""
    if if_none_match is None:
        return CachedRevisions()
    if if_none_match.strip() == "*":
        return CachedRevisions(any_revision=True)
    return CachedRevisions(revisions=frozenset(_revision_from_tag(tag) for tag in if_none_match.split(",")))


def if_match_revision(if_match: str | None) -> int | None:
    """The revision an `If-Match` header names; None when there is none or it is `*` (any revision)."""
    if if_match is None or if_match.strip() == "*":
        return None
    return _revision_from_tag(if_match)


def check_body_size(size: int, limit: int, *, complete: bool = True) -> None:
    """`size` is the whole body's, or (not `complete`) what of it was read so far."""
    if size > limit:
        amount = f"{size} bytes" if complete else f"at least {size} bytes"
        raise PayloadTooLarge(f"the request body is {amount}; the limit is {limit} bytes (MAX_BODY_BYTES)")


def _revision_from_tag(tag: str) -> int:
    match = _ENTITY_TAG.match(tag)
    if not match or int(match.group(1)) > MAX_REVISION:
        raise InvalidRequest(f"{tag.strip()[:40]!r} is not an ETag of this API (expected a quoted revision)")
    return int(match.group(1))
