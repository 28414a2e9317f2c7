"""Bad input always gets a JSON 4xx naming the problem, never a 500, and changes nothing."""

import json
import uuid

import pytest

VALID = {"name": "x", "data": {"v": 1}, "baseRevision": 0}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status == status, response
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


@pytest.mark.parametrize(
    ("call", "args"),
    [("get", ("not-a-uuid",)), ("put", ("nope", VALID)), ("delete", ("nope",)), ("get", ("1' OR '1'='1",))],
)
def test_a_malformed_project_id_is_400(api, new_user, call, args):
    assert_error(getattr(api, call)(new_user(), *args), 400, "invalid_request")


def test_a_project_is_reachable_under_its_canonical_id_only(api, new_user):
    user = new_user()
    project_id = str(api.create(user))
    other_spellings = [
        project_id.upper(),
        "{" + project_id + "}",
        "urn:uuid:" + project_id,
        project_id.replace("-", ""),
        project_id[:4] + "-" + project_id[4:].replace("-", "", 1),
        project_id.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
        project_id.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ]
    for spelling in other_spellings:
        for response in (api.get(user, spelling), api.delete(user, spelling)):
            error = assert_error(response, 400, "invalid_request")
            assert "lower-case" in error["message"], spelling
    assert api.get(user, project_id).json()["deletedAt"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("{", 400, "invalid_request"),
        ("not json", 400, "invalid_request"),
        ('{"name": "x", "data": NaN, "baseRevision": 0}', 400, "invalid_request"),
        ('{"name": "x", "data": Infinity, "baseRevision": 0}', 400, "invalid_request"),
        ('{"name": "x", "data": "nul \\u0000 here", "baseRevision": 0}', 400, "invalid_request"),
        ('{"name": "x", "data": {"k\\u0000": 1}, "baseRevision": 0}', 400, "invalid_request"),
        ('{"name": "x", "data": "\\ud800", "baseRevision": 0}', 400, "invalid_request"),
        ("", 422, "invalid_field"),
        ("[]", 422, "invalid_field"),
        ("null", 422, "invalid_field"),
        ('{"data": {}, "baseRevision": 0}', 422, "invalid_field"),
        ('{"name": 5, "data": {}, "baseRevision": 0}', 422, "invalid_field"),
        ('{"name": "x", "baseRevision": 0}', 422, "invalid_field"),
        ('{"name": "x", "data": {}}', 422, "invalid_field"),
        ('{"name": "x", "data": {}, "baseRevision": "1"}', 422, "invalid_field"),
        ('{"name": "x", "data": {}, "baseRevision": -1}', 422, "invalid_field"),
        ('{"name": "x", "data": {}, "baseRevision": 1.5}', 422, "invalid_field"),
        ('{"name": "x", "data": {}, "baseRevision": 1e30}', 422, "invalid_field"),
        ('{"name": "x", "data": {}, "baseRevision": 0, "writeId": "abc"}', 422, "invalid_field"),
        ('{"name": "x", "data": {}, "baseRevision": 0, "writeId": 7}', 422, "invalid_field"),
        ('{"name": "x", "data": {}, "baseRevision": 0, "clientUpdatedAt": 7}', 422, "invalid_field"),
        (json.dumps({"name": "n" * 1001, "data": {}, "baseRevision": 0}), 422, "invalid_field"),
    ],
)
def test_a_bad_put_body_is_a_4xx_and_stores_nothing(api, new_user, body, status, code):
    user = new_user()
    project_id = uuid.uuid4()
    assert_error(api.put(user, project_id, body), status, code)
    assert api.get(user, project_id).status == 404


def test_a_body_that_is_not_utf8_is_400(api, new_user):
    assert_error(api.put(new_user(), uuid.uuid4(), b'{"name": "\xff"}'), 400, "invalid_request")


def test_nesting_deeper_than_postgres_allows_is_400(api, new_user):
    depth = 200_000
    body = '{"name": "deep", "baseRevision": 0, "data": ' + "[" * depth + "]" * depth + "}"
    assert_error(api.put(new_user(), uuid.uuid4(), body), 400, "invalid_request")


def test_a_body_over_the_limit_is_413_naming_the_limit(api, new_user):
    limit = 4 * 1024 * 1024
    body = json.dumps({"name": "big", "data": "x" * limit, "baseRevision": 0})
    error = assert_error(api.put(new_user(), uuid.uuid4(), body), 413, "payload_too_large")
    assert str(limit) in error["message"]
    assert "MAX_BODY_BYTES" in error["message"]


