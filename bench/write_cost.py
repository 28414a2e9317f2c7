"""`python -m bench.write_cost [runs] [rounds]`: what a PUT costs Postgres, by wall clock and by the CPU
time of the backend that ran it (its /proc/<pid>/schedstat), which a loaded machine disturbs far less.

Two tables per run, each of calls interleaved round by round (a loaded machine weighs on all alike),
the ratio the median of the per-round ratios, p10-p90 in brackets:
- the floor (issue 15): PUT's statement, raw psycopg with the store's parameters, against the plainest
  statement storing the same bytes (the revision row's `INSERT ... $1::json`, bench/__main__.py);
- history on against off (issue 14): the same statement against the PUT from before history
  (bench/put_project_without_history.sql) on a database migrated to just before 20261203_01.
Payloads of distinct layers (`project_data`), three in turn. BENCH_DATABASE_URL points it elsewhere.
"""

import itertools
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench.__main__ import (
    PUT_FLOOR,
    PUT_WITHOUT_HISTORY,
    Bench,
    bench_database,
    database_without_history,
    project_data,
)
from sync_core.adapters import projects_sql

SIZES = {"1 KiB": 1024, "1 MiB": 1024 * 1024, "4 MiB": 4 * 1024 * 1024 - 512}
ROUNDS = {"1 KiB": 400, "1 MiB": 40, "4 MiB": 12}
WARM_UP = 3


class Backend:
    """One benchmark connection's server process, and the CPU time it has spent."""

    def __init__(self, bench: Bench):
        self.pid = bench.raw.execute("SELECT pg_backend_pid()").fetchone()[0]

    def cpu_ms(self) -> float:
        with open(f"/proc/{self.pid}/schedstat") as schedstat:
            return int(schedstat.read().split()[0]) / 1e6


def put_call(bench: Bench, sql: str, payloads: list[str], project_id: uuid.UUID | None = None) -> Callable[[], None]:
    """PUT's statement `sql` at the current revision of a project (a new one by default), each payload in turn."""
    project_id, revisions, write_limits = project_id or uuid.uuid4(), itertools.count(), bench.limit_params("write")

    def call() -> None:
        revision = next(revisions)
        body = bench._body(payloads[revision % len(payloads)], revision).encode()
        params = {"session_token": bench.user.token, "project_id": project_id, "fallback_write_id": uuid.uuid4()}
        bench.raw_call(sql, {**params, **write_limits, **bench.body_params(body)})()

    return call


def floor_call(bench: Bench, payloads: list[str]) -> Callable[[], None]:
    """The floor's INSERT of each payload in turn, as a new revision of a project PUT made."""
    project_id = uuid.uuid4()
    put_call(bench, projects_sql.PUT_PROJECT, ["{}"], project_id)()
    revisions = itertools.count(2)

    def call() -> None:
        revision = next(revisions)
        data = payloads[revision % len(payloads)]
        params = {"project_id": project_id, "user_id": bench.user.id, "data": data, "bytes": len(data.encode())}
        bench.raw_call(PUT_FLOOR, {**params, "revision": revision})()

    return call


def interleaved(calls: dict[str, tuple[Callable[[], None], Backend]], rounds: int) -> dict[str, tuple[list, list]]:
    """Each call once per round, in turn: its wall-clock and backend CPU times (ms)."""
    samples = {name: ([], []) for name in calls}
    for round_number in range(WARM_UP + rounds):
        for name, (call, backend) in calls.items():
            cpu, wall = backend.cpu_ms(), time.perf_counter()
            call()
            if round_number >= WARM_UP:
                samples[name][0].append((time.perf_counter() - wall) * 1000)
                samples[name][1].append(backend.cpu_ms() - cpu)
    return samples


def ratio(over: list[float], under: list[float]) -> str:
    ratios = sorted(a / b for a, b in zip(over, under, strict=True))
    deciles = statistics.quantiles(ratios, n=10)
    return f"{statistics.median(ratios):.2f}x ({deciles[0]:.2f}-{deciles[-1]:.2f})"


def row(label: str, samples: dict[str, tuple[list, list]], over: str, under: str) -> str:
    (over_wall, over_cpu), (under_wall, under_cpu) = samples[over], samples[under]
    return (
        f"| {label} | {statistics.median(over_wall):.2f} | {statistics.median(under_wall):.2f}"
        f" | {ratio(over_wall, under_wall)} | {statistics.median(over_cpu):.2f} | {statistics.median(under_cpu):.2f}"
        f" | {ratio(over_cpu, under_cpu)} |"
    )


def run(with_history: Bench, without_history: Bench, rounds: int | None) -> None:
    floor_rows, history_rows = [], []
    backend_on, backend_off = Backend(with_history), Backend(without_history)
    for label, size in SIZES.items():
        payloads, label_rounds = [project_data(size, seed) for seed in range(3)], rounds or ROUNDS[label]
        calls = {
            "put": (put_call(with_history, projects_sql.PUT_PROJECT, payloads), backend_on),
            "floor": (floor_call(with_history, payloads), backend_on),
            "off": (put_call(without_history, PUT_WITHOUT_HISTORY, payloads), backend_off),
        }
        samples = interleaved(calls, label_rounds)
        floor_rows.append(row(label, samples, "put", "floor"))
        history_rows.append(row(label, samples, "put", "off"))
    heading = " (ms) | {under} (ms) | {over} / {under} | {over} CPU (ms) | {under} CPU (ms) | CPU {over} / {under} |"
    for name, under, rows in (("PUT, raw", "floor", floor_rows), ("history on", "off", history_rows)):
        print(f"| size | {name}" + heading.format(over=name.split(",")[0], under=under))
        print("|---|---:|---:|---:|---:|---:|---:|", *rows, sep="\n", end="\n\n", flush=True)


def main(runs: int, rounds: int | None) -> None:
    with tempfile.TemporaryDirectory(prefix="appframes-bench-") as directory:
        database_url = bench_database(Path(directory))
        with_history, without_history = Bench(database_url), Bench(database_without_history(database_url))
        for _ in range(runs):
            run(with_history, without_history, rounds)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2, int(sys.argv[2]) if len(sys.argv) > 2 else None)
