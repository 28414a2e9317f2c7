"""POST /api/changes through the real handler: each change answered as its own PUT or DELETE would be."""

import json
import uuid

import pytest

from tests.support.database import hold_uncommitted


def put_change(project_id, *, name="p", data=None, base=0, **extra):
    return {
        "id": str(project_id),
        "name": name,
        "data": data if data is not None else {"v": 1},
        "baseRevision": base,
        **extra,
    }


def results(response):
    assert response.status == 200, response
    return response.json()["results"]


def test_each_change_gets_its_own_answer_in_request_order(api, new_user):
    user = new_user()
    kept, stale, deleted = api.create(user), api.create(user), api.create(user)
    new, missing = uuid.uuid4(), uuid.uuid4()
    answers = results(
        api.push(
            user,
            {
                "changes": [
                    put_change(new, name="new"),
                    put_change(stale, base=0),
                    put_change(kept, name="kept", base=1),
                    {"id": str(deleted), "deleted": True, "baseRevision": 1},
                    {"id": str(missing), "deleted": True},
                    {"id": str(uuid.uuid4()), "data": {}, "baseRevision": 0},
                ]
            },
        )
    )
    assert [answer["status"] for answer in answers] == [200, 409, 200, 200, 404, 422]
    assert answers[0]["id"] == str(new) and answers[0]["revision"] == 1 and answers[0]["updatedAt"]
    assert answers[1]["server"] == api.get(user, stale).json()
    assert answers[2]["revision"] == 2 and api.get(user, kept).json()["name"] == "kept"
    assert answers[3]["revision"] == 2 and api.get(user, deleted).json()["deletedAt"] is not None
    assert answers[4]["error"] == {"code": "project_not_found", "message": f"no project {missing} in this account"}
    assert answers[5]["error"] == {"code": "invalid_field", "message": "name must be a string"}


def test_the_409_carries_the_server_copy_a_put_would(api, new_user):
    user = new_user()
    project_id = api.create(user)
    stale = put_change(project_id, base=0)
    put_conflict = api.put(user, project_id, {key: stale[key] for key in ("name", "data", "baseRevision")})
    answer = results(api.push(user, {"changes": [stale]}))[0]
    assert put_conflict.status == 409
    assert answer == {"id": str(project_id), "status": 409, "server": put_conflict.json()["server"]}


def test_data_is_stored_as_the_exact_text_sent(api, new_user):
    user, project_id = new_user(), uuid.uuid4()
    change = f'{{"id": "{project_id}", "name": "n", "data": {{"big": 1e400, "k": 1.50}}, "baseRevision": 0}}'
    body = f'{{"changes": [{change}]}}'
    assert results(api.push(user, body))[0]["status"] == 200
    assert '"data" : {"big": 1e400, "k": 1.50},' in api.get(user, project_id).text


def test_a_replayed_write_id_answers_its_200_again(api, new_user):
    user, project_id, write_id = new_user(), uuid.uuid4(), str(uuid.uuid4())
    batch = {"changes": [put_change(project_id, writeId=write_id)]}
    first = results(api.push(user, batch))[0]
    again = results(api.push(user, batch))[0]
    assert first == again and first["status"] == 200 and first["revision"] == 1
    assert api.get(user, project_id).json()["revision"] == 1


def test_a_put_restores_a_tombstone(api, new_user):
    user = new_user()
    project_id = api.create(user)
    assert results(api.push(user, {"changes": [{"id": str(project_id), "deleted": True}]}))[0]["revision"] == 2
    restored = results(api.push(user, {"changes": [put_change(project_id, name="back", base=2)]}))[0]
    assert restored["status"] == 200 and restored["revision"] == 3
    assert api.get(user, project_id).json()["deletedAt"] is None


