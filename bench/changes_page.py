"""`python -m bench.changes_page [runs] [rounds]`: the changes page of `python -m bench` (100 projects of
~10 KiB) alone, repeated, each run on a fresh user: the handler, raw psycopg (same SQL, same binary rows)
and the floor called in turn round by round, measured as every request path of `python -m bench` is
(median of per-round ratios, p10-p90; CPU of this process and of each call's Postgres backend)."""

import sys
import tempfile
from pathlib import Path

from bench.__main__ import Bench, bench_database, changes_table, interleaved, table


def main(runs: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="appframes-bench-") as directory:
        database_url = bench_database(Path(directory))
        measured = []
        for _ in range(runs):
            bench = Bench(database_url)
            calls = bench.changes_calls()
            measured.append(interleaved(calls, rounds, backends=bench.backends_of(calls)))
        print(table([("changes page", f"run {run}", samples, None) for run, samples in enumerate(measured, 1)]))
        print()
        print(changes_table(measured))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3, int(sys.argv[2]) if len(sys.argv) > 2 else 200)
