"""The local database: an embedded Postgres (pgserver) unless DATABASE_URL names one, with schema applied."""

import os
from pathlib import Path

import psycopg

from sync_core.adapters.migrations import run_migrations

REPO = Path(__file__).resolve().parent.parent
MIGRATIONS = REPO / "migrations"
BETTER_AUTH_TABLES = Path(__file__).resolve().parent / "better_auth_tables.sql"
# The roles migrations/20261204_03_create-database-roles.sql makes: what each kind of function logs in as.
API_ROLE = "appframes_api"
LIMIT_CONSUMER_ROLE = "appframes_limit_consumer"
PURGE_ROLE = "appframes_purge"
# As template.yaml sets each function's DB_USER; the migrations function runs as the owner.
ROLE_BY_FUNCTION = {
    "rate_limit_consumer": LIMIT_CONSUMER_ROLE,
    "purge_tombstones": PURGE_ROLE,
    "purge_history": PURGE_ROLE,
}


def as_role(database_url: str, role: str) -> str:
    """The same database, signed in as `role` (the local server trusts local connections: no password)."""
    return psycopg.conninfo.make_conninfo(database_url, user=role, password="")


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) a Postgres 16 in `data_dir`; it stops when this process exits."""
    import pgserver  # only local runs need the embedded server

    data_dir.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(data_dir, cleanup_mode="stop").get_uri()


def use_local_database() -> str:
    """DATABASE_URL when set; otherwise the embedded Postgres in DEVSERVER_DATA_DIR (default .local/pgdata).
    Its user runs the migrations (it owns the schema) and plays Better Auth; the functions sign in as their roles."""
    if not os.environ.get("DATABASE_URL"):
        data_dir = Path(os.environ.get("DEVSERVER_DATA_DIR", REPO / ".local" / "pgdata"))
        os.environ["DATABASE_URL"] = start_embedded_postgres(data_dir)
    return os.environ["DATABASE_URL"]


def prepare_schema(database_url: str) -> None:
    """Better Auth's tables where missing (local only), then this project's migrations."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(BETTER_AUTH_TABLES.read_text())
    apply_migrations(database_url)


def apply_migrations(database_url: str) -> None:
    """The same code path as the migrations function, on a local URL."""
    run_migrations(lambda: psycopg.connect(database_url, autocommit=True), MIGRATIONS, {})
