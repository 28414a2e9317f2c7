"""Where a write body's `data` member lies, found without parsing `data` (issue 15).

Postgres stores `data` as the exact text sent. Parsing a multi-MiB body there only to read four small
fields costs the one shared part of the system far more than storing it, so the body's bytes go to
Postgres with the byte span of `data`'s value: Postgres then parses the body with that span replaced by
`null` (a few hundred bytes, as jsonb, every rule checked as before) and casts the span alone to json,
which is what storing it costs anyway. Postgres checks both, so a wrong span can only be refused there
(it then reads the body whole, the slow path), never stored.

The span is found from both ends: the members before `data` forward (each key decoded, so `"d\\u0061ta"`
is `data`; each value skipped by Python's JSON scanner), the members after it backward, as long as they
are scalars. It is None (the slow path) for every body it cannot place exactly: `data` not found near the
start, its members after it not near the end, `data` given twice, a scalar, or followed by a nested
member; invalid UTF-8 or JSON around it; or a `\\u0000` or lone surrogate escape inside it, which a json
cast would accept and Postgres must refuse.
"""

import codecs
import json
import re
from dataclasses import dataclass

# The members before data are small fields (a name is at most 1000 characters, 6 bytes each escaped):
# a body whose data starts later takes the slow path.
HEAD_BYTES = 64 * 1024
# The members after data are read backward in Python, a few CPU-seconds for 4 MiB of small members or
# of escaped quotes (measured): past this many bytes from the end, the body takes the slow path.
TAIL_BYTES = 64 * 1024
_WHITESPACE = b" \t\n\r"
_WHITESPACE_TEXT = " \t\n\r"
_scan_value = json.scanner.make_scanner(json.JSONDecoder())
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_NUMBER_CHARACTERS = frozenset(b"0123456789+-.eE")
_LITERALS = (b"true", b"false", b"null")
# \u0000, or a surrogate escape: a high one with the low one after it (a pair), or either alone.
_REFUSABLE_ESCAPE = re.compile(
    rb"\\u(?:0000|[dD][89abAB][0-9a-fA-F]{2}(?:\\u[dD][c-fC-F][0-9a-fA-F]{2})?|[dD][c-fC-F][0-9a-fA-F]{2})"
)
_PAIR_BYTES = 12
# Past this many surrogate escapes (~1 ms of checking) the body takes the slow path, where Postgres
# checks them after the session and the limiter have decided: before them, Python's work stays small
# (4 MiB of escaped emoji took ~355 ms). JSON.stringify escapes only lone surrogates, so real projects
# carry none or few.
MAX_ESCAPES_CHECKED = 1024


@dataclass(frozen=True)
class DataSpan:
    """`data`'s value is body[start:end]: no whitespace around it, the only `data` member of the body."""

    start: int
    end: int


def find_data_span(body: bytes) -> DataSpan | None:
    """Where the one `data` member's value of a JSON object body lies, or None when it cannot be placed
    exactly (Postgres then reads the body whole)."""
    start = _data_value_start(body)
    if start is None:
        return None
    end = _data_value_end(body, start)
    if end is None or end <= start or _holds_escape_postgres_refuses(body, start, end):
        return None
    return DataSpan(start, end)


def _data_value_start(body: bytes) -> int | None:
    """The byte offset of the first top-level `data` member's value, when the members before it are valid."""
    try:
        head = codecs.getincrementaldecoder("utf-8")().decode(body[:HEAD_BYTES], final=False)
        place = _after(head, _skip_whitespace(head, 0), "{")
        while head[place : place + 1] == '"':
            key, place = json.decoder.scanstring(head, place + 1, True)
            place = _after(head, place, ":")
            if key == "data":
                return len(head[:place].encode()) if place < len(head) else None
            _, place = _scan_value(head, place)
            place = _after(head, place, ",")
    except (ValueError, StopIteration, RecursionError):
        return None
    return None


def _after(head: str, place: int, expected: str) -> int:
    """Where what follows `expected` (at `place`, whitespace before it and after it skipped) begins."""
    place = _skip_whitespace(head, place)
    if head[place : place + 1] != expected:
        raise ValueError(f"{expected!r} expected at {place}")
    return _skip_whitespace(head, place + 1)


def _skip_whitespace(text: str, place: int) -> int:
    while place < len(text) and text[place] in _WHITESPACE_TEXT:
        place += 1
    return place


