"""Project history through the real handlers: every accepted write keeps the revision it replaced, each
kept revision reads back byte for byte, and a restore is a normal PUT that can itself be undone."""

import json
import uuid

from tests.integration.test_projects_contract import ISO_UTC


def _put(api, user, project_id, name, data, base_revision):
    response = api.put(user, project_id, {"name": name, "data": data, "baseRevision": base_revision})
    assert response.status == 200, response
    return response.json()["revision"]


def test_the_history_lists_every_revision_newest_first_the_current_one_included(api, new_user):
    user = new_user()
    project_id = api.create(user, name="First", data={"v": 1})
    _put(api, user, project_id, "Second", {"v": 2, "pad": "x" * 100}, 1)
    assert api.delete(user, project_id, {"baseRevision": 2}).status == 200

    response = api.revisions(user, project_id)
    assert response.status == 200 and "no-cache" in response.headers["cache-control"]
    history = response.json()
    assert [(kept["revision"], kept["name"]) for kept in history] == [(3, "Second"), (2, "Second"), (1, "First")]
    assert all(set(kept) == {"revision", "name", "updatedAt", "deletedAt", "bytes"} for kept in history)
    assert ISO_UTC.match(history[0]["deletedAt"]) and history[1]["deletedAt"] is None
    assert [kept["bytes"] for kept in history] == [0, len(json.dumps({"v": 2, "pad": "x" * 100})), len('{"v": 1}')]
    assert history[0]["updatedAt"] >= history[1]["updatedAt"] >= history[2]["updatedAt"]


def test_a_kept_revision_reads_back_byte_for_byte_with_its_etag(api, new_user):
    user = new_user()
    project_id = uuid.uuid4()
    sent = '{"frames": [1.50, 1e400, {"b": 2,   "a": 1}], "text": "caf\\u00e9"}'
    first = api.put(user, project_id, f'{{"name": "Poster", "data": {sent}, "baseRevision": 0}}')
    assert first.status == 200
    _put(api, user, project_id, "Poster", {"v": "later"}, 1)

    response = api.revision(user, project_id, 1)
    assert response.status == 200 and response.headers["etag"] == '"1"'
    assert f'"data" : {sent},' in response.text
    kept = response.json()
    assert set(kept) == {"id", "name", "data", "revision", "updatedAt", "deletedAt"}
    assert (kept["id"], kept["name"], kept["revision"], kept["deletedAt"]) == (str(project_id), "Poster", 1, None)
    assert api.revision(user, project_id, 2).json()["data"] == {"v": "later"}


def test_if_none_match_on_a_revision_is_304(api, new_user):
    user = new_user()
    project_id = api.create(user)
    assert api.revision(user, project_id, 1, headers={"If-None-Match": '"1"'}).status == 304
    assert api.revision(user, project_id, 1, headers={"If-None-Match": "*"}).status == 304
    assert api.revision(user, project_id, 1, headers={"If-None-Match": '"2"'}).status == 200


def test_a_tombstone_revision_has_no_data_and_the_one_before_it_keeps_the_content(api, new_user):
    user = new_user()
    project_id = api.create(user, name="Doomed", data={"v": "content"})
    api.delete(user, project_id)
    tombstone = api.revision(user, project_id, 2).json()
    assert tombstone["data"] is None and tombstone["deletedAt"] is not None
    assert api.revision(user, project_id, 1).json()["data"] == {"v": "content"}
    assert api.get(user, project_id).json()["data"] is None, "a project is its newest revision"


def test_revisions_never_written_or_of_unknown_projects_are_404(api, new_user):
    user = new_user()
    project_id = api.create(user)
    missing = api.revision(user, project_id, 2)
    assert missing.status == 404 and missing.json()["error"]["code"] == "revision_not_found"
    assert api.revision(user, uuid.uuid4(), 1).status == 404
    unknown = api.revisions(user, uuid.uuid4())
    assert unknown.status == 404 and unknown.json()["error"]["code"] == "project_not_found"


def test_a_malformed_revision_or_id_is_400(api, new_user):
    user = new_user()
    project_id = api.create(user)
    for revision in ("0", "01", "-1", "x", "1.0", "\u0661", "9223372036854775808", "99999999999999999999"):
        response = api.revision(user, project_id, revision)
        assert response.status == 400 and response.json()["error"]["code"] == "invalid_request", revision
    assert api.revision(user, project_id, "9223372036854775807").status == 404
    assert api.revisions(user, "NOT-A-UUID").status == 400


def test_a_batch_keeps_each_changes_revision(api, new_user):
    user = new_user()
    written, deleted = api.create(user, data={"v": 1}), api.create(user, data={"v": "gone"})
    batch = {
        "changes": [
            {"id": str(written), "name": "Batch", "data": {"v": 2}, "baseRevision": 1},
            {"id": str(deleted), "deleted": True, "baseRevision": 1},
        ]
    }
    assert api.push(user, batch).status == 200
    assert [kept["revision"] for kept in api.revisions(user, written).json()] == [2, 1]
    assert api.revision(user, written, 2).json()["data"] == {"v": 2}
    assert api.revision(user, written, 1).json()["data"] == {"v": 1}
    assert api.revision(user, deleted, 2).json()["deletedAt"] is not None
    assert api.revision(user, deleted, 1).json()["data"] == {"v": "gone"}


def test_a_conflict_and_a_replay_keep_no_revision(api, new_user):
    user = new_user()
    project_id = api.create(user)
    write = {"name": "x", "data": {"v": 2}, "baseRevision": 1, "writeId": str(uuid.uuid4())}
    assert api.put(user, project_id, write).status == 200
    assert api.put(user, project_id, write).status == 200, "the same writeId is a replay"
    assert api.put(user, project_id, {"name": "x", "data": {"v": 3}, "baseRevision": 1}).status == 409
    assert [kept["revision"] for kept in api.revisions(user, project_id).json()] == [2, 1]


def test_restore_is_a_put_of_an_old_revision_and_can_itself_be_undone(api, new_user):
    user = new_user()
    project_id = api.create(user, name="Good", data={"v": "good"})
    _put(api, user, project_id, "Overwritten", {"v": "keep mine from another device"}, 1)

    old = api.revision(user, project_id, 1).json()
    assert _put(api, user, project_id, old["name"], old["data"], 2) == 3
    current = api.get(user, project_id).json()
    assert (current["name"], current["data"]) == ("Good", {"v": "good"})

    undone = api.revision(user, project_id, 2).json()
    assert _put(api, user, project_id, undone["name"], undone["data"], 3) == 4
    assert api.get(user, project_id).json()["data"] == {"v": "keep mine from another device"}
    assert [kept["revision"] for kept in api.revisions(user, project_id).json()] == [4, 3, 2, 1]


def test_restoring_a_tombstoned_project_brings_back_its_last_content(api, new_user):
    user = new_user()
    project_id = api.create(user, name="Deleted by mistake", data={"v": "precious"})
    api.delete(user, project_id, {"baseRevision": 1})
    history = api.revisions(user, project_id).json()
    last_content = next(kept for kept in history if kept["deletedAt"] is None)

    old = api.revision(user, project_id, last_content["revision"]).json()
    assert _put(api, user, project_id, old["name"], old["data"], history[0]["revision"]) == 3
    restored = api.get(user, project_id).json()
    assert restored["deletedAt"] is None and restored["data"] == {"v": "precious"}
    assert [p["id"] for p in api.list(user).json()] == [str(project_id)]
