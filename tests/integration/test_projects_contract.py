"""The API contract, route by route, through the real handlers and real Postgres."""

import json
import re
import uuid
from decimal import Decimal

import pytest

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_a_new_project_is_created_at_revision_1(api, new_user):
    user = new_user()
    project_id = uuid.uuid4()
    response = api.put(user, project_id, {"name": "Poster", "data": {"frames": [1, 2]}, "baseRevision": 0})
    assert response.status == 200
    assert response.headers["etag"] == '"1"'
    receipt = response.json()
    assert receipt["id"] == str(project_id) and receipt["revision"] == 1
    assert ISO_UTC.match(receipt["updatedAt"])


def test_get_returns_the_stored_project_with_its_etag(api, new_user):
    user = new_user()
    project_id = api.create(user, name="Poster", data={"frames": [{"w": 1080}]})
    response = api.get(user, project_id)
    assert response.status == 200
    assert response.headers["etag"] == '"1"'
    assert "no-cache" in response.headers["cache-control"]
    project = response.json()
    assert project["name"] == "Poster" and project["data"] == {"frames": [{"w": 1080}]}
    assert project["revision"] == 1 and project["deletedAt"] is None and ISO_UTC.match(project["updatedAt"])


def test_if_none_match_with_the_current_etag_is_304(api, new_user):
    user = new_user()
    project_id = api.create(user)
    assert api.get(user, project_id, headers={"If-None-Match": '"1"'}).status == 304
    assert api.get(user, project_id, headers={"If-None-Match": 'W/"7", "1"'}).status == 304
    assert api.get(user, project_id, headers={"If-None-Match": "*"}).status == 304
    assert api.get(user, project_id, headers={"If-None-Match": '"2"'}).status == 200


def test_put_at_the_stored_revision_updates_and_bumps_it(api, new_user):
    user = new_user()
    project_id = api.create(user)
    before = api.get(user, project_id).json()
    response = api.put(user, project_id, {"name": "Renamed", "data": {"v": 2}, "baseRevision": 1})
    assert response.status == 200 and response.json()["revision"] == 2
    assert response.headers["etag"] == '"2"'
    after = api.get(user, project_id).json()
    assert after["name"] == "Renamed" and after["data"] == {"v": 2} and after["revision"] == 2
    assert after["updatedAt"] >= before["updatedAt"]


def test_a_stale_put_is_409_with_the_server_copy(api, new_user):
    user = new_user()
    project_id = api.create(user, data={"v": "server"})
    api.put(user, project_id, {"name": "Second", "data": {"v": "server 2"}, "baseRevision": 1})
    response = api.put(user, project_id, {"name": "Mine", "data": {"v": "mine"}, "baseRevision": 1})
    assert response.status == 409
    server = response.json()["server"]
    assert server["revision"] == 2 and server["name"] == "Second" and server["data"] == {"v": "server 2"}
    assert api.get(user, project_id).json()["data"] == {"v": "server 2"}


def test_base_revision_0_on_an_existing_project_is_a_conflict(api, new_user):
    user = new_user()
    project_id = api.create(user)
    assert api.put(user, project_id, {"name": "x", "data": {}, "baseRevision": 0}).status == 409


def test_a_new_row_is_accepted_whatever_the_base_revision(api, new_user):
    user = new_user()
    response = api.put(user, uuid.uuid4(), {"name": "x", "data": {}, "baseRevision": 41})
    assert response.status == 200 and response.json()["revision"] == 1


def test_a_retried_put_with_the_same_write_id_answers_200_once_applied(api, new_user):
    user = new_user()
    project_id = api.create(user)
    write = {"name": "x", "data": {"v": 2}, "baseRevision": 1, "writeId": str(uuid.uuid4())}
    first = api.put(user, project_id, write)
    retried = api.put(user, project_id, write)
    assert first.status == retried.status == 200
    assert first.json() == retried.json() and retried.json()["revision"] == 2
    assert api.get(user, project_id).json()["revision"] == 2


def test_a_write_id_only_replays_the_write_that_produced_the_stored_revision(api, new_user):
    user = new_user()
    project_id = api.create(user)
    first_write = {"name": "a", "data": {}, "baseRevision": 1, "writeId": str(uuid.uuid4())}
    assert api.put(user, project_id, first_write).status == 200
    assert api.put(user, project_id, {"name": "b", "data": {}, "baseRevision": 2}).status == 200
    assert api.put(user, project_id, first_write).status == 409


