"""A throwaway Postgres with pg_stat_statements preloaded, from Debian's `postgresql` package.

The embedded pgserver ships no pg_stat_statements, so the admission bench runs on this one. As root,
Postgres must run as the `postgres` user, which then owns the data and socket directories.
"""

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

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
