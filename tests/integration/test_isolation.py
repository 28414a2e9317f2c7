"""One user never sees or touches another user's rows, on any route, even knowing the project id."""

import uuid


def test_another_users_project_is_indistinguishable_from_a_missing_one(api, new_user):
    owner, intruder = new_user(), new_user()
    project_id = api.create(owner, name="secret", data={"v": "owner"})
    missing = uuid.uuid4()

    assert api.get(intruder, project_id).json() == _with_id(api.get(intruder, missing).json(), missing, project_id)
    assert api.get(intruder, project_id).status == 404
    assert api.delete(intruder, project_id, {"baseRevision": 1}).status == 404
    assert api.list(intruder).json() == []
    assert api.list(intruder, query="includeDeleted=1").json() == []

    untouched = api.get(owner, project_id).json()
    assert untouched["revision"] == 1
    assert untouched["data"] == {"v": "owner"}
    assert untouched["deletedAt"] is None


def test_the_same_id_in_two_accounts_is_two_projects(api, new_user):
    owner, other = new_user(), new_user()
    project_id = api.create(owner, name="owner's", data={"v": "owner"})
    response = api.put(other, project_id, {"name": "other's", "data": {"v": "other"}, "baseRevision": 0})
    assert response.status == 200
    assert response.json()["revision"] == 1
    assert api.get(owner, project_id).json()["data"] == {"v": "owner"}
    assert api.get(other, project_id).json()["data"] == {"v": "other"}
    api.delete(other, project_id)
    assert api.get(owner, project_id).json()["deletedAt"] is None
    assert [p["name"] for p in api.list(owner).json()] == ["owner's"]


def test_a_conflict_never_reveals_another_users_copy(api, new_user):
    owner, other = new_user(), new_user()
    project_id = api.create(owner, data={"v": "owner"})
    api.put(owner, project_id, {"name": "x", "data": {"v": "owner 2"}, "baseRevision": 1})
    api.create(other, project_id=project_id, data={"v": "other"})
    response = api.put(other, project_id, {"name": "x", "data": {}, "baseRevision": 7})
    assert response.status == 409
    assert response.json()["server"]["data"] == {"v": "other"}


def _with_id(error_body: dict, missing: uuid.UUID, project_id: uuid.UUID) -> dict:
    """The 404 for a missing id, as it would read for `project_id`."""
    error_body["error"]["message"] = error_body["error"]["message"].replace(str(missing), str(project_id))
    return error_body


def test_another_users_history_is_indistinguishable_from_a_missing_one(api, new_user):
    owner, intruder = new_user(), new_user()
    project_id = api.create(owner, name="secret", data={"v": "owner"})
    api.put(owner, project_id, {"name": "secret 2", "data": {"v": "owner 2"}, "baseRevision": 1})
    missing = uuid.uuid4()

    listing = api.revisions(intruder, project_id)
    assert listing.status == 404
    assert listing.json() == _with_id(api.revisions(intruder, missing).json(), missing, project_id)
    for revision in (1, 2):
        kept = api.revision(intruder, project_id, revision)
        assert kept.status == 404
        assert kept.json() == _with_id(api.revision(intruder, missing, revision).json(), missing, project_id)
        assert api.revision(intruder, project_id, revision, headers={"If-None-Match": "*"}).status == 404
    assert [kept["revision"] for kept in api.revisions(owner, project_id).json()] == [2, 1]


def test_the_same_id_in_two_accounts_has_two_histories(api, new_user):
    owner, other = new_user(), new_user()
    project_id = api.create(owner, name="owner's", data={"v": "owner"})
    api.create(other, project_id=project_id, name="other's", data={"v": "other"})
    assert [kept["name"] for kept in api.revisions(owner, project_id).json()] == ["owner's"]
    assert api.revision(other, project_id, 1).json()["data"] == {"v": "other"}
