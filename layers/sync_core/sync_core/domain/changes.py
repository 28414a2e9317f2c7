"""The changes feed as the sync API sees it: cursors, page limits, and the page it answers.

A change's place in the feed is its project's ("changeXid", id): the id of the transaction that last
wrote it, then the project id. A page holds only rows whose writer finished before the reading
snapshot's xmin (adapters/projects_sql.py), so a write that commits late is read late, never skipped.
The cursor is opaque to clients; inside it is where the reader stands and where its listing began.
"""

import base64
import binascii
import re
import uuid
from dataclasses import dataclass

from sync_core.domain.errors import InvalidRequest

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
# What a page's JSON may hold at most (an upper bound, computed in SQL), unless one project alone is
# larger. Lambda's 6 MB counts the response as its runtime serializes it, where quotes and backslashes
# double and non-ASCII text can triple: 2 MiB leaves that room.
PAGE_BYTES = 2 * 1024 * 1024

MAX_XID8 = 2**64 - 1
_CURSOR_VERSION = "1"
_CURSOR_TEXT = re.compile(rf"{_CURSOR_VERSION}\.([0-9]{{1,20}})\.([0-9]{{1,20}})\.([0-9a-f]{{32}})")
_LIMIT_TEXT = re.compile(r"[0-9]{1,3}")


@dataclass(frozen=True, order=True)
class FeedPosition:
    """A place in the feed: every change at or before it was read."""

    change_xid: int
    project_id: uuid.UUID


# Before every change: no transaction id is 0, so no row is at or before it.
FEED_START = FeedPosition(0, uuid.UUID(int=0))
# Last at its xid: a position (xid, LAST_ID) includes every row of that xid.
LAST_ID = uuid.UUID(int=2**128 - 1)


@dataclass(frozen=True)
class FeedCursor:
    """Where a reader stands. `listing_began` is the xmin at which its first listing was read: a
    tombstone older than that predates the listing, which never showed its project, so it is left out."""

    listing_began: int
    after: FeedPosition


@dataclass(frozen=True)
class ChangesPage:
    """A page as the store read it: each change's JSON as Postgres wrote it (bytes) in feed order, where to
    continue, and whether more changes can be read now."""

    changes: list[bytes]
    cursor: FeedCursor
    more: bool

    def json_bytes(self) -> bytes:
        # One join around the changes' bytes as Postgres sent them: nothing is decoded or encoded, and a
        # megabyte page is copied once. The cursor is base64url, so it needs no escaping.
        more = "true" if self.more else "false"
        closing = f'], "cursor": "{encode_cursor(self.cursor)}", "more": {more}}}'.encode()
        separated = [piece for change in self.changes for piece in (b", ", change)][1:]
        return b"".join([b'{"changes": [', *separated, closing])


def encode_cursor(cursor: FeedCursor) -> str:
    text = f"{_CURSOR_VERSION}.{cursor.listing_began}.{cursor.after.change_xid}.{cursor.after.project_id.hex}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def parse_cursor(raw: str) -> FeedCursor:
    """The cursor a page gave out; anything else (edited, truncated, another spelling of one) is a 400."""
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    match = _CURSOR_TEXT.fullmatch(text)
    if match:
        listing_began, change_xid, project_hex = match.groups()
        if int(listing_began) <= MAX_XID8 and int(change_xid) <= MAX_XID8:
            cursor = FeedCursor(int(listing_began), FeedPosition(int(change_xid), uuid.UUID(hex=project_hex)))
            if encode_cursor(cursor) == raw:
                return cursor
    raise InvalidRequest(f"since {raw[:80]!r} is not a cursor this API gave out")


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not _LIMIT_TEXT.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def next_cursor(since: FeedCursor, last_read: FeedPosition | None, stable_below: int, *, more: bool) -> FeedCursor:
    """Where the next page starts. With more rows readable, after the last one read. Without, every row
    below the snapshot's xmin was read, so the cursor moves to that boundary (rows at or above it belong to
    transactions that had not finished and come later): an idle feed stays cheap, and it never moves back."""
    if more:
        return FeedCursor(since.listing_began, last_read)
    boundary = FeedPosition(stable_below - 1, LAST_ID)
    return FeedCursor(since.listing_began, max(since.after, boundary))