def test_deletes_with_and_without_a_base_revision(api, new_user):
    user = new_user()
    conditional, stale, unconditional = api.create(user), api.create(user), api.create(user)
    answers = results(
        api.push(
            user,
            {
                "changes": [
                    {"id": str(conditional), "deleted": True, "baseRevision": 1},
                    {"id": str(stale), "deleted": True, "baseRevision": 7},
                    {"id": str(unconditional), "deleted": True},
                ]
            },
        )
    )
    assert [answer["status"] for answer in answers] == [200, 409, 200]
    assert answers[1]["server"]["revision"] == 1 and answers[1]["server"]["deletedAt"] is None
    again = results(api.push(user, {"changes": [{"id": str(conditional), "deleted": True, "baseRevision": 1}]}))
    assert again[0]["status"] == 200 and again[0]["revision"] == 2, "a tombstone deleted again is answered unchanged"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": 5, "name": "n", "data": 1, "baseRevision": 0}, "id must be a UUID in its canonical spelling"),
        (
            {"id": "0B7D1E7A-6A4F-4C1E-9A51-3C3D2F1E0A01", "name": "n", "data": 1, "baseRevision": 0},
            "id must be a UUID",
        ),
        ({"name": "n", "data": 1, "baseRevision": 1.0}, "baseRevision must be a whole number, 0 or more"),
        ({"name": "n", "baseRevision": 0}, "data is required"),
        ({"name": "n", "data": 1, "baseRevision": 0, "writeId": "x"}, "writeId must be a UUID"),
        ({"deleted": True, "baseRevision": -1}, "baseRevision must be a whole number, 0 or more"),
        ({"deleted": "yes"}, "deleted must be true or false"),
    ],
)
def test_a_refused_change_is_a_422_with_puts_and_deletes_words_and_blocks_no_other(api, new_user, change, message):
    user, written = new_user(), uuid.uuid4()
    refused = {"id": str(uuid.uuid4()), **change}
    answers = results(api.push(user, {"changes": [refused, put_change(written)]}))
    assert answers[0]["status"] == 422 and answers[0]["error"]["message"].startswith(message)
    assert answers[1]["status"] == 200 and api.get(user, written).status == 200


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("{", 400, "the body is not valid JSON"),
        ("", 422, "the body must be a JSON object"),
        ("[]", 422, "the body must be a JSON object"),
        ('{"changes": {}}', 422, "changes must be an array"),
        (json.dumps({"changes": [put_change(uuid.uuid4()) for _ in range(101)]}), 422, "changes holds 101 items"),
    ],
)
def test_a_wrong_body_refuses_the_whole_batch(api, new_user, body, status, message):
    response = api.push(new_user(), body)
    assert response.status == status, response
    assert response.json()["error"]["message"].startswith(message)


def test_an_id_twice_refuses_the_whole_batch_and_writes_nothing(api, new_user):
    user, twice, other = new_user(), uuid.uuid4(), uuid.uuid4()
    response = api.push(user, {"changes": [put_change(other), put_change(twice), {"id": str(twice), "deleted": True}]})
    assert response.status == 422
    assert response.json()["error"]["message"] == f"project id {twice} appears more than once in changes"
    assert api.get(user, other).status == 404


def test_a_hundred_changes_are_one_batch(api, new_user):
    user = new_user()
    answers = results(api.push(user, {"changes": [put_change(uuid.uuid4()) for _ in range(100)]}))
    assert [answer["status"] for answer in answers] == [200] * 100
    assert len(api.list(user).json()) == 100


def test_another_users_project_is_missing_and_untouched(api, new_user):
    owner, intruder = new_user(), new_user()
    project_id = api.create(owner, name="owner's")
    answers = results(
        api.push(intruder, {"changes": [{"id": str(project_id), "deleted": True}, put_change(uuid.uuid4())]})
    )
    assert answers[0]["status"] == 404
    written = results(api.push(intruder, {"changes": [put_change(project_id, name="intruder's")]}))[0]
    assert written["status"] == 200 and written["revision"] == 1
    owners = api.get(owner, project_id).json()
    assert (owners["name"], owners["revision"], owners["deletedAt"]) == ("owner's", 1, None)


def test_a_first_write_committed_while_the_batch_waits_is_a_409_and_the_others_are_written(api, new_user, database_url):
    """Racing first writes: the batch reruns the changes that raced; nothing is lost, nothing is a 500."""
    user, raced, other = new_user(), uuid.uuid4(), uuid.uuid4()
    other_device = hold_uncommitted(
        database_url,
        """INSERT INTO projects ("userId", id, name, data, revision, "writeId")
           VALUES (%s, %s, 'other device', '{"from": "other"}', 1, gen_random_uuid())""",
        (user.id, raced),
    )
    answers = results(api.push(user, {"changes": [put_change(other), put_change(raced, name="mine")]}))
    other_device.join()
    assert [answer["status"] for answer in answers] == [200, 409]
    assert answers[0]["revision"] == 1, "the rerun did not write the first change again"
    assert answers[1]["server"]["name"] == "other device"
    assert api.get(user, other).json()["revision"] == 1


@pytest.mark.parametrize(
    "change",
    [1, "x", None, [], {}, {"id": None}, {"id": ["x"]}, {"id": "x", "deleted": True}, {"deleted": None}],
    ids=repr,
)
def test_an_odd_change_is_a_422_of_its_own(api, new_user, change):
    answers = results(api.push(new_user(), {"changes": [change, put_change(uuid.uuid4())]}))
    assert [answer["status"] for answer in answers] == [422, 200]


@pytest.mark.parametrize(
    "body", ['{"changes": null}', '{"changes": 1}', '{"changes": "x"}', '{"changes": []}', "null", '"x"', "1e400"]
)
def test_an_odd_body_is_answered_never_a_500(api, new_user, body):
    response = api.push(new_user(), body)
    assert response.status in (200, 422), response
    if response.status == 200:
        assert response.json() == {"results": []}
