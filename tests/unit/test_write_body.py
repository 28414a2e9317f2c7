"""The split of a write body into its small fields and `data` (sync_core.domain.write_body), against a full
parse. Postgres takes a span only when the body with the span replaced by null parses as JSON and the span
parses as one JSON value (migrations/20261206_10_...); `postgres_takes` below does the same checks. Whatever
it takes must be read exactly as a full parse reads the body."""

import json
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_core.domain.write_body import HEAD_BYTES, MAX_ESCAPES_CHECKED, TAIL_BYTES, DataSpan, find_data_span

SMALL_FIELDS = ["name", "baseRevision", "writeId", "clientUpdatedAt", "other"]
WHITESPACE = st.sampled_from(["", " ", "\n", "\t", " \r\n  "])
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def strict_loads(text: str | bytes, **options):
    return json.loads(text, parse_constant=refuse_constant, **options)


def top_level_members(body: bytes) -> list[tuple[str, object]]:
    """The body's members in order, duplicates kept (the outermost object is the last one the hook sees)."""
    seen = []
    strict_loads(body, object_pairs_hook=lambda pairs: seen.append(pairs) or dict(pairs))
    return seen[-1]


def postgres_takes(body: bytes, span: DataSpan | None) -> bool:
    if span is None:
        return False
    try:
        strict_loads(body[: span.start] + b"null" + body[span.end :])
        strict_loads(body[span.start : span.end])
    except ValueError:
        return False
    return True


def dump(value, draw, *, ensure_ascii: bool) -> str:
    """`value` as JSON with whitespace drawn around every token (json.dumps writes one spacing only)."""
    space = draw(WHITESPACE)
    if isinstance(value, dict):
        members = [
            f"{dump_key(key, draw)}{space}:{draw(WHITESPACE)}{dump(item, draw, ensure_ascii=ensure_ascii)}"
            for key, item in value.items()
        ]
        return "{" + space + f",{draw(WHITESPACE)}".join(members) + draw(WHITESPACE) + "}"
    if isinstance(value, list):
        return "[" + space + ",".join(dump(item, draw, ensure_ascii=ensure_ascii) for item in value) + space + "]"
    return json.dumps(value, ensure_ascii=ensure_ascii)


def dump_key(key: str, draw) -> str:
    """A key, some of its letters written as \\u escapes (\"d\\u0061ta\" is data)."""
    escaped = "".join(
        f"\\u{ord(letter):04x}" if letter.isascii() and letter.isalpha() and draw(st.booleans()) else letter
        for letter in key
    )
    return json.dumps(escaped, ensure_ascii=False).replace("\\\\u", "\\u")


def body_of(members: list[tuple[str, object]], draw, *, ensure_ascii: bool = False) -> bytes:
    written = [
        f"{dump_key(key, draw)}{draw(WHITESPACE)}:{draw(WHITESPACE)}{dump(value, draw, ensure_ascii=ensure_ascii)}"
        for key, value in members
    ]
    return ("{" + draw(WHITESPACE) + f",{draw(WHITESPACE)}".join(written) + draw(WHITESPACE) + "}").encode()


@settings(max_examples=400, deadline=None)
@given(
    st.data(), st.lists(st.tuples(st.sampled_from([*SMALL_FIELDS, "data"]) | st.text(max_size=4), VALUES), max_size=6)
)
def test_a_span_postgres_takes_reads_the_body_as_a_full_parse_does(data, members):
    body = body_of(members, data.draw, ensure_ascii=data.draw(st.booleans()))
    span = find_data_span(body)
    if postgres_takes(body, span):
        parsed = top_level_members(body)
        assert [key for key, _ in parsed].count("data") == 1
        assert dict(parsed)["data"] == strict_loads(body[span.start : span.end])
        fields = top_level_members(body[: span.start] + b"null" + body[span.end :])
        assert fields == [(key, None if key == "data" else value) for key, value in parsed]


@settings(max_examples=300, deadline=None)
@given(
    st.data(),
    st.lists(st.tuples(st.sampled_from(SMALL_FIELDS), SCALARS), max_size=4, unique_by=lambda member: member[0]),
    st.dictionaries(st.text(max_size=5), VALUES, max_size=4) | st.lists(VALUES, max_size=4),
)
def test_a_client_shaped_body_is_split_wherever_data_stands(data, fields, project):
    """Scalar fields before and after data, in any order, any spacing: always the fast path, data as sent."""
    place = data.draw(st.integers(0, len(fields)))
    written_data = dump(project, data.draw, ensure_ascii=False)
    body = body_of(fields[:place], data.draw)[:-1].rstrip() + (b", " if place else b"")
    body += b'"data": ' + written_data.encode()
    for key, value in fields[place:]:
        body += f", {json.dumps(key)}: {json.dumps(value)}".encode()
    body += b"}"
    if re.search(r"\\u(0000|d[89ab][0-9a-f]{2}(?!\\ud[c-f])|d[c-f])", written_data):
        return  # a string of the project happens to hold what only the slow path refuses exactly
    span = find_data_span(body)
    assert span is not None, body
    assert body[span.start : span.end] == written_data.encode()
    assert postgres_takes(body, span)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, categories=None), max_size=12), st.booleans())
