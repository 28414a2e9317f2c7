"""parse_changes_body_as_json (migrations/20261206_13_...) reads a batch's body as the whole-body jsonb
parse read it: the same refusals in the same words, the same fields of each change, each change's data
as the text sent. One difference is meant: a number too large for numeric inside data is kept, as PUT
keeps it, where the jsonb parse refused the whole batch."""

import json

import pytest

AS_JSON = "SELECT document, changes::text AS changes, problem FROM public.parse_changes_body_as_json(%s)"
WHOLE = "SELECT document, changes::text AS changes, problem FROM public.parse_changes_body_whole(%s)"
DEEP = 20_000
ID = "4f6c1a52-7d0e-4a7b-9a51-0c2d8f1e3b6a"

BODIES = [
    f'{{"changes": [{{"id": "{ID}", "name": "n", "data": {{"v": [1, 2.50]}}, "baseRevision": 0}},'
    f' {{"id": "{ID}", "deleted": true, "baseRevision": 3}}]}}',
    f'{{"changes": [{{"d\\u0061ta": {{"t": "\\ud83d\\ude00"}}, "name": "first", "name": "last", "id": "{ID}"}}]}}',
    '{"changes": [{"name": "n", "data": {"v": 1}, "data": [2]}]}',
    '{"changes": []}',
    '{"changes": [{"name": "n\\u0000", "data": {}}]}',
    '{"changes": [{"name": "n", "data": {"t": "\\u0000"}}]}',
    '{"changes": [{"name": "n", "data": {"t": "\\udc00"}}]}',
    '{"changes": [{"name": "n", "data": {}}], "note": "\\ud800"}',
    '{"changes": [{"name": "n", "data": {"v": NaN}}]}',
    '{"changes": [{"name": "n", "data": ' + "[" * DEEP + "]" * DEEP + "}]}",
    '{"changes": [{"name": "n", "baseRevision": 1e400000, "data": {}}]}',
    '{"changes": [{"name": "n", "data": {}, "more": 1e400}]}',
    '{"changes": [1, {"name": "n", "data": {}}]}',
    '{"changes": {"name": "n"}}',
    '{"changes": [{"name": "n", "data": {}}], "changes": []}',
    '{"other": 1}',
    "[]",
    "",
]


def without_data(document):
    """The whole parse's document as this one reads it: its changes alone, each one's data null."""
    if not isinstance(document, dict) or not isinstance(document.get("changes"), list):
        return document
    changes = [
        {**change, "data": None} if isinstance(change, dict) and "data" in change else change
        for change in document["changes"]
    ]
    return {"changes": changes}


@pytest.mark.parametrize("body", BODIES)
def test_a_batch_body_is_read_as_the_whole_jsonb_parse_read_it(connection, body):
    sent = body.encode()
    split, whole = connection.execute(AS_JSON, (sent,)).fetchone(), connection.execute(WHOLE, (sent,)).fetchone()
    assert split["problem"] == whole["problem"]
    if whole["problem"] is None:
        assert split["document"] == without_data(whole["document"])
        assert split["changes"] == whole["changes"]


def test_data_is_kept_as_sent(connection):
    sent = f'{{"changes": [{{"id": "{ID}", "data": {{"v": 1.50, "w":  2}}}}, {{"id": "{ID}"}}]}}'.encode()
    row = connection.execute(AS_JSON, (sent,)).fetchone()
    assert row["problem"] is None
    assert json.loads(row["changes"]) == [{"v": 1.5, "w": 2}, None]
    assert '{"v": 1.50, "w":  2}' in row["changes"]


def test_a_number_too_large_is_kept_in_data_as_put_keeps_it_and_refused_elsewhere(connection):
    in_data = connection.execute(AS_JSON, (b'{"changes": [{"name": "n", "data": {"far": 1e400000}}]}',)).fetchone()
    assert in_data["problem"] is None and "1e400000" in in_data["changes"]
    in_a_field = connection.execute(AS_JSON, (b'{"changes": [{"name": 1e400000, "data": {}}]}',)).fetchone()
    assert in_a_field["problem"] == "the body holds a number too large to store"
