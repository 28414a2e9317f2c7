"""PUT's body as the handler sends it (migrations/20261207_10_...): data apart, the rest with null in its
place. parse_write_fields reads those fields as parse_write_body reads the whole body, and
write_data_or_null gives data as the same text, or NULL, never raising, when Postgres refuses it: then
the statement answers 'reread' and the store reads the body whole, so no body is read otherwise than whole."""

import pytest

from sync_core.adapters.projects_sql import data_span_parameters
from tests.integration.test_write_body_split import BODIES, DEEP, read_whole

FIELDS = """
SELECT document, data::text AS data, problem
FROM public.parse_write_fields(%(fields)s, %(whole_body)s)
"""
DATA = "SELECT public.write_data_or_null(%(data)s)::text AS data"


def read_apart(connection, body: bytes) -> dict | None:
    """What the statement reads of `body` sent as the handler sends it; None when it would read it whole."""
    sent = data_span_parameters(body)
    row = connection.execute(FIELDS, sent).fetchone()
    if sent["data"] is None or row["problem"] is not None:  # refused fields: data is never cast
        return row
    data = connection.execute(DATA, sent).fetchone()["data"]
    return None if data is None else {**row, "data": data}


@pytest.mark.parametrize("body", BODIES)
def test_data_apart_reads_every_body_as_the_whole_parse_or_has_it_read_whole(connection, body):
    apart = read_apart(connection, body.encode())
    assert apart is None or apart == read_whole(connection, body.encode())


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "n", "data": {"v": 1}, "baseRevision": 0}',
        '{"name": "n", "data": [1, 2.50, 1e400, -0.0], "baseRevision": 0, "writeId": null}',
        '{"name": "n", "data": {"text": "\\ud83d\\ude00 \\\\u0000"}}',
    ],
)
def test_the_usual_body_is_read_apart_data_as_sent(connection, body):
    assert data_span_parameters(body.encode())["data"] is not None
    assert read_apart(connection, body.encode()) == read_whole(connection, body.encode())


@pytest.mark.parametrize(
    "data",
    [b'{"v": NaN}', b'{"v": 1,}', b'[1], "m": {}', b"\xff", b"[" * DEEP + b"]" * DEEP, b" []", b"[] ", b""],
    ids=[
        "NaN",
        "a trailing comma",
        "past data's value",
        "not UTF-8",
        "too deep",
        "space before",
        "space after",
        "none",
    ],
)
def test_data_postgres_refuses_is_null_never_an_error(connection, data):
    assert connection.execute(DATA, {"data": data}).fetchone()["data"] is None


def test_fields_whose_data_is_not_the_null_put_there_are_refused(connection):
    sent = {"fields": b'{"name": "n", "data": {"v": null}, "baseRevision": 0}', "whole_body": None}
    row = connection.execute(FIELDS, sent).fetchone()
    assert row["document"] is None and row["problem"] == "the body is not valid JSON"
