"""One Postgres connection per execution environment, reconnected when it breaks.

Every statement runs in autocommit mode, so each is its own short transaction: one round trip,
and RDS Proxy can multiplex between them. Prepared statements would pin the proxy connection, so
psycopg's automatic preparation is off.

Results come in binary format, where a `json` value is its text: each arrives as the bytes Postgres
sent, through psycopg's C bytea loader (no Python call per row). The statements build every answer's
JSON, and the handlers pass those bytes through as the response body, never decoded.
"""

from collections.abc import Callable, Mapping
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.string import ByteaBinaryLoader

from sync_core.adapters.settings import DatabaseSettings
from sync_core.domain.errors import DatabaseUnavailable

RETRY_AFTER_SECONDS = 1

Connect = Callable[[], psycopg.Connection]


class _ConnectionLost(Exception):
    pass


def load_json_as_bytes(connection: psycopg.Connection) -> psycopg.Connection:
    """`connection`, answering each `json` column of a binary-format result with the bytes Postgres sent."""
    connection.adapters.register_loader("json", ByteaBinaryLoader)
    return connection


class Database:
    def __init__(self, connect: Connect):
        self._connect = connect
        self._connection: psycopg.Connection | None = None

    def fetch_row(self, sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run one statement and return its single row, keyed by column name."""
        return self.fetch_rows(sql, params)[0]

    def fetch_rows(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run one statement and return its rows, keyed by column name.

        A connection found dead mid-statement is replaced and the statement sent once more:
        every statement here is safe to repeat (reads, and writes keyed by a writeId or a
        tombstone that a second run recognises as already applied).
        """
        try:
            return self._run(sql, params)
        except _ConnectionLost:
            pass
        try:
            return self._run(sql, params)
        except _ConnectionLost:
            raise DatabaseUnavailable(
                "the database connection was lost", retry_after_seconds=RETRY_AFTER_SECONDS
            ) from None

    def _run(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        connection = self._live_connection()
        try:
            with connection.cursor(row_factory=dict_row) as cursor:
                cursor.execute(sql, params, binary=True)
                return cursor.fetchall()
        except psycopg.OperationalError:
            if connection.broken or connection.closed:
                self.close()
                raise _ConnectionLost from None
            raise DatabaseUnavailable(
                "the database did not complete the request", retry_after_seconds=RETRY_AFTER_SECONDS
            ) from None

    def _live_connection(self) -> psycopg.Connection:
        if self._connection is None or self._connection.closed:
            try:
                self._connection = load_json_as_bytes(self._connect())
            except psycopg.OperationalError:
                raise DatabaseUnavailable(
                    "the database is unreachable", retry_after_seconds=RETRY_AFTER_SECONDS
                ) from None
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def connector(settings: DatabaseSettings) -> Connect:
    """How this environment reaches Postgres: a URL locally, RDS Proxy with an IAM token in Lambda."""
    common = {"autocommit": True, "prepare_threshold": None, "connect_timeout": settings.db_connect_timeout_seconds}
    if settings.database_url:
        return lambda: psycopg.connect(settings.database_url, **common)
    return lambda: psycopg.connect(**_rds_proxy_parameters(settings), **common)


def _rds_proxy_parameters(settings: DatabaseSettings) -> dict[str, Any]:
    import boto3  # only the IAM path pays for boto3's import

    token = boto3.client("rds", region_name=settings.aws_region).generate_db_auth_token(
        DBHostname=settings.db_proxy_host, Port=settings.db_proxy_port, DBUsername=settings.db_user
    )
    return {
        "host": settings.db_proxy_host,
        "port": settings.db_proxy_port,
        "dbname": settings.db_name,
        "user": settings.db_user,
        "password": token,
        "sslmode": "verify-full",
        "sslrootcert": str(settings.db_ssl_root_cert),
    }
