"""`python -m devserver.invoke <function> <event.json>`: run a Lambda handler in-process, as `sam local invoke`
would run it in Docker, against the local database. The events in events/ carry the session seeded here."""

import json
import os
import sys
from pathlib import Path

import psycopg

from devserver.database import API_ROLE, ROLE_BY_FUNCTION, as_role, prepare_schema, use_local_database
from devserver.dev_auth import LOCAL_ONLY_SECRET
from devserver.functions import load_function

# The session the events/ fixtures carry (their cookie is this token signed with LOCAL_ONLY_SECRET).
FIXTURE_USER_ID = "local-invoke-user"
FIXTURE_SESSION_TOKEN = "appframesLocalInvokeSession00001"

SEED_FIXTURE_USER = """
INSERT INTO public."user" (id, name, email, "emailVerified")
VALUES (%(user_id)s, 'Invoke Fixture', 'invoke@example.com', true)
ON CONFLICT (id) DO NOTHING
"""
SEED_FIXTURE_SESSION = """
INSERT INTO public."session" (id, token, "userId", "expiresAt", "updatedAt")
VALUES (%(user_id)s, %(token)s, %(user_id)s, now() + interval '10 years', now())
ON CONFLICT (id) DO UPDATE SET "expiresAt" = excluded."expiresAt"
"""


def seed_fixture_session(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        for statement in (SEED_FIXTURE_USER, SEED_FIXTURE_SESSION):
            connection.execute(statement, {"user_id": FIXTURE_USER_ID, "token": FIXTURE_SESSION_TOKEN})


def main(function: str, event_path: str) -> None:
    os.environ.setdefault("BETTER_AUTH_SECRET", LOCAL_ONLY_SECRET)
    database_url = use_local_database()
    prepare_schema(database_url)
    seed_fixture_session(database_url)
    if function != "migrate":
        os.environ["DATABASE_URL"] = as_role(database_url, ROLE_BY_FUNCTION.get(function, API_ROLE))
    event = json.loads(Path(event_path).read_text())
    print(json.dumps(load_function(function).handler(event, None), indent=2))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m devserver.invoke <function> <event.json>")
    main(sys.argv[1], sys.argv[2])
