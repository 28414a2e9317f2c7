"""Adversarial bodies for PUT's data span (sync_core/domain/write_body.py) and the batch's json parse
(migrations/20261206_13_...), through the real handlers, each judged against what a strict full JSON
parse of the body means: what is accepted is stored as the exact text sent and read as the full parse
reads it (a member given twice: its last); what is not JSON the API can store is a 400 with a JSON
error, JSON with a wrong field a 422."""

import gzip
import json
import uuid
from decimal import Decimal

import pytest

from tests.integration.test_errors import assert_error

REFUSED = None
FIELD_REFUSED = "422"  # a change refused alone, in its result
DEEP = 20_000
HEAD = 64 * 1024


class NotAcceptable(ValueError):
    """JSON Postgres refuses to store: NaN or Infinity, a \\u0000, a lone surrogate."""


def _refuse_constant(name):
    raise NotAcceptable(name)


def _checked(value):
    if isinstance(value, str) and any(c == "\0" or 0xD800 <= ord(c) < 0xE000 for c in value):
        raise NotAcceptable(repr(value))
    if isinstance(value, list):
        for item in value:
            _checked(item)
    return value


def _checked_pairs(pairs):
    for key, value in pairs:
        _checked(key)
        _checked(value)
    return dict(pairs)  # a member given twice: its last, as jsonb reads it


def full_parse(body: bytes):
    """The body as a strict, full JSON parse reads it (numbers exact), or None when it is no JSON the
    API can store."""
    try:
        text = body.decode("utf-8")  # strict: no BOM skipped, no surrogate bytes
        return _checked(
            json.loads(
                text,
                parse_float=Decimal,
                parse_int=Decimal,
                parse_constant=_refuse_constant,
                object_pairs_hook=_checked_pairs,
            )
        )
    except (ValueError, RecursionError):
        return None


def sent(body: str | bytes) -> bytes:
    return body if isinstance(body, bytes) else body.encode()


def put_with(api, user, project_id, body: bytes, encoding: str):
    if encoding == "gzip":
        return api.put(user, project_id, gzip.compress(body), headers={"Content-Encoding": "gzip"})
    return api.put(user, project_id, body)


def assert_stored_as_sent(api, user, project_id, data_text: str, meaning: dict) -> None:
    stored = api.get(user, project_id)
    assert stored.status == 200, stored
    assert f'"data" : {data_text},' in stored.text
    project = json.loads(stored.text, parse_float=Decimal, parse_int=Decimal)
    assert project["data"] == meaning["data"] and project["name"] == meaning["name"]


