"""Every accepted write moves the project's place in the changes feed; a refused one leaves it."""

import uuid

import psycopg


def _change_xid(database_url: str, user, project_id: uuid.UUID) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            'SELECT "changeXid"::text FROM public.projects WHERE "userId" = %s AND id = %s', (user.id, project_id)
        ).fetchone()
    return int(row[0])


def test_puts_and_deletes_move_the_change_order_and_refusals_do_not(api, new_user, database_url):
    user = new_user()
    project_id = api.create(user)
    created = _change_xid(database_url, user, project_id)

    assert api.put(user, project_id, {"name": "P", "data": {"v": 2}, "baseRevision": 1}).status == 200
    updated = _change_xid(database_url, user, project_id)
    assert updated > created

    assert api.put(user, project_id, {"name": "P", "data": {"v": 3}, "baseRevision": 1}).status == 409
    assert _change_xid(database_url, user, project_id) == updated, "a conflict changes nothing"

    assert api.delete(user, project_id, {"baseRevision": 2}).status == 200
    deleted = _change_xid(database_url, user, project_id)
    assert deleted > updated

    assert api.put(user, project_id, {"name": "P", "data": {"v": 4}, "baseRevision": 3}).status == 200
    assert _change_xid(database_url, user, project_id) > deleted, "restoring a tombstone is a change too"
