"""`python -m bench.floor [runs] [rounds]`: the floor tables of `python -m bench` alone, repeated:
GET and PUT at each size next to their floor, and gzip next to plain at 1 MiB and 4 MiB, each run on
a fresh user. The handler and its floor are called in turn, round by round, so a loaded machine
weighs on both alike; each run prints its own tables, so their spread shows.

BENCH_DATABASE_URL points it at another server (Debian's Postgres 15 has lz4, pgserver's 16 has not).
"""

import sys
import tempfile
from pathlib import Path

from bench.__main__ import (
    COMPRESSED_SIZES,
    ROUNDS,
    SIZES,
    Bench,
    bench_database,
    compression_table,
    floor_table,
    interleaved,
    project_data,
    ratio_spread,
)


def run(database_url: str, rounds: int | None) -> None:
    bench = Bench(database_url)
    floor_rows, compression_rows = [], []
    for label in SIZES:
        data, label_rounds = project_data(SIZES[label]), rounds or ROUNDS[label]
        for request, calls in (("GET", bench.get_calls(data)), ("PUT", bench.put_calls(data, label_rounds))):
            samples = interleaved(calls, label_rounds, backends=bench.backends_of(calls))
            floor_rows.append((request, label, samples, ratio_spread(samples["handler"], samples["floor"])))
        if label in COMPRESSED_SIZES:
            calls, wire = bench.compression_calls(data, label_rounds)
            compression_rows.append((label, interleaved(calls, label_rounds), wire))
    print(floor_table(floor_rows), compression_table(compression_rows), sep="\n\n", end="\n\n", flush=True)


def main(runs: int, rounds: int | None) -> None:
    with tempfile.TemporaryDirectory(prefix="appframes-bench-") as directory:
        database_url = bench_database(Path(directory))
        for _ in range(runs):
            run(database_url, rounds)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2, int(sys.argv[2]) if len(sys.argv) > 2 else None)
