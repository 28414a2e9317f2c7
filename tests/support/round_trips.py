"""Counting round trips to Postgres at the protocol level, with libpq's own trace."""

import tempfile

import psycopg
from psycopg.pq import Trace

from sync_core.adapters.postgres import Database, connector
from sync_core.adapters.settings import DatabaseSettings, load_settings


class TracedConnections:
    """Connects like the Lambda does, and traces every message each connection sends and receives.

    A round trip ends with exactly one ReadyForQuery message from the server, so counting those
    counts round trips (connection setup is traced from after the handshake, so it is not counted).
    """

    def __init__(self):
        self._connect = connector(load_settings(DatabaseSettings))
        self._trace = tempfile.TemporaryFile()  # noqa: SIM115 -- open as long as the traced connections
        self._connections: list[psycopg.Connection] = []

    def connect(self) -> psycopg.Connection:
        connection = self._connect()
        self._start_trace(connection)
        self._connections.append(connection)
        return connection

    def _start_trace(self, connection: psycopg.Connection) -> None:
        connection.pgconn.trace(self._trace.fileno())
        connection.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)

    def round_trips(self) -> int:
        # libpq buffers its trace stream; stopping the trace flushes it, so stop and start again.
        for connection in self._connections:
            if not connection.closed:
                connection.pgconn.untrace()
                self._start_trace(connection)
        self._trace.seek(0)
        return sum(1 for line in self._trace.read().decode(errors="replace").splitlines() if "ReadyForQuery" in line)


def counting_database():
    """A Database that connects as the functions do, over traced connections; returns (database, count)."""
    traced = TracedConnections()
    return Database(traced.connect), traced.round_trips
