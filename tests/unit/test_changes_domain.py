"""The changes feed's cursors and limits: what a client may send, and where the next page starts."""

import base64
import uuid

import pytest

from sync_core.domain.changes import (
    DEFAULT_LIMIT,
    FEED_START,
    LAST_ID,
    MAX_LIMIT,
    MAX_XID8,
    ChangesPage,
    FeedCursor,
    FeedPosition,
    encode_cursor,
    next_cursor,
    parse_cursor,
    parse_limit,
)
from sync_core.domain.errors import InvalidRequest

PROJECT = uuid.UUID("0b6f1f0e-6a4e-4a8e-9d55-3a1c2f1e0a77")


@pytest.mark.parametrize(
    "cursor",
    [
        FeedCursor(764, FEED_START),
        FeedCursor(764, FeedPosition(770, PROJECT)),
        FeedCursor(MAX_XID8, FeedPosition(MAX_XID8, LAST_ID)),
    ],
)
def test_a_cursor_parses_back_to_itself_and_is_url_safe(cursor):
    raw = encode_cursor(cursor)
    assert parse_cursor(raw) == cursor
    assert set(raw) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


VALID = encode_cursor(FeedCursor(764, FeedPosition(770, PROJECT)))
MALFORMED = {
    "empty": "",
    "not base64": "!!!",
    "truncated": VALID[:-3],
    "padded": VALID + "==",
    "base64 with junk the decoder skips": VALID[:4] + "*" + VALID[4:],
    "another version": _b64(f"2.764.770.{PROJECT.hex}"),
    "a negative xid": _b64(f"1.764.-770.{PROJECT.hex}"),
    "an xid past xid8": _b64(f"1.764.{MAX_XID8 + 1}.{PROJECT.hex}"),
    "upper-case id": _b64(f"1.764.770.{PROJECT.hex.upper()}"),
    "hyphenated id": _b64(f"1.764.770.{PROJECT}"),
    "a missing part": _b64(f"1.770.{PROJECT.hex}"),
    "not ASCII": base64.urlsafe_b64encode("1.7é4.770".encode()).decode(),
    "binary": _b64("\x00\x01"),
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=list(MALFORMED))
def test_anything_but_a_cursor_given_out_is_invalid(raw):
    with pytest.raises(InvalidRequest, match="not a cursor this API gave out"):
        parse_cursor(raw)


def test_limit_defaults_and_bounds():
    assert parse_limit(None) == DEFAULT_LIMIT
    assert parse_limit("1") == 1
    assert parse_limit(str(MAX_LIMIT)) == MAX_LIMIT


@pytest.mark.parametrize("raw", ["", "0", "-1", str(MAX_LIMIT + 1), "1.5", "1e2", " 5", "abc", "٣", "1000000"])
def test_a_limit_outside_1_to_500_is_invalid(raw):
    with pytest.raises(InvalidRequest, match="limit must be"):
        parse_limit(raw)


def test_with_more_to_read_the_cursor_moves_to_the_last_change_read():
    since = FeedCursor(700, FeedPosition(710, PROJECT))
    last = FeedPosition(720, uuid.uuid4())
    assert next_cursor(since, last, stable_below=800, more=True) == FeedCursor(700, last)


def test_caught_up_the_cursor_moves_to_just_below_the_snapshot_boundary():
    since = FeedCursor(700, FeedPosition(710, PROJECT))
    moved = next_cursor(since, FeedPosition(720, PROJECT), stable_below=800, more=False)
    # Every change of xid 799 and below was read; 800 and above may still commit.
    assert moved == FeedCursor(700, FeedPosition(799, LAST_ID))
    assert next_cursor(since, None, stable_below=800, more=False) == moved, "an empty page moves it too"


def test_the_cursor_never_moves_back():
    since = FeedCursor(700, FeedPosition(900, PROJECT))
    assert next_cursor(since, None, stable_below=800, more=False) == since


def test_a_page_is_json_around_the_changes_bytes_as_read():
    page = ChangesPage([b'{"data" : 1e400}', b'{"data" : [1.0]}'], FeedCursor(1, FEED_START), more=True)
    cursor = encode_cursor(page.cursor)
    expected = f'{{"changes": [{{"data" : 1e400}}, {{"data" : [1.0]}}], "cursor": "{cursor}", "more": true}}'
    assert page.json_bytes() == expected.encode()
    assert (
        ChangesPage([], page.cursor, more=False).json_bytes()
        == f'{{"changes": [], "cursor": "{cursor}", "more": false}}'.encode()
    )
