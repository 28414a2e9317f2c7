"""parse_split_write_body (migrations/20261206_10_...) reads every body as parse_write_body reads it whole:
with the span the handler finds, with no span, and with spans that are wrong (which only a bug in the
handler could send): the same fields, the same refusal in the same words, data as the same text."""

import json

import pytest

from sync_core.domain.write_body import find_data_span

SPLIT = """
SELECT document, data::text AS data, problem,
    CASE WHEN data IS NULL AND problem IS NULL
        THEN convert_from(substring(%(body)s FROM %(start)s + 1 FOR %(end)s - %(start)s), 'UTF8')
    END AS span_data
FROM public.parse_split_write_body(%(body)s, %(start)s, %(end)s)
"""
WHOLE = "SELECT document, data::text AS data, problem FROM public.parse_write_body(%(body)s)"
CALLS_OF_THE_WHOLE_PARSE = """
SELECT coalesce(pg_stat_get_xact_function_calls('public.parse_write_body(bytea)'::regprocedure), 0) AS calls
"""
DEEP = 20_000

BODIES = [
    '{"name": "n", "data": {"v": 1}, "baseRevision": 0}',
    '{"name": "n", "baseRevision": 0, "writeId": null, "data": [1, 2.50, 1e400, -0.0]}',
    ' {"d\\u0061ta" : {"text": "\\ud83d\\ude00 \\\\u0000"}, "name": "a\\"b"} ',
    '{"name": "first", "data": {}, "name": "last", "baseRevision": 1}',
    '{"name": "n\\u0000", "data": {}, "baseRevision": 0}',
    '{"name": "\\ud800", "data": {}, "baseRevision": 0}',
    '{"name": "n", "baseRevision": 1e400, "data": {}}',
    '{"name": "n", "data": {"v": NaN}, "baseRevision": 0}',
    '{"name": "n", "data": {"v": 1,}, "baseRevision": 0}',
    '{"name": "n", "data": {"v": "\\u0000"}, "baseRevision": 0}',
    '{"name": "n", "data": {"v": "\\udc00"}, "baseRevision": 0}',
    '{"name": "n", "data": {}, "data": [], "baseRevision": 0}',
    '{"name": "n", "data": {}, "meta": {"data": 1}}',
    '{"name": "n", "data": ' + "[" * DEEP + "]" * DEEP + ', "baseRevision": 0}',
    '{"name": 5, "data": {}}',
    "[]",
    "",
]


def read_whole(connection, body: bytes) -> dict:
    return connection.execute(WHOLE, {"body": body}).fetchone()


def read_split(connection, body: bytes, start: int | None, end: int | None) -> dict:
    row = connection.execute(SPLIT, {"body": body, "start": start, "end": end}).fetchone()
    return {"document": row["document"], "data": row["data"] or row["span_data"], "problem": row["problem"]}


@pytest.mark.parametrize("body", BODIES)
def test_the_span_the_handler_finds_reads_the_body_as_the_whole_parse(connection, body):
    sent = body.encode()
    span = find_data_span(sent)
    start, end = (span.start, span.end) if span else (None, None)
    assert read_split(connection, sent, start, end) == read_whole(connection, sent)


def test_the_usual_body_takes_the_span_and_keeps_data_as_sent(connection):
    sent = b'{"name": "n", "data": {"v": 1.50, "w": 1e400}, "baseRevision": 0, "writeId": null}'
    span = find_data_span(sent)
    with connection.transaction():
        connection.execute("SET LOCAL track_functions = 'pl'")
        row = connection.execute(SPLIT, {"body": sent, "start": span.start, "end": span.end}).fetchone()
        assert connection.execute(CALLS_OF_THE_WHOLE_PARSE).fetchone()["calls"] == 0
        connection.execute(WHOLE, {"body": sent})
        assert connection.execute(CALLS_OF_THE_WHOLE_PARSE).fetchone()["calls"] == 1  # the count counts
    assert row["problem"] is None and row["data"] == '{"v": 1.50, "w": 1e400}'
    assert row["document"] == {"name": "n", "data": None, "baseRevision": 0, "writeId": None}


def test_data_too_large_to_carry_is_only_checked_and_read_from_the_span(connection):
    """Past half of work_mem, data is not returned (the statement casts the span where it stores it)."""
    with connection.transaction():
        connection.execute("SET LOCAL work_mem = '64kB'")
        sent = json.dumps({"name": "n", "data": {"pad": "x" * 40_000}, "baseRevision": 0}).encode()
        span = find_data_span(sent)
        row = connection.execute(SPLIT, {"body": sent, "start": span.start, "end": span.end}).fetchone()
    assert row["problem"] is None and row["data"] is None
    assert json.loads(row["span_data"]) == {"pad": "x" * 40_000}


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "n", "data": {"v": {"w": 1}}, "baseRevision": 0}',
        '{"name": "n", "data": {}, "data": [], "baseRevision": 0}',
        '{"name": "n", "data": [1, {"x": "]}"}], "baseRevision": 0}',
    ],
)
def test_a_wrong_span_is_never_taken(connection, body):
    """Every span but the right one: the body is read whole, as if no span were given."""
    sent = body.encode()
    whole = read_whole(connection, sent)
    right = find_data_span(sent)
    for start in range(len(sent)):
        for end in range(start + 1, len(sent) + 1):
            if right is not None and (start, end) == (right.start, right.end):
                continue
            split = read_split(connection, sent, start, end)
            assert split == whole, (start, end, json.dumps(split))