def test_data_holding_a_nul_or_a_lone_surrogate_is_never_split(text, ensure_ascii):
    body = json.dumps({"name": "n", "data": {"text": text}}, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")
    refused_by_postgres = "\x00" in text or any(0xD800 <= ord(character) <= 0xDFFF for character in text)
    split = find_data_span(body) is not None
    if ensure_ascii:
        assert split is not refused_by_postgres
    elif not refused_by_postgres:
        assert split


@pytest.mark.parametrize(
    ("body", "data"),
    [
        (b'{"name": "n", "data": {"v": 1}, "baseRevision": 0}', b'{"v": 1}'),
        (b' {\r\n"d\\u0061ta" :\t[1, {"data": 2}] \n} ', b'[1, {"data": 2}]'),
        (b'{"name": "\\"data\\": ", "data": {}, "writeId": "a\\\\"}', b"{}"),
        (b'{"data": {"t": "\\\\u0000 is text"}}', b'{"t": "\\\\u0000 is text"}'),
        (b'{"data": {"t": "\\ud83d\\ude00"}}', b'{"t": "\\ud83d\\ude00"}'),
        (b'{"data": [], "name": "say \\"hi\\"", "writeId": null}', b"[]"),
    ],
    ids=[
        "client order",
        "escaped key and spacing",
        "quotes in strings",
        "escaped backslash",
        "surrogate pair",
        "quotes after",
    ],
)
def test_spans(body, data):
    span = find_data_span(body)
    assert span is not None and body[span.start : span.end] == data


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": {"t": "\\u0000"}}',
        b'{"data": {"t": "\\\\\\u0000"}}',
        b'{"data": {"t": "\\ud800"}}',
        b'{"data": {"t": "\\ud800\\\\udc00"}}',
        b'{"data": {"t": "\\udc00"}}',
        b'{"data": 5, "name": "n"}',
        b'{"data": {}, "data": {}}',
        b'{"data": {}, "name": "n", "data": 1}',
        b'{"name": "n", "data": {}, "more": {}}',
        b'["data", {}]',
        b'{"name": NaN, "data": {}}',
        b'{"name": "\xff", "data": {}}',
        b'{"name": "n" "data": {}}',
        b"{" + b'"name": "' + b"x" * HEAD_BYTES + b'", "data": {}}',
    ],
    ids=[
        "nul",
        "nul after an escaped backslash",
        "lone high surrogate",
        "high surrogate before an escaped backslash",
        "lone low surrogate",
        "scalar data",
        "data twice",
        "data again after",
        "nested member after data",
        "not an object",
        "NaN before data",
        "invalid UTF-8 before data",
        "missing comma",
        "data far from the start",
    ],
)
def test_bodies_left_to_the_full_parse(body):
    span = find_data_span(body)
    assert not postgres_takes(body, span)


@pytest.mark.parametrize(
    ("escape", "split"), [("\\n", True), ('\\"', True), ("\\u00e9", True), ("\\ud83d\\ude00", False)]
)
def test_data_made_of_escapes_is_checked_in_little_cpu(escape, split):
    """Every PUT pays this in the function, admitted or not: a loop over each escape of 4 MiB of them
    cost ~1 s of CPU (measured), the regex over the refusable ones ~10-50 ms; past
    MAX_ESCAPES_CHECKED surrogates (4 MiB of escaped emoji: ~355 ms) Postgres checks them, after admission."""
    text = escape * (4 * 1024 * 1024 // len(escape))
    body = b'{"name": "n", "data": ["' + text.encode() + b'"], "baseRevision": 0}'
    began = time.process_time()
    span = find_data_span(body)
    assert (span is not None) == split and time.process_time() - began < 0.3


def test_data_with_a_few_escaped_emoji_is_still_split():
    body = b'{"name": "n", "data": ["' + b"\\ud83d\\ude00" * MAX_ESCAPES_CHECKED + b'"]}'
    assert find_data_span(body) is not None
    body = b'{"name": "n", "data": ["' + b"\\ud83d\\ude00" * (MAX_ESCAPES_CHECKED + 1) + b'"]}'
    assert find_data_span(body) is None


@pytest.mark.parametrize(
    "after_data",
    [
        '"t": "' + '\\"' * (2 * 1024 * 1024) + '"',
        ", ".join(f'"k{place}": 1' for place in range(300_000)),
    ],
)
def test_members_after_data_past_the_tail_take_the_slow_path_in_little_cpu(after_data):
    """Read backward in Python, 4 MiB of them cost ~1.3-1.9 s of CPU (measured) before the limiter is asked."""
    body = f'{{"name": "n", "data": [1], {after_data}}}'.encode()
    began = time.process_time()
    assert find_data_span(body) is None and time.process_time() - began < 0.3


def test_members_after_data_within_the_tail_are_read():
    body = b'{"name": "n", "data": [1], "t": "' + b'\\"' * (TAIL_BYTES // 2 - 20) + b'"}'
    assert find_data_span(body) == DataSpan(body.index(b"[1]"), body.index(b"[1]") + 3)
