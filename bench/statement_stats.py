"""A throwaway Postgres with pg_stat_statements preloaded, from Debian's `postgresql` package, and the
CPU its processes spent (their /proc schedstat, which counts statements that failed too).

The embedded pgserver ships no pg_stat_statements, so the admission and load benches run on this one.
As root, Postgres must run as the `postgres` user, which then owns the data and socket directories.
"""

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

STATEMENT_STATS = ("-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track_planning=on")


def start_postgres_with_statement_stats() -> str:
    """Start one in a temporary directory, stopped and removed when this process exits; returns its URL."""
    binaries = _debian_postgres_binaries()
    directory = Path(tempfile.mkdtemp(prefix="appframes-pgstat-"))
    data, socket = directory / "data", directory / "socket"
    socket.mkdir()
    _hand_to_postgres_user(directory)
    _as_postgres([str(binaries / "initdb"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "-D", str(data)])
    options = " ".join([*STATEMENT_STATS, "-c", "listen_addresses=", "-c", f"unix_socket_directories={socket}"])
    _as_postgres(
        [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start"]
    )
    atexit.register(_stop, binaries, data, directory)
    return f"postgresql://postgres@/postgres?host={socket}"


CLIENT_BACKENDS = """
SELECT pid FROM pg_stat_activity
WHERE backend_type = 'client backend' AND datname = current_database() AND pid <> pg_backend_pid()
"""


def backend_cpu_ns(observer: psycopg.Connection, pids: list[int] | None = None) -> dict[int, int]:
    """CPU nanoseconds each client backend (of this database, but the observer's own) has run, by pid;
    or of the given pids that still exist."""
    if pids is None:
        pids = [pid for (pid,) in observer.execute(CLIENT_BACKENDS).fetchall()]
    return {pid: ran for pid in pids if (ran := _ran_ns(pid)) is not None}


def server_cpu_ns(observer: psycopg.Connection) -> int:
    """CPU nanoseconds the whole server has run: the postmaster and every child (backends, WAL writer,
    checkpointer, autovacuum), ended children excepted. Superuser only (it reads data_directory)."""
    (data_directory,) = observer.execute("SHOW data_directory").fetchone()
    postmaster = int((Path(data_directory) / "postmaster.pid").read_text().split()[0])
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    return sum(_ran_ns(pid) or 0 for pid in [postmaster, *map(int, children)])


def _ran_ns(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except FileNotFoundError:
        return None


def _debian_postgres_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/lib/pg_stat_statements.so"))
    if not found:
        raise SystemExit("no Postgres with pg_stat_statements: apt-get install postgresql (make bench does it)")
    return Path(found[-1]).parent.parent / "bin"


def _hand_to_postgres_user(directory: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
        shutil.chown(directory / "socket", "postgres")


def _as_postgres(command: list[str]) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, cwd="/")


def _stop(binaries: Path, data: Path, directory: Path) -> None:
    _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    shutil.rmtree(directory, ignore_errors=True)
