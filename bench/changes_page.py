"""`python -m bench.changes_page [runs]`: the changes page of `python -m bench` (100 projects of ~10 KiB),
the handler and raw psycopg called in turn, one of each per round, so that a shared machine's load
falls on both alike; medians of wall-clock time and of this process's CPU time per call.

The CPU time is the Python side alone (Postgres runs in its own process): handler minus raw is what
the handler adds over raw psycopg, the figure the response's copies and the framework make.
"""

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.__main__ import FEED_PAGE_PROJECTS, FEED_PROJECT_BYTES, Bench, bench_database, project_data
from sync_core.adapters import projects_sql
from sync_core.domain.changes import FEED_START, PAGE_BYTES

ROUNDS, WARM_UP = 300, 10


def page_calls(bench: Bench) -> dict:
    data = project_data(FEED_PROJECT_BYTES)
    for _ in range(FEED_PAGE_PROJECTS):
        bench.handler_call("put_project", "PUT", f"/api/projects/{uuid.uuid4()}", bench._body(data, 0))()
    params = {
        "session_token": bench.user.token,
        "listing_began": None,
        "after_xid": str(FEED_START.change_xid),
        "after_id": FEED_START.project_id,
        "limit": FEED_PAGE_PROJECTS,
        "page_bytes": PAGE_BYTES,
        **bench.limit_params("read"),
    }
    return {
        "handler": bench.handler_call("list_changes", "GET", "/api/changes", query=f"limit={FEED_PAGE_PROJECTS}"),
        "raw": bench.raw_call(projects_sql.LIST_CHANGES, params),
    }


def interleaved(calls: dict) -> dict[str, tuple[float, float]]:
    """Each call's median (wall ms, CPU ms) over ROUNDS rounds of one call each, in turn."""
    samples = {name: ([], []) for name in calls}
    for round_number in range(WARM_UP + ROUNDS):
        for name, call in calls.items():
            wall, cpu = time.perf_counter(), time.process_time()
            call()
            if round_number >= WARM_UP:
                samples[name][0].append((time.perf_counter() - wall) * 1000)
                samples[name][1].append((time.process_time() - cpu) * 1000)
    return {name: (statistics.median(walls), statistics.median(cpus)) for name, (walls, cpus) in samples.items()}


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="appframes-bench-") as directory:
        database_url = bench_database(Path(directory))
        print("| run | handler (ms) | raw (ms) | handler / raw | handler CPU (ms) | raw CPU (ms) | CPU added (ms) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for run in range(1, runs + 1):
            medians = interleaved(page_calls(Bench(database_url)))
            (handler, handler_cpu), (raw, raw_cpu) = medians["handler"], medians["raw"]
            print(
                f"| {run} | {handler:.2f} | {raw:.2f} | {handler / raw:.2f}x"
                f" | {handler_cpu:.2f} | {raw_cpu:.2f} | {handler_cpu - raw_cpu:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