def test_a_body_just_under_the_limit_is_stored(api, new_user):
    user = new_user()
    project_id = uuid.uuid4()
    envelope = json.dumps({"name": "big", "data": "", "baseRevision": 0})
    body = json.dumps({"name": "big", "data": "x" * (4 * 1024 * 1024 - len(envelope)), "baseRevision": 0})
    assert api.put(user, project_id, body).status == 200
    assert len(api.get(user, project_id).json()["data"]) == 4 * 1024 * 1024 - len(envelope)


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ("{", {}, 400, "invalid_request"),
        ('{"baseRevision": "1"}', {}, 422, "invalid_field"),
        ('{"baseRevision": -3}', {}, 422, "invalid_field"),
        ("[1]", {}, 422, "invalid_field"),
        (None, {"If-Match": "1"}, 400, "invalid_request"),
        (None, {"If-Match": '"99999999999999999999"'}, 400, "invalid_request"),
        ('{"baseRevision": 1}', {"If-Match": '"2"'}, 400, "invalid_request"),
        ('{"baseRevision": NaN}', {}, 400, "invalid_request"),
        ("[" * 100_000, {}, 400, "invalid_request"),
        ('{"baseRevision": true}', {}, 422, "invalid_field"),
        ('{"baseRevision": 1.0}', {}, 422, "invalid_field"),
        ('{"baseRevision": 9223372036854775808}', {}, 422, "invalid_field"),
    ],
)
def test_a_bad_delete_is_a_4xx_and_deletes_nothing(api, new_user, body, headers, status, code):
    user = new_user()
    project_id = api.create(user)
    assert_error(api.delete(user, project_id, body, headers=headers), status, code)
    assert api.get(user, project_id).json()["deletedAt"] is None


def test_a_bad_if_none_match_is_400(api, new_user):
    user = new_user()
    project_id = api.create(user)
    assert_error(api.get(user, project_id, headers={"If-None-Match": "yes"}), 400, "invalid_request")


def test_a_bad_include_deleted_flag_is_400(api, new_user):
    assert_error(api.list(new_user(), query="includeDeleted=maybe"), 400, "invalid_request")


def test_a_raw_nul_byte_in_the_body_is_400(api, new_user):
    body = '{"name": "x", "data": "nul \x00 here", "baseRevision": 0}'
    assert_error(api.put(new_user(), uuid.uuid4(), body), 400, "invalid_request")


DEEP = 200_000
UNREADABLE_BODIES = {
    "invalid JSON": ('{"baseRevision": 0, "name": "x", "data": {', "not valid JSON"),
    "NaN": ('{"name": "x", "data": NaN, "baseRevision": 0}', "not valid JSON"),
    "a lone surrogate": ('{"name": "x", "data": "\\ud800", "baseRevision": 0}', "not valid JSON"),
    "a \\u0000 escape": ('{"name": "x", "data": "\\u0000", "baseRevision": 0}', "\\u0000"),
    "a raw NUL byte": ('{"name": "x", "data": "\x00", "baseRevision": 0}', "NUL"),
    # In a checked member: in data, the number is kept as sent (test_projects_contract).
    "a number too large": ('{"name": "x", "data": 1, "baseRevision": 1e1000000}', "number too large"),
    "nesting too deep": ('{"baseRevision": 0, "name": "x", "data": ' + "[" * DEEP + "]" * DEEP + "}", "too deeply"),
}
POSTGRES_WORDS = ("Postgres refused", "syntax for type", "stack depth", "overflows", "Unicode escape", "byte sequence")


@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.parametrize(("body", "explained"), UNREADABLE_BODIES.values(), ids=list(UNREADABLE_BODIES))
def test_an_unreadable_body_is_400_in_our_words_not_postgres(api, new_user, method, body, explained):
    user = new_user()
    project_id = api.create(user) if method == "delete" else uuid.uuid4()
    error = assert_error(getattr(api, method)(user, project_id, body), 400, "invalid_request")
    assert explained in error["message"]
    assert not any(words in error["message"] for words in POSTGRES_WORDS), error["message"]


@pytest.mark.parametrize("revision", ["1.0", "1.50e1", "0.5", "true", '"1"', "-1", "9223372036854775808"])
def test_put_and_delete_refuse_the_same_base_revisions(api, new_user, revision):
    user = new_user()
    project_id = api.create(user)
    put = api.put(user, project_id, f'{{"name": "x", "data": {{}}, "baseRevision": {revision}}}')
    delete = api.delete(user, project_id, f'{{"baseRevision": {revision}}}')
    assert assert_error(put, 422, "invalid_field") == assert_error(delete, 422, "invalid_field")
    assert api.get(user, project_id).json()["revision"] == 1


def test_put_and_delete_read_the_same_nesting(api, new_user):
    user = new_user()
    project_id = api.create(user)
    nested = "[" * 10_000 + "]" * 10_000
    assert api.put(user, project_id, f'{{"name": "x", "data": {nested}, "baseRevision": 1}}').status == 200
    assert api.delete(user, project_id, f'{{"baseRevision": 2, "note": {nested}}}').status == 200
    too_deep = "[" * DEEP + "]" * DEEP
    put = api.put(user, project_id, f'{{"name": "x", "data": {too_deep}, "baseRevision": 3}}')
    delete = api.delete(user, project_id, f'{{"baseRevision": 3, "note": {too_deep}}}')
    assert assert_error(put, 400, "invalid_request") == assert_error(delete, 400, "invalid_request")


@pytest.mark.parametrize(
    ("body", "if_match", "revision_after"),
    [
        ("", None, 2),
        ("  ", "*", 2),
        ("{}", None, 2),
        ('{"baseRevision": null}', None, 2),
        ('{"baseRevision": 1}', None, 2),
        ("", '"1"', 2),
        ('{"baseRevision": 1}', 'W/"1"', 2),
    ],
)
def test_a_delete_takes_its_base_revision_from_the_body_or_if_match(api, new_user, body, if_match, revision_after):
    user = new_user()
    project_id = api.create(user)
    headers = {} if if_match is None else {"If-Match": if_match}
    response = api.delete(user, project_id, body, headers=headers)
    assert response.status == 200, response
    assert response.json()["revision"] == revision_after
