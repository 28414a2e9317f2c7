"""Each function's database role can do what its statements do and nothing else: the API's cannot
change the schema or write Better Auth's tables, yet serves every route (the whole integration suite
runs its handlers as that role: tests/conftest.py); the consumer's and the purge's touch only their tables."""

import uuid

import psycopg
import pytest

from devserver.database import API_ROLE, LIMIT_CONSUMER_ROLE, PURGE_ROLE, as_role
from sync_core.adapters.http.routes import ROUTERS
from tests.support.lambda_events import FUNCTIONS

BETTER_AUTH_TABLES = ('"user"', '"session"', '"account"', '"verification"')

SCHEMA_CHANGES = [
    "CREATE TABLE public.intruder (id int)",
    "ALTER TABLE public.projects ADD COLUMN intruder int",
    "DROP TABLE public.rate_limits",
    "TRUNCATE public.projects",
    "CREATE INDEX intruder_idx ON public.projects (name)",
    "CREATE FUNCTION public.intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
]
BETTER_AUTH_WRITES = [
    """INSERT INTO public."user" (id, name, email, "emailVerified") VALUES ('intruder', 'x', 'x@example.com', true)""",
    """UPDATE public."session" SET "expiresAt" = now() + interval '1 year'""",
    'DELETE FROM public."session"',
    'DELETE FROM public."user"',
    'UPDATE public."account" SET password = NULL',
    'DELETE FROM public."verification"',
]


def refused(database_url: str, role: str, sql: str) -> bool:
    with psycopg.connect(as_role(database_url, role), autocommit=True) as connection:
        try:
            connection.execute(sql)
        except psycopg.errors.InsufficientPrivilege:
            return True
    return False


@pytest.mark.parametrize("role", [API_ROLE, LIMIT_CONSUMER_ROLE, PURGE_ROLE])
@pytest.mark.parametrize("sql", SCHEMA_CHANGES)
def test_no_function_role_changes_the_schema(database_url, role, sql):
    assert refused(database_url, role, sql)


@pytest.mark.parametrize("role", [API_ROLE, LIMIT_CONSUMER_ROLE, PURGE_ROLE])
@pytest.mark.parametrize("sql", BETTER_AUTH_WRITES)
def test_no_function_role_writes_better_auths_tables(database_url, role, sql):
    assert refused(database_url, role, sql)


@pytest.mark.parametrize("table", ['"account"', '"verification"'])
def test_the_api_reads_no_better_auth_table_but_sessions_and_users(database_url, table):
    assert refused(database_url, API_ROLE, f"SELECT FROM public.{table}")


@pytest.mark.parametrize("sql", ["SELECT FROM public._yoyo_migration", "DELETE FROM public._yoyo_migration"])
def test_the_api_leaves_the_migrations_bookkeeping_alone(database_url, sql):
    assert refused(database_url, API_ROLE, sql)


def test_the_purge_reads_no_sessions_and_the_consumer_no_projects(database_url):
    assert refused(database_url, PURGE_ROLE, 'SELECT FROM public."session"')
    assert refused(database_url, LIMIT_CONSUMER_ROLE, "SELECT FROM public.projects")


def test_every_route_answers_as_the_api_role(api, new_user, database_url):
    assert sorted(FUNCTIONS) == sorted(ROUTERS)
    user = new_user()
    project_id = str(uuid.uuid4())
    answers = {
        "put_project": api.put(user, project_id, {"name": "P", "data": {"v": 1}, "baseRevision": 0}),
        "get_project": api.get(user, project_id),
        "list_projects": api.list(user),
        "list_changes": api.changes(user),
        "list_revisions": api.revisions(user, project_id),
        "get_revision": api.revision(user, project_id, 1),
        "push_changes": api.push(
            user, {"changes": [{"op": "put", "id": str(uuid.uuid4()), "name": "Q", "data": {}, "baseRevision": 0}]}
        ),
        "delete_project": api.delete(user, project_id, {"baseRevision": 1}),
    }
    assert sorted(answers) == sorted(ROUTERS)
    assert {name: answer.status for name, answer in answers.items()} == dict.fromkeys(ROUTERS, 200)
    with psycopg.connect(database_url) as connection:
        (connected_as,) = connection.execute(
            "SELECT usename FROM pg_stat_activity WHERE usename = %s LIMIT 1", (API_ROLE,)
        ).fetchone()
    assert connected_as == API_ROLE
