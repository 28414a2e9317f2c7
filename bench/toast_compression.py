"""`python -m bench.toast_compression`: PUT and its floor with a revision's data TOAST-compressed by lz4
(as migration 20261204_02 sets it where the server has it) against pglz, on Debian's Postgres 15 (which
has lz4; the embedded 16 has not): two databases of one server, the four calls in turn, round by round,
by the backend CPU of each call (/proc/<pid>/schedstat), and the bytes each table holds on disk."""

import os
import statistics
import tempfile
from pathlib import Path

import psycopg

from bench.__main__ import Bench, bench_database, project_data
from bench.statement_stats import start_postgres_with_statement_stats
from bench.write_cost import SIZES, Backend, floor_call, interleaved, put_call
from sync_core.adapters import projects_sql

ROUNDS = {"1 MiB": 40, "4 MiB": 12}
COMPRESSION = """
SELECT attcompression FROM pg_attribute
WHERE attrelid = 'public.project_revisions'::regclass AND attname = 'data'
"""


def migrated(url: str) -> Bench:
    os.environ["BENCH_DATABASE_URL"] = url
    return Bench(bench_database(Path(tempfile.mkdtemp(prefix="appframes-bench-"))))


def main() -> None:
    server = start_postgres_with_statement_stats()
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute("CREATE DATABASE pglz")
    benches = {"lz4": migrated(server), "pglz": migrated(server.replace("/postgres?", "/pglz?"))}
    benches["pglz"].raw.execute("ALTER TABLE public.project_revisions ALTER COLUMN data SET COMPRESSION pglz")
    assert benches["lz4"].raw.execute(COMPRESSION).fetchone()[0] == "l", "the migration did not set lz4"
    backends = {name: Backend(bench) for name, bench in benches.items()}
    print("| size | compression | PUT, backend CPU (ms) | floor, backend CPU (ms) | PUT / floor | on disk (bytes) |")
    print("|---|---|---:|---:|---:|---:|")
    for label, rounds in ROUNDS.items():
        payloads = [project_data(SIZES[label], seed) for seed in range(3)]
        calls = {
            (name, side): (call(bench, payloads), backends[name])
            for name, bench in benches.items()
            for side, call in (("put", lambda b, p: put_call(b, projects_sql.PUT_PROJECT, p)), ("floor", floor_call))
        }
        cpu = {key: backend_cpus for key, (_walls, backend_cpus) in interleaved(calls, rounds).items()}
        for name, bench in benches.items():
            put, floor = cpu[(name, "put")], cpu[(name, "floor")]
            ratio = statistics.median(a / b for a, b in zip(put, floor, strict=True))
            size = bench.raw.execute("SELECT pg_total_relation_size('public.project_revisions')").fetchone()[0]
            print(
                f"| {label} | {name} | {statistics.median(put):.1f} | {statistics.median(floor):.1f}"
                f" | {ratio:.2f}x | {size:,} |"
            )


if __name__ == "__main__":
    main()