def _data_value_end(body: bytes, start: int) -> int | None:
    """Where `data`'s value ends: read backward from the closing brace over scalar members, it is the
    first nested value met. None when data itself is reached (a scalar, or given again) or a member is
    not as JSON writes it, or when the members after data are not within the body's last TAIL_BYTES."""
    floor = max(start, len(body) - TAIL_BYTES)
    end = _strip_end(body, len(body), floor)
    if end <= floor or body[end - 1] != ord("}"):
        return None
    end = _strip_end(body, end - 1, floor)
    while end > floor:
        if body[end - 1] in b"}]":
            return end
        value_start = _scalar_start(body, floor, end)
        if value_start is None:
            return None
        colon = _strip_end(body, value_start, floor)
        if colon <= floor or body[colon - 1] != ord(":"):
            return None
        key_end = _strip_end(body, colon - 1, floor)
        key_start = _string_start(body, floor, key_end)
        if key_start is None or _decoded_string(body, key_start, key_end) in (None, "data"):
            return None
        comma = _strip_end(body, key_start, floor)
        if comma <= floor or body[comma - 1] != ord(","):
            return None
        end = _strip_end(body, comma - 1, floor)
    return None


def _strip_end(body: bytes, end: int, floor: int) -> int:
    while end > floor and body[end - 1] in _WHITESPACE:
        end -= 1
    return end


def _scalar_start(body: bytes, floor: int, end: int) -> int | None:
    """Where the string, number or literal ending at `end` begins, checked forward; None for anything else."""
    last = body[end - 1]
    if last == ord('"'):
        start = _string_start(body, floor, end)
        return start if start is not None and _decoded_string(body, start, end) is not None else None
    for literal in _LITERALS:
        if body.endswith(literal, floor, end):
            return end - len(literal)
    start = end
    while start > floor and body[start - 1] in _NUMBER_CHARACTERS:
        start -= 1
    return start if start < end and _NUMBER.fullmatch(body, start, end) else None


def _string_start(body: bytes, floor: int, end: int) -> int | None:
    """The opening quote of the string whose closing quote is body[end - 1]: the nearest quote before it
    that no backslash escapes (inside a JSON string every quote is escaped; outside one there is no
    backslash). Only a candidate: _decoded_string checks it."""
    if end - 1 <= floor or body[end - 1] != ord('"'):
        return None
    quote = end - 1
    while True:
        quote = body.rfind(b'"', floor, quote)
        if quote < 0:
            return None
        backslashes = quote
        while backslashes > floor and body[backslashes - 1] == ord("\\"):
            backslashes -= 1
        if (quote - backslashes) % 2 == 0:
            return quote


def _decoded_string(body: bytes, start: int, end: int) -> str | None:
    """body[start:end] as the one JSON string it must be, decoded; None when it is not exactly that."""
    try:
        text = body[start:end].decode()
        decoded, after = json.decoder.scanstring(text, 1, True)
    except ValueError:
        return None
    return decoded if after == len(text) else None


def _holds_escape_postgres_refuses(body: bytes, start: int, end: int) -> bool:
    """Whether body[start:end] holds a \\u0000 or a surrogate escape not in a high-low pair (a json cast
    accepts both; jsonb refuses them). Only those spellings are visited, found by a regex (a Python loop
    over every escape cost ~1 s of CPU for 4 MiB of them), a high-low pair as one. Each is an escape when
    an odd run of backslashes ends at it: `start` is outside any string, and inside one every backslash
    pair is an escaped backslash. A pair's low half always is one (it follows a hex digit). Past
    MAX_ESCAPES_CHECKED candidates it answers True: the slow path, never a refusal by itself."""
    for checked, candidate in enumerate(_REFUSABLE_ESCAPE.finditer(body, start, end)):
        if checked == MAX_ESCAPES_CHECKED:
            return True
        is_pair = candidate.end() - candidate.start() == _PAIR_BYTES
        if _is_escape(body, start, candidate.start()) != is_pair:
            return True
    return False


def _is_escape(body: bytes, floor: int, backslash: int) -> bool:
    """Whether the backslash at `backslash` starts an escape: the run of backslashes it ends is odd."""
    run_start = backslash
    while run_start > floor and body[run_start - 1] == ord("\\"):
        run_start -= 1
    return (backslash - run_start) % 2 == 0