def test_a_new_write_id_at_a_stale_revision_is_still_a_conflict(api, new_user):
    user = new_user()
    project_id = api.create(user)
    api.put(user, project_id, {"name": "a", "data": {}, "baseRevision": 1, "writeId": str(uuid.uuid4())})
    stale = {"name": "b", "data": {}, "baseRevision": 1, "writeId": str(uuid.uuid4())}
    assert api.put(user, project_id, stale).status == 409


def test_client_updated_at_is_accepted_and_not_trusted_for_ordering(api, new_user):
    user = new_user()
    project_id = uuid.uuid4()
    body = {"name": "x", "data": {}, "baseRevision": 0, "clientUpdatedAt": "1999-01-01T00:00:00.000Z"}
    receipt = api.put(user, project_id, body).json()
    assert receipt["updatedAt"] > "2000"


def test_list_is_newest_first_without_data_and_hides_tombstones(api, new_user):
    user = new_user()
    older = api.create(user, name="older")
    newer = api.create(user, name="newer")
    gone = api.create(user, name="gone")
    api.delete(user, gone)
    response = api.list(user)
    assert response.status == 200
    listing = response.json()
    assert [p["id"] for p in listing] == [str(newer), str(older)]
    assert set(listing[0]) == {"id", "name", "revision", "updatedAt", "deletedAt"}
    with_deleted = api.list(user, query="includeDeleted=1").json()
    assert [p["id"] for p in with_deleted] == [str(gone), str(newer), str(older)]
    assert with_deleted[0]["deletedAt"] is not None and with_deleted[0]["revision"] == 2


def test_list_of_a_new_user_is_empty(api, new_user):
    assert api.list(new_user()).json() == []


def test_delete_with_the_base_revision_tombstones(api, new_user):
    user = new_user()
    project_id = api.create(user)
    response = api.delete(user, project_id, {"baseRevision": 1})
    assert response.status == 200 and response.headers["etag"] == '"2"'
    tombstone = response.json()
    assert tombstone["id"] == str(project_id) and tombstone["revision"] == 2
    assert ISO_UTC.match(tombstone["deletedAt"]) and tombstone["updatedAt"] == tombstone["deletedAt"]
    stored = api.get(user, project_id)
    assert stored.status == 200 and stored.json()["deletedAt"] == tombstone["deletedAt"]


def test_delete_with_if_match(api, new_user):
    user = new_user()
    project_id = api.create(user)
    assert api.delete(user, project_id, headers={"If-Match": '"1"'}).status == 200


def test_a_stale_delete_is_409_with_the_server_copy(api, new_user):
    user = new_user()
    project_id = api.create(user)
    api.put(user, project_id, {"name": "edited", "data": {"v": 2}, "baseRevision": 1})
    response = api.delete(user, project_id, headers={"If-Match": '"1"'})
    assert response.status == 409
    assert response.json()["server"]["name"] == "edited"
    assert api.get(user, project_id).json()["deletedAt"] is None


def test_delete_without_a_base_revision_is_unconditional(api, new_user):
    user = new_user()
    project_id = api.create(user)
    api.put(user, project_id, {"name": "edited", "data": {}, "baseRevision": 1})
    assert api.delete(user, project_id).json()["revision"] == 3


def test_deleting_a_tombstone_again_returns_it_unchanged(api, new_user):
    user = new_user()
    project_id = api.create(user)
    first = api.delete(user, project_id, {"baseRevision": 1})
    again = api.delete(user, project_id, {"baseRevision": 1})
    assert again.status == 200 and again.json() == first.json()


def test_deleting_an_unknown_project_is_404(api, new_user):
    response = api.delete(new_user(), uuid.uuid4())
    assert response.status == 404 and response.json()["error"]["code"] == "project_not_found"


def test_put_on_a_tombstone_at_its_revision_restores_it(api, new_user):
    user = new_user()
    project_id = api.create(user)
    api.delete(user, project_id)
    response = api.put(user, project_id, {"name": "back", "data": {"v": 3}, "baseRevision": 2})
    assert response.status == 200 and response.json()["revision"] == 3
    restored = api.get(user, project_id).json()
    assert restored["deletedAt"] is None and restored["name"] == "back"
    assert [p["id"] for p in api.list(user).json()] == [str(project_id)]


def test_a_stale_put_on_a_tombstone_gets_the_tombstone_back(api, new_user):
    user = new_user()
    project_id = api.create(user)
    api.delete(user, project_id)
    response = api.put(user, project_id, {"name": "x", "data": {}, "baseRevision": 1})
    assert response.status == 409 and response.json()["server"]["deletedAt"] is not None


def test_get_of_an_unknown_project_is_404(api, new_user):
    response = api.get(new_user(), uuid.uuid4())
    assert response.status == 404
    assert response.json()["error"]["code"] == "project_not_found"