PAD_TO_HEAD = "é" * ((HEAD - 30) // 2)  # two bytes each: a member that ends across the 64 KiB head

# (body, data's text as stored, or REFUSED)
PUT_ATTACKS = {
    "data null, an object after it": ('{"name": "n", "data": null, "baseRevision": 0, "meta": {"x": 1}}', "null"),
    "data null, data nested after it": ('{"name": "n", "data": null, "baseRevision": 0, "m": {"data": [1]}}', "null"),
    "a string holding data before it": (
        '{"name": "\\"data\\": [1]", "note": "\\", \\"data\\": {\\"x\\": 1}", "data": [2], "baseRevision": 0}',
        "[2]",
    ),
    "a string holding members after data": (
        '{"name": "n", "data": {"v": 1}, "baseRevision": 0, "t": "\\"}, \\"data\\": 1, \\"u\\": \\""}',
        '{"v": 1}',
    ),
    "data holding a string that closes members": (
        '{"name": "n", "data": {"s": "\\", \\"data\\": null, \\"x\\": \\"", "t": "]}"}, "baseRevision": 0}',
        '{"s": "\\", \\"data\\": null, \\"x\\": \\"", "t": "]}"}',
    ),
    "a trailing string of backslashes": ('{"name": "n", "data": [1], "baseRevision": 0, "t": "\\\\\\\\"}', "[1]"),
    "data, then d\\u0061ta": ('{"name": "n", "data": {"v": 1}, "d\\u0061ta": {"v": 2}, "baseRevision": 0}', '{"v": 2}'),
    "d\\u0061ta, then data": ('{"name": "n", "d\\u0061ta": {"v": 1}, "data": {"v": 2}, "baseRevision": 0}', '{"v": 2}'),
    "data, then \\u0064ata as a scalar": ('{"name": "n", "data": {"v": 1}, "baseRevision": 0, "\\u0064ata": 5}', "5"),
    "d\\u0041ta is another key": (
        '{"name": "n", "d\\u0041ta": {"x": 1}, "data": {"v": 1}, "baseRevision": 0}',
        '{"v": 1}',
    ),
    "name given twice, escaped": ('{"name": "a", "data": {}, "baseRevision": 0, "n\\u0061me": "b"}', "{}"),
    "every whitespace JSON allows": (
        '\r\n\t {\n"name"\t:\r"n" ,\n"data"\r\n:\t{"v" :\n1}\r,"baseRevision":0 }\n\t',
        '{"v" :\n1}',
    ),
    "numbers exact": (
        '{"name": "n", "data": [1e400, -0.0, 0.10, 123456789012345678901234567890, 1E-400], "baseRevision": 0}',
        "[1e400, -0.0, 0.10, 123456789012345678901234567890, 1E-400]",
    ),
    "UTF-8 of every length around data": (
        '{"name": "é😀", "x": "\\ud83d\\ude00ࠀ", "data": {"s": "😀\\ud83d\\ude00 ࠀ é"}, "k": "😀", "baseRevision": 0}',
        '{"s": "😀\\ud83d\\ude00 ࠀ é"}',
    ),
    "a member before data across the head": (
        '{"pad": "' + PAD_TO_HEAD + '", "name": "n", "data": {"v": 1}, "baseRevision": 0}',
        '{"v": 1}',
    ),
    "data's key across the head": (
        '{"pad": "' + "x" * (HEAD - 13) + '", "data": [1], "name": "n", "baseRevision": 0}',
        "[1]",
    ),
    "members after data past the tail": (
        '{"name": "n", "data": {"v": 1}, "baseRevision": 0, "t": "' + '\\"' * HEAD + '"}',
        '{"v": 1}',
    ),
    "data, then data past the tail": (
        '{"name": "n", "data": {"v": 1}, "data": [2], "t": "' + "x" * HEAD + '", "baseRevision": 0}',
        "[2]",
    ),
    "nested members after data": ('{"name": "n", "data": [1], "m": {"a": [2]}, "baseRevision": 0}', "[1]"),
    "a scalar data": ('{"name": "n", "data": "s", "baseRevision": 0}', '"s"'),
    "\\u0000 escaped, not a nul": (
        '{"name": "n", "data": {"s": "\\\\u0000"}, "baseRevision": 0}',
        '{"s": "\\\\u0000"}',
    ),
    "a surrogate pair": ('{"name": "n", "data": ["\\uD83D\\uDE00"], "baseRevision": 0}', '["\\uD83D\\uDE00"]'),
    # Refused: not JSON, or JSON Postgres cannot store.
    "a BOM": ('\ufeff{"name": "n", "data": {}, "baseRevision": 0}', REFUSED),
    "form feed around data": ('{"name": "n", "data":\f{}, "baseRevision": 0}', REFUSED),
    "vertical tab after data": ('{"name": "n", "data": {}\v, "baseRevision": 0}', REFUSED),
    "NBSP inside data": ('{"name": "n", "data": {"v":\u00a01}, "baseRevision": 0}', REFUSED),
    "NBSP after the object": ('{"name": "n", "data": {}, "baseRevision": 0}\u00a0', REFUSED),
    "trailing garbage": ('{"name": "n", "data": {}, "baseRevision": 0} x', REFUSED),
    "a second object": ('{"name": "n", "data": {}, "baseRevision": 0} {}', REFUSED),
    "a brace too many after data": ('{"name": "n", "data": {}}, "baseRevision": 0}', REFUSED),
    "a member after the object": ('{"name": "n", "data": {}}, "baseRevision": 0', REFUSED),
    "a trailing comma": ('{"name": "n", "data": {}, "baseRevision": 0,}', REFUSED),
    "an array body": ('[{"name": "n", "data": {}, "baseRevision": 0}]', REFUSED),
    "data not closed": ('{"name": "n", "data": {"v": [1}, "baseRevision": 0}', REFUSED),
    "a \\u0000 in data": ('{"name": "n", "data": {"s": "a\\u0000"}, "baseRevision": 0}', REFUSED),
    "a \\u0000 in a key of data": ('{"name": "n", "data": {"\\u0000": 1}, "baseRevision": 0}', REFUSED),
    "a \\u0000 after data": ('{"name": "n", "data": {}, "baseRevision": 0, "t": "\\u0000"}', REFUSED),
    "a lone high surrogate at data's end": ('{"name": "n", "data": ["\\ud83d"], "baseRevision": 0}', REFUSED),
    "a high surrogate then an escape": ('{"name": "n", "data": ["\\ud83d\\n"], "baseRevision": 0}', REFUSED),
    "a lone low surrogate": ('{"name": "n", "data": ["\\ude00\\ud83d"], "baseRevision": 0}', REFUSED),
    "a lone surrogate in a key after data": ('{"name": "n", "data": {}, "\\udc00": 1, "baseRevision": 0}', REFUSED),
    "NaN in data": ('{"name": "n", "data": [NaN], "baseRevision": 0}', REFUSED),
    "-Infinity in data": ('{"name": "n", "data": {"v": -Infinity}, "baseRevision": 0}', REFUSED),
    "Infinity before data": ('{"name": "n", "x": Infinity, "data": {}, "baseRevision": 0}', REFUSED),
    "NaN after data": ('{"name": "n", "data": {}, "baseRevision": NaN}', REFUSED),
    "a huge baseRevision": ('{"name": "n", "data": {}, "baseRevision": 1e400}', REFUSED),
    "deep nesting after data": (
        '{"name": "n", "data": {}, "m": ' + "[" * DEEP + "]" * DEEP + ', "baseRevision": 0}',
        REFUSED,
    ),
    "deep nesting before data": (
        '{"name": "n", "m": ' + "[" * DEEP + "]" * DEEP + ', "data": {}, "baseRevision": 0}',
        REFUSED,
    ),
    "a wrong name type": ('{"name": 5, "data": {}, "baseRevision": 0}', REFUSED),
    "a wrong baseRevision type": ('{"name": "n", "data": {}, "baseRevision": "0"}', REFUSED),
    "a fractional baseRevision": ('{"name": "n", "data": {}, "baseRevision": 0.5}', REFUSED),
    "invalid UTF-8 in data": (b'{"name": "n", "data": {"s": "\xff"}, "baseRevision": 0}', REFUSED),
    "a UTF-8 surrogate in data": (b'{"name": "n", "data": {"s": "\xed\xa0\x80"}, "baseRevision": 0}', REFUSED),
    "an overlong UTF-8 after data": (b'{"name": "n", "data": {}, "t": "\xc0\xaf", "baseRevision": 0}', REFUSED),
    "invalid UTF-8 past the head": (
        b'{"name": "n", "data": {"s": "' + b"x" * HEAD + b'\xfe"}, "baseRevision": 0}',
        REFUSED,
    ),
    "a truncated UTF-8 at the end": (b'{"name": "n", "data": {}, "baseRevision": 0}\xe2\x82', REFUSED),
    "a raw control character in data": ('{"name": "n", "data": {"s": "a\tb"}, "baseRevision": 0}', REFUSED),
}


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize(("body", "data_text"), PUT_ATTACKS.values(), ids=PUT_ATTACKS.keys())
def test_a_put_stores_what_the_full_parse_reads_or_refuses_it(api, new_user, body, data_text, encoding):
    user, project_id, body = new_user(), uuid.uuid4(), sent(body)
    meaning = full_parse(body)
    response = put_with(api, user, project_id, body, encoding)
    if data_text is REFUSED:
        # Not JSON the API can store is the request's fault; JSON it can, with a wrong field, the field's.
        assert_error(response, *((400, "invalid_request") if meaning is None else (422, "invalid_field")))
        assert api.get(user, project_id).status == 404
        return
    assert meaning is not None
    assert response.status == 200, response
    assert_stored_as_sent(api, user, project_id, data_text, meaning)


def test_one_user_cannot_write_another_users_project_whatever_the_body(api, new_user):
    owner, other = new_user(), new_user()
    project_id = api.create(owner, data={"v": "owner"})
    for body in (
        '{"name": "x", "data": {"v": "other"}, "baseRevision": 1}',
        '{"name": "x", "d\\u0061ta": 1, "baseRevision": 1}',
    ):
        assert api.put(other, project_id, body).status < 500
    assert api.get(owner, project_id).json()["data"] == {"v": "owner"}


# (each change's members but its id; each change's data as stored or FIELD_REFUSED, or the batch REFUSED)
BATCH_ATTACKS = {
    "data given twice in a change": (['"name": "n", "data": {"v": 1}, "data": [2], "baseRevision": 0'], ["[2]"]),
    "data and d\\u0061ta in a change": (['"name": "n", "d\\u0061ta": [2], "baseRevision": 0, "data": [3]'], ["[3]"]),
    "a member given twice, escaped": (['"name": "a", "n\\u0061me": "b", "data": [1], "baseRevision": 0'], ["[1]"]),
    "numbers exact in a change": (
        ['"name": "n", "data": [1e400, 0.10, -0.0], "baseRevision": 0'],
        ["[1e400, 0.10, -0.0]"],
    ),
    "changes side by side": (
        [
            '"name": "a", "data": {"s": "\\"}, {\\""}, "baseRevision": 0',
            '"data": [1], "name": "b", "baseRevision": 0',
        ],
        ['{"s": "\\"}, {\\""}', "[1]"],
    ),
    "a \\u0000 in a change's data": (['"name": "n", "data": {"s": "\\u0000"}, "baseRevision": 0'], REFUSED),
    "a lone surrogate in a change's data": (['"name": "n", "data": ["\\udc00"], "baseRevision": 0'], REFUSED),
    "a \\u0000 in a key of a change": (['"name": "n", "data": {}, "baseRevision": 0, "\\u0000": 1'], REFUSED),
    "NaN in a change's data": (['"name": "n", "data": [NaN], "baseRevision": 0'], REFUSED),
    "deep nesting in a member after data": (
        ['"name": "n", "data": {}, "m": ' + "[" * DEEP + "]" * DEEP + ', "baseRevision": 0'],
        REFUSED,
    ),
    "a huge baseRevision in a change": (['"name": "n", "data": {}, "baseRevision": 1e400'], [FIELD_REFUSED]),
    "a number past numeric in a change": (['"name": "n", "data": {}, "baseRevision": 1e400000'], REFUSED),
    "a wrong name type beside a good change": (
        ['"name": 5, "data": {}, "baseRevision": 0', '"name": "n", "data": [1], "baseRevision": 0'],
        [FIELD_REFUSED, "[1]"],
    ),
    "invalid UTF-8 in a change's data": ([b'"name": "n", "data": ["\xff"], "baseRevision": 0'], REFUSED),
}


def batch_body(changes: list, project_ids: list) -> bytes:
    """A batch of the changes, each with its project's id first."""
    listed = (b'{"id": "%s", %s}' % (str(i).encode(), sent(m)) for i, m in zip(project_ids, changes, strict=True))
    return b'{"changes": [' + b", ".join(listed) + b"]}"


@pytest.mark.parametrize(("changes", "data_texts"), BATCH_ATTACKS.values(), ids=BATCH_ATTACKS.keys())
def test_a_batch_stores_what_the_full_parse_reads_or_refuses_it(api, new_user, changes, data_texts):
    user, project_ids = new_user(), [uuid.uuid4() for _ in changes]
    body = batch_body(changes, project_ids)
    meaning = full_parse(body)
    response = api.push(user, body)
    if data_texts is REFUSED:
        assert response.status in (400, 422), response
        assert response.json()["error"]["message"]
        assert all(api.get(user, project_id).status == 404 for project_id in project_ids)
        return
    assert meaning is not None
    assert response.status == 200, response
    results = response.json()["results"]
    assert [result["status"] for result in results] == [422 if t is FIELD_REFUSED else 200 for t in data_texts]
    for project_id, data_text, change_meaning in zip(project_ids, data_texts, meaning["changes"], strict=True):
        if data_text is FIELD_REFUSED:
            assert api.get(user, project_id).status == 404
        else:
            assert_stored_as_sent(api, user, project_id, data_text, change_meaning)


@pytest.mark.parametrize(
    "changes",
    ['[1, {"name": "n", "data": {}}]', '["x"]', "[null]", "[[]]", '{"name": "n"}', "1e400"],
)
def test_a_change_that_is_no_object_is_refused_in_json(api, new_user, changes):
    """The batch refused whole, or each such change refused in its result: never a 500, nothing stored."""
    user = new_user()
    response = api.push(user, f'{{"changes": {changes}}}')
    if response.status == 200:
        results = response.json()["results"]
        assert results and all(r["status"] == 422 and r["error"]["message"] for r in results), response
    else:
        assert response.status in (400, 422) and response.json()["error"]["message"], response
    assert api.list(user).json() == []


def test_a_change_with_its_id_given_twice_writes_and_answers_its_last(api, new_user):
    user, first, last = new_user(), uuid.uuid4(), uuid.uuid4()
    body = f'{{"changes": [{{"id": "{first}", "name": "n", "data": [1], "baseRevision": 0, "id": "{last}"}}]}}'
    assert [result["id"] for result in api.push(user, body).json()["results"]] == [str(last)]
    assert api.get(user, first).status == 404 and api.get(user, last).json()["data"] == [1]


def test_changes_given_twice_are_read_as_the_last(api, new_user):
    user, first, last = new_user(), uuid.uuid4(), uuid.uuid4()
    changes = [
        f'[{{"id": "{project_id}", "name": "n", "data": [1], "baseRevision": 0}}]' for project_id in (first, last)
    ]
    response = api.push(user, f'{{"changes": {changes[0]}, "changes": {changes[1]}}}')
    assert [result["id"] for result in response.json()["results"]] == [str(last)]
    assert api.get(user, first).status == 404 and api.get(user, last).status == 200


@pytest.mark.parametrize(
    "beside",
    [
        '"note": "\\u0000"',
        '"note": ["\\udc00"]',
        '"note": NaN',
        '"note": ' + "[" * DEEP + "]" * DEEP,
    ],
)
def test_what_postgres_cannot_store_beside_the_changes_refuses_the_batch(api, new_user, beside):
    user, project_id = new_user(), uuid.uuid4()
    change = f'{{"id": "{project_id}", "name": "n", "data": [1], "baseRevision": 0}}'
    response = api.push(user, f'{{"changes": [{change}], {beside}}}')
    assert 400 <= response.status < 500 and response.json()["error"]["message"], response
    assert api.get(user, project_id).status == 404


def test_one_user_cannot_write_another_users_project_in_a_batch(api, new_user):
    owner, other = new_user(), new_user()
    project_id = api.create(owner, data={"v": "owner"})
    change = f'{{"id": "{project_id}", "name": "x", "d\\u0061ta": {{"v": "other"}}, "baseRevision": 1}}'
    assert api.push(other, f'{{"changes": [{change}]}}').status == 200
    assert api.get(owner, project_id).json()["data"] == {"v": "owner"}


def test_a_member_beside_the_changes_is_not_read_past_the_json_parse(api, new_user):
    """A number past numeric beside changes is valid JSON, stored nowhere: the batch is taken (the whole
    jsonb parse before issue 15 refused it)."""
    user, project_id = new_user(), uuid.uuid4()
    change = f'{{"id": "{project_id}", "name": "n", "data": [1], "baseRevision": 0}}'
    response = api.push(user, f'{{"changes": [{change}], "note": 1e400000}}')
    assert [result["status"] for result in response.json()["results"]] == [200]


def test_data_past_half_of_work_mem_is_stored_as_sent(api, new_user):
    """Past half of work_mem the span is only checked and cast again where it is stored: the same text."""
    user, project_id = new_user(), uuid.uuid4()
    data_text = '{"big": 1e400, "k": 1.50, "s": "\\ud83d\\ude00\\"\\\\u0000", "pad": "' + "é" * 1_300_000 + '"}'
    body = ('{"name": "n", "data": ' + data_text + ', "baseRevision": 0}').encode()
    assert put_with(api, user, project_id, body, "gzip").status == 200
    assert_stored_as_sent(api, user, project_id, data_text, full_parse(body))
