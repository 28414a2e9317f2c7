"""The expand migration to project_revisions on a database written by the code from before it: the
backfill, the trigger that keeps that code's writes in the history, and the rollback."""

import secrets
import uuid

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from devserver.database import BETTER_AUTH_TABLES, MIGRATIONS
from sync_core.adapters.migrations import run_migrations

EXPAND = "20261203_01_create-project-revisions"
# What the code from before the migration sends, reduced to what it does to a project's row.
OLD_PUT = """UPDATE projects SET name = %s, data = %s::json, revision = revision + 1, "updatedAt" = now()
             WHERE "userId" = %s AND id = %s"""
OLD_DELETE = """UPDATE projects SET "deletedAt" = now(), "updatedAt" = now(), revision = revision + 1
                WHERE "userId" = %s AND id = %s"""


@pytest.fixture
def old_schema(database_url):
    """A database of its own, migrated up to just before the expand migration; returns its URL."""
    name = f"migration_{secrets.token_hex(4)}"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    url = make_conninfo(database_url, dbname=name)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(BETTER_AUTH_TABLES.read_text())
    migrate(url, {})
    migrate(url, {"action": "rollback", "migration": EXPAND})
    yield url
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE {name} WITH (FORCE)")


def migrate(url: str, event: dict) -> dict:
    return run_migrations(lambda: psycopg.connect(url, autocommit=True), MIGRATIONS, event)


def revisions(connection, user_id, project_id) -> list[tuple]:
    return connection.execute(
        """SELECT revision, name, data::text, "deletedAt" IS NOT NULL, bytes FROM project_revisions
           WHERE "userId" = %s AND id = %s ORDER BY revision DESC""",
        (user_id, project_id),
    ).fetchall()


def test_backfill_trigger_and_rollback(old_schema):
    user_id, live, tombstone = "u1", uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(old_schema, autocommit=True) as connection:
        connection.execute("""INSERT INTO "user" (id, name, email, "emailVerified") VALUES ('u1', 'U', 'u@x', true)""")
        for project_id, revision, deleted in ((live, 2, False), (tombstone, 3, True)):
            connection.execute(
                """INSERT INTO projects ("userId", id, name, data, revision, "deletedAt")
                   VALUES (%s, %s, 'P', '{"v": 1}', %s, CASE WHEN %s THEN now() END)""",
                (user_id, project_id, revision, deleted),
            )

    assert migrate(old_schema, {})["applied"] == [EXPAND]
    with psycopg.connect(old_schema, autocommit=True) as connection:
        assert revisions(connection, user_id, live) == [(2, "P", '{"v": 1}', False, 8)]
        assert revisions(connection, user_id, tombstone) == [(3, "P", None, True, 0), (2, "P", '{"v": 1}', False, 8)]

        # The old code keeps running until the new one takes traffic: its writes are kept too.
        connection.execute(OLD_PUT, ("Old code", '{"v": 2}', user_id, live))
        connection.execute(OLD_DELETE, (user_id, live))
        assert revisions(connection, user_id, live)[:2] == [
            (4, "Old code", None, True, 0),
            (3, "Old code", '{"v": 2}', False, 8),
        ]

        # A write by the new code (data NULL in projects) runs no trigger: its own statement appends its revision.
        connection.execute(
            'UPDATE projects SET data = NULL, revision = 5 WHERE "userId" = %s AND id = %s', (user_id, live)
        )
        assert len(revisions(connection, user_id, live)) == 3

    migrate(old_schema, {"action": "rollback", "migration": EXPAND})
    with psycopg.connect(old_schema, autocommit=True) as connection:
        data = connection.execute('SELECT id, data::text FROM projects WHERE "userId" = %s', (user_id,)).fetchall()
        assert dict(data) == {live: '{"v": 2}', tombstone: '{"v": 1}'}
        assert connection.execute("SELECT to_regclass('public.project_revisions')").fetchone()[0] is None
