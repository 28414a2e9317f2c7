"""Schema migrations with yoyo, on the connection every function uses (RDS Proxy + IAM in Lambda).

yoyo keeps its history in _yoyo_migration and its lock in yoyo_lock (a table row, not an advisory
lock, which RDS Proxy would pin). The migrations function and the local server both come through here.
"""

from collections.abc import Callable
from pathlib import Path

import psycopg
from aws_lambda_powertools import Logger
from yoyo import read_migrations
from yoyo.backends.core.postgresql import PostgresqlPsycopgBackend
from yoyo.connections import parse_uri

from sync_core.adapters.logs import with_lambda_context

logger = Logger(service="appframes-sync-migrations")


def run_migrations(connect: Callable[[], psycopg.Connection], migrations_dir: Path, event: dict) -> dict:
    """`{}` applies every pending migration; `{"action": "rollback", "migration": "<id>"}` undoes one.

    Answers {"applied": [...], "rolled_back": [...], "pending": [...]}.
    """

    class Backend(PostgresqlPsycopgBackend):
        def connect(self, dburi):
            return connect()

    backend = Backend(parse_uri("postgresql+psycopg://"), "_yoyo_migration")
    try:
        backend.init_database()
        migrations = read_migrations(str(migrations_dir))
        with backend.lock():
            if event.get("action", "apply") == "rollback":
                outcome = {"applied": [], "rolled_back": _roll_back(backend, migrations, event.get("migration"))}
            else:
                chosen = backend.to_apply(migrations)
                backend.apply_migrations(chosen)
                outcome = {"applied": [m.id for m in chosen], "rolled_back": []}
            outcome["pending"] = [m.id for m in backend.to_apply(migrations)]
    finally:
        backend.connection.close()
    return outcome


def _roll_back(backend: PostgresqlPsycopgBackend, migrations, migration_id: str | None) -> list[str]:
    chosen = backend.to_rollback(migrations).filter(lambda m: m.id == migration_id)
    if not chosen:
        raise ValueError(f"no applied migration {migration_id!r} to roll back")
    backend.rollback_migrations(chosen)
    return [m.id for m in chosen]


def build_migrations_handler(
    connect: Callable[[], psycopg.Connection], migrations_dir: Path
) -> Callable[[dict | None, object], dict]:
    def handler(event: dict | None, context: object = None) -> dict:
        outcome = run_migrations(connect, migrations_dir, event or {})
        logger.info("migrations done", extra=outcome)
        return outcome

    return with_lambda_context(handler, logger)
