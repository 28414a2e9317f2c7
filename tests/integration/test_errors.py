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
