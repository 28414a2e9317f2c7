"""`python -m bench.admission`: what refused requests cost Postgres, per request.

Floods through the real Lambda handlers (v2 event -> the HTTP API adapter -> Starlette -> the store) on a Postgres with
pg_stat_statements (bench/statement_stats.py). Per request: the statements Postgres completed, their
planning and execution time and the shared buffers they touched (pg_stat_statements, which leaves out
a statement that fails), and the CPU time the client backends spent (their /proc schedstat), which
counts failed statements too. Only the HTTP API is used, so the same file measures older code.
"""

import logging
import os
import secrets
import statistics
import time
import uuid
from dataclasses import dataclass, field

import psycopg

from bench.__main__ import project_data
from bench.statement_stats import backend_cpu_ns, start_postgres_with_statement_stats
from devserver.database import prepare_schema
from devserver.dev_auth import LOCAL_ONLY_SECRET
from devserver.functions import load_function
from sync_core.domain.session import sign_token
from tests.support.accounts import create_signed_in_user
from tests.support.lambda_events import http_api_event

FOUR_MIB_PUT = f'{{"name": "bench", "baseRevision": 0, "data": {project_data(4 * 1024 * 1024 - 512)}}}'
SMALL_PUT = f'{{"name": "bench", "baseRevision": 0, "data": {project_data(1024)}}}'
COMPLETED = """
SELECT coalesce(sum(calls), 0), coalesce(sum(total_plan_time + total_exec_time), 0),
       coalesce(sum(shared_blks_hit + shared_blks_read), 0)
FROM pg_stat_statements WHERE query NOT LIKE '%%pg_stat%%' AND dbid = (SELECT oid FROM pg_database
WHERE datname = current_database())
"""


@dataclass
class Flood:
    name: str
    method: str
    body: str | None = None
    credentials: str = "none"  # none, unsigned bearer, signed bearer of no session, signed in, throttled
    requests: int = 300
    statuses: set[int] = field(default_factory=set)


FLOODS = [
    Flood("GET list, no credentials", "GET"),
    Flood("GET list, unsigned bearer", "GET", credentials="unsigned bearer"),
    Flood("GET list, signed bearer of no session", "GET", credentials="signed bearer of no session"),
    Flood("PUT 4 MiB, signed bearer of no session", "PUT", FOUR_MIB_PUT, "signed bearer of no session", 20),
    Flood("PUT 1 KiB invalid JSON, signed in", "PUT", SMALL_PUT[:-1], "signed in"),
    Flood("PUT 4 MiB invalid JSON, signed in", "PUT", FOUR_MIB_PUT[:-1], "signed in", 20),
    Flood("PUT 4 MiB invalid JSON, throttled user", "PUT", FOUR_MIB_PUT[:-1], "throttled", 20),
    Flood("PUT 4 MiB valid, throttled user", "PUT", FOUR_MIB_PUT, "throttled", 20),
    Flood("PUT 1 KiB valid, signed in (the normal path)", "PUT", SMALL_PUT, "signed in"),
]


class Bench:
    def __init__(self, database_url: str):
        self.database_url = database_url
        self.observer = psycopg.connect(database_url, autocommit=True)
        self.observer.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        self.signed_in = create_signed_in_user(database_url, LOCAL_ONLY_SECRET)
        self.throttled = create_signed_in_user(database_url, LOCAL_ONLY_SECRET)
        self.observer.execute(
            """INSERT INTO rate_limits ("userId", scope, tokens, "refilledAt")
               VALUES (%s, 'write', -1e15, now() + interval '1 year')""",
            (self.throttled.id,),
        )
        self.handlers = {"GET": load_function("list_projects").handler, "PUT": load_function("put_project").handler}

    def run(self, flood: Flood) -> dict:
        for _ in range(3):  # warm: the handler's connection exists, and its backend has grown its buffers
            self._request(flood)
        self.observer.execute("SELECT pg_stat_statements_reset()")
        cpu_before = self._backend_cpu_ns()
        durations = [self._timed_request(flood) for _ in range(flood.requests)]
        statements, postgres_ms, buffers = self.observer.execute(COMPLETED).fetchone()
        cpu_ms = (self._backend_cpu_ns() - cpu_before) / 1e6
        per_request = flood.requests
        return {
            "statuses": "/".join(str(status) for status in sorted(flood.statuses)),
            "statements": statements / per_request,
            "postgres_ms": postgres_ms / per_request,
            "buffers": buffers / per_request,
            "cpu_ms": cpu_ms / per_request,
            "handler_ms": statistics.median(durations),
        }

    def _timed_request(self, flood: Flood) -> float:
        started = time.perf_counter()
        flood.statuses.add(self._request(flood))
        return (time.perf_counter() - started) * 1000

    def _request(self, flood: Flood) -> int:
        path = "/api/projects" if flood.method == "GET" else f"/api/projects/{uuid.uuid4()}"
        event = http_api_event(flood.method, path, body=flood.body, **self._credentials(flood.credentials))
        return self.handlers[flood.method](event, None)["statusCode"]

    def _credentials(self, kind: str) -> dict:
        if kind == "unsigned bearer":
            return {"headers": {"Authorization": f"Bearer {secrets.token_urlsafe(24)}"}}
        if kind == "signed bearer of no session":
            token = sign_token(LOCAL_ONLY_SECRET.encode(), secrets.token_urlsafe(24))
            return {"headers": {"Authorization": f"Bearer {token}"}}
        if kind in ("signed in", "throttled"):
            return {"cookies": [(self.signed_in if kind == "signed in" else self.throttled).cookie]}
        return {}

    def _backend_cpu_ns(self) -> int:
        return sum(backend_cpu_ns(self.observer).values())


def table(rows: list[tuple[Flood, dict]]) -> str:
    lines = [
        "| flood (through the Lambda handler) | answer | statements / request | plan + exec (ms / request) "
        "| shared buffers / request | Postgres CPU (ms / request) | handler (ms, median) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for flood, result in rows:
        lines.append(
            f"| {flood.name} | {result['statuses']} | {result['statements']:.2f} | {result['postgres_ms']:.3f} "
            f"| {result['buffers']:.1f} | {result['cpu_ms']:.3f} | {result['handler_ms']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    database_url = os.environ.get("BENCH_DATABASE_URL") or start_postgres_with_statement_stats()
    prepare_schema(database_url)
    limits = {
        f"RATE_LIMIT_{scope}_{knob}": "1000000000" for scope in ("READ", "WRITE") for knob in ("PER_MINUTE", "BURST")
    }
    os.environ.update(DATABASE_URL=database_url, BETTER_AUTH_SECRET=LOCAL_ONLY_SECRET, POWERTOOLS_LOG_LEVEL="ERROR")
    os.environ.update(limits)
    logging.getLogger("appframes-sync").setLevel(logging.ERROR)  # one line per throttled request otherwise
    bench = Bench(database_url)
    print(table([(flood, bench.run(flood)) for flood in FLOODS]))


if __name__ == "__main__":
    main()
