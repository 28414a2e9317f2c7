"""The real better-auth 1.7 package (Node) makes the tables and the sessions; the API must accept exactly
what it issues and refuse what it would refuse. better_auth.mjs beside this file drives the library."""

import json
import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

from devserver.database import BETTER_AUTH_TABLES, apply_migrations
from sync_core.adapters.assembly import api_app
from sync_core.adapters.http.api_gateway import HttpApiHandler
from sync_core.adapters.http.routes import ROUTERS
from sync_core.adapters.settings import ApiSettings
from tests.support.lambda_events import http_api_event, invoke

HERE = Path(__file__).resolve().parent
SECRET = "contract-" + uuid.uuid4().hex + uuid.uuid4().hex
BETTER_AUTH_TABLE_NAMES = ("user", "session", "account", "verification")


def fresh_database(server_url: str) -> str:
    name = f"contract_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlparse(server_url)._replace(path=f"/{name}").geturl()


def better_auth(database_url: str, *args: str, secure_cookies: bool = False) -> dict:
    if not (HERE / "node_modules" / "better-auth").is_dir():
        pytest.fail("better-auth is not installed: run `make setup` (npm ci in tests/contract)")
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BETTER_AUTH_SECRET": SECRET,
        "BETTER_AUTH_SECURE_COOKIES": "1" if secure_cookies else "0",
    }
    completed = subprocess.run(
        ["node", "better_auth.mjs", *args], cwd=HERE, env=environment, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


@pytest.fixture(scope="module")
def library_database(database_url) -> str:
    """A database whose Better Auth tables come from the library's own migration, then ours on top."""
    url = fresh_database(database_url)
    assert better_auth(url, "migrate")["created"] == list(BETTER_AUTH_TABLE_NAMES)
    apply_migrations(url)
    return url


@pytest.fixture(scope="module")
def handler(library_database):
    settings = ApiSettings(database_url=library_database, better_auth_secret=SECRET)
    return HttpApiHandler(api_app(*ROUTERS.values(), settings=settings))


def sign_up(library_database: str, *, secure_cookies: bool = False) -> dict:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    issued = better_auth(library_database, "sign-up", email, secure_cookies=secure_cookies)
    issued["cookie"] = issued["setCookie"][0].split(";")[0]
    return issued


@pytest.fixture
def signed_up(library_database) -> dict:
    return sign_up(library_database)


@pytest.fixture
def signed_up_securely(library_database) -> dict:
    """A sign-up on an https deployment: the library's own __Secure- cookie."""
    return sign_up(library_database, secure_cookies=True)


def put_and_read(handler, **credentials):
    project_id = uuid.uuid4()
    path = f"/api/projects/{project_id}"
    body = json.dumps({"name": "contract", "data": {"ok": True}, "baseRevision": 0})
    put = invoke(handler, http_api_event("PUT", path, body=body, **credentials))
    got = invoke(handler, http_api_event("GET", path, **credentials))
    return project_id, put, got


def test_the_librarys_cookie_is_accepted_and_scopes_rows_to_its_user(handler, signed_up, library_database):
    assert signed_up["cookie"].startswith("better-auth.session_token=")
    project_id, put, got = put_and_read(handler, cookies=[signed_up["cookie"]])
    assert put.status == 200
    assert got.json()["data"] == {"ok": True}
    with psycopg.connect(library_database) as connection:
        owner = connection.execute('SELECT "userId" FROM projects WHERE id = %s', (project_id,)).fetchone()[0]
    assert owner == signed_up["userId"]


def test_the_librarys_bearer_token_is_accepted(handler, signed_up):
    _, put, got = put_and_read(handler, headers={"Authorization": f"Bearer {signed_up['bearer']}"})
    assert put.status == 200
    assert got.status == 200


def test_the_raw_token_as_bearer_is_accepted_only_where_a_stage_allows_it(handler, signed_up, library_database):
    raw_token = signed_up["bearer"].rpartition(".")[0]
    event = http_api_event("GET", "/api/projects", headers={"Authorization": f"Bearer {raw_token}"})
    assert invoke(handler, event).status == 401
    lenient = ApiSettings(
        database_url=library_database, better_auth_secret=SECRET, better_auth_allow_unsigned_bearer=True
    )
    assert invoke(HttpApiHandler(api_app(ROUTERS["list_projects"], settings=lenient)), event).status == 200


def test_a_tampered_signature_is_refused(handler, signed_up):
    name, _, value = signed_up["cookie"].partition("=")
    token, _, signature = value.rpartition(".")
    tampered = f"{name}={token}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert invoke(handler, http_api_event("GET", "/api/projects", cookies=[tampered])).status == 401


def test_an_expired_session_is_refused(handler, signed_up, library_database):
    assert invoke(handler, http_api_event("GET", "/api/projects", cookies=[signed_up["cookie"]])).status == 200
    with psycopg.connect(library_database, autocommit=True) as connection:
        connection.execute(
            """UPDATE "session" SET "expiresAt" = now() - interval '1 second' WHERE "userId" = %s""",
            (signed_up["userId"],),
        )
    assert invoke(handler, http_api_event("GET", "/api/projects", cookies=[signed_up["cookie"]])).status == 401


def test_a_session_signed_out_through_the_library_is_refused(handler, signed_up, library_database):
    assert better_auth(library_database, "sign-out", signed_up["cookie"])["status"] == 200
    assert invoke(handler, http_api_event("GET", "/api/projects", cookies=[signed_up["cookie"]])).status == 401


def test_the_local_tables_match_what_the_library_creates(library_database, database_url):
    """devserver/better_auth_tables.sql (local runs and tests) must be Better Auth's schema, column for column."""
    local = fresh_database(database_url)
    with psycopg.connect(local, autocommit=True) as connection:
        connection.execute(BETTER_AUTH_TABLES.read_text())
    assert describe(local) == describe(library_database)


def describe(database_url: str) -> dict:
    with psycopg.connect(database_url) as connection:
        columns = connection.execute(
            """SELECT table_name, column_name, data_type, is_nullable
               FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY(%s)
               ORDER BY table_name, column_name""",
            (list(BETTER_AUTH_TABLE_NAMES),),
        ).fetchall()
        constraints = connection.execute(
            """SELECT conrelid::regclass::text, contype, pg_get_constraintdef(oid)
               FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2, 3""",
            ([f'"{name}"' if name == "user" else name for name in BETTER_AUTH_TABLE_NAMES],),
        ).fetchall()
        indexes = connection.execute(
            """SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s)
               AND indexname NOT LIKE '%%pkey' AND indexname NOT LIKE '%%key' ORDER BY 1, 2""",
            (list(BETTER_AUTH_TABLE_NAMES),),
        ).fetchall()
    return {"columns": columns, "constraints": constraints, "indexes": indexes}


def listed_owner(handler, cookie_header: str) -> list[str]:
    """The names of the projects the API lists for a request carrying exactly this Cookie header."""
    cookies = [pair.strip() for pair in cookie_header.split(";")]
    response = invoke(handler, http_api_event("GET", "/api/projects", cookies=cookies))
    assert response.status == 200, response
    return [project["name"] for project in response.json()]


def put_named(handler, cookie: str, name: str) -> None:
    body = json.dumps({"name": name, "data": {}, "baseRevision": 0})
    response = invoke(handler, http_api_event("PUT", f"/api/projects/{uuid.uuid4()}", cookies=[cookie], body=body))
    assert response.status == 200, response


@pytest.mark.parametrize("plain_first", [True, False])
def test_with_both_cookies_the_api_acts_as_the_user_the_library_sees(
    handler, library_database, signed_up_securely, plain_first
):
    victim, planted = signed_up_securely, sign_up(library_database)
    assert victim["cookie"].startswith("__Secure-better-auth.session_token=")
    put_named(handler, victim["cookie"], "victim's")
    put_named(handler, planted["cookie"], "planted account's")
    cookies = [planted["cookie"], victim["cookie"]]
    header = "; ".join(cookies if plain_first else reversed(cookies))
    # Given Better Auth on https reads the __Secure- cookie (the editor shows the victim)
    assert better_auth(library_database, "get-session", header, secure_cookies=True)["userId"] == victim["userId"]
    # Then sync acts as the victim too, never pushing into the planted account
    assert listed_owner(handler, header) == ["victim's"]


def test_a_planted_junk_plain_cookie_does_not_lock_out_the_librarys_secure_session(
    handler, library_database, signed_up_securely
):
    header = f"better-auth.session_token=junk; {signed_up_securely['cookie']}"
    seen = better_auth(library_database, "get-session", header, secure_cookies=True)
    assert seen["userId"] == signed_up_securely["userId"]
    assert listed_owner(handler, header) == []