def test_data_comes_back_exactly_as_sent(api, new_user):
    user = new_user()
    data = (
        '{"huge": 123456789012345678901234567890, "tiny": 1e-400, "far": 1e400,'
        ' "precise": 0.1000000000000000055511151231257827, "trailing": 1.50,'
        ' "text": "é ✓ 𝄞 \\"q\\" \\\\ \\u00e9", "nested": [[[]], {}], "bool": false, "nothing": null}'
    )
    project_id = uuid.uuid4()
    body = f'{{"name": "numbers", "data": {data}, "baseRevision": 0}}'
    assert api.put(user, project_id, body).status == 200
    returned = api.get(user, project_id).text
    assert f'"data" : {data},' in returned
    parse = {"parse_float": Decimal, "parse_int": Decimal}
    assert json.loads(returned, **parse)["data"] == json.loads(data, **parse)


def test_a_huge_exponent_cannot_make_the_stored_project_grow(api, new_user):
    """jsonb would print 1e100000 as 100,001 digits: a small body must not become an unreadable project."""
    user = new_user()
    project_id = uuid.uuid4()
    data = "[" + ", ".join(["1e100000", "-1e-16000"] * 500) + "]"
    assert api.put(user, project_id, f'{{"name": "n", "data": {data}, "baseRevision": 0}}').status == 200
    returned = api.get(user, project_id)
    assert returned.status == 200
    assert len(returned.text) < len(data) + 200
    conflict = api.put(user, project_id, '{"name": "n", "data": 1, "baseRevision": 0}')
    assert conflict.status == 409
    assert len(conflict.text) < len(data) + 200


def test_a_number_too_large_for_numeric_is_kept_in_data_as_sent(api, new_user):
    """PUT reads data as json, never as jsonb (issue 15): a number is text, whatever its size."""
    user = new_user()
    project_id = uuid.uuid4()
    data = '{"far": [1e1000000, -1E-999999, 123456789012345678901234567890.5]}'
    assert api.put(user, project_id, f'{{"name": "n", "data": {data}, "baseRevision": 0}}').status == 200
    assert f'"data" : {data}' in api.get(user, project_id).text


@pytest.mark.parametrize(
    ("members", "status", "name", "data"),
    [
        ('"name": 5, "name": "last", "data": 1, "data": [2]', 200, "last", [2]),
        ('"name": "first", "name": 5, "data": 1', 422, None, None),
        ('"data": 1, "name": "n", "data": {"kept": true}', 200, "n", {"kept": True}),
    ],
    ids=["last name and data win", "a wrong last name is refused", "the last data wins"],
)
def test_a_member_given_twice_is_read_as_its_last_by_the_check_and_the_write(
    api, new_user, members, status, name, data
):
    user = new_user()
    project_id = uuid.uuid4()
    assert api.put(user, project_id, f'{{{members}, "baseRevision": 0}}').status == status
    if status == 200:
        stored = api.get(user, project_id).json()
        assert (stored["name"], stored["data"]) == (name, data)


def test_data_may_be_any_json_value_including_null(api, new_user):
    user = new_user()
    for data in ([1, 2], "text", 3, None):
        project_id = uuid.uuid4()
        assert api.put(user, project_id, {"name": "x", "data": data, "baseRevision": 0}).status == 200
        assert api.get(user, project_id).json()["data"] == data


def test_unicode_names_round_trip(api, new_user):
    user = new_user()
    project_id = api.create(user, name="Zoë's 海报 🎨")
    assert api.get(user, project_id).json()["name"] == "Zoë's 海报 🎨"


@pytest.mark.parametrize("name", ['Poster "A"', "Ünïcødé \\ back\tslash", ""])
def test_get_answers_byte_for_byte_the_document_postgres_builds_for_the_revision(api, new_user, database_url, name):
    # GET's statement sends the stored data apart from the fields around it, and the store joins them:
    # the answer is what one json_build_object of the revision writes, for a current and an older revision.
    import psycopg

    from sync_core.adapters.projects_sql import _document

    user = new_user()
    project_id = api.create(user, name=name, data={"frames": [{"w": 1080, "text": "é \\u00e9"}]})
    update = {"name": name + "!", "data": [1.50, None], "baseRevision": 1}
    assert api.put(user, project_id, update).status == 200
    with psycopg.connect(database_url) as connection:
        built = dict(
            connection.execute(
                f"SELECT found.revision, {_document('found')}::text FROM public.project_revisions AS found"
                ' WHERE found."userId" = %s AND found.id = %s',
                (user.id, project_id),
            ).fetchall()
        )
    assert api.get(user, project_id).body.decode() == built[2]
    assert api.revision(user, project_id, 1).body.decode() == built[1]
