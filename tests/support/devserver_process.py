"""`python -m devserver` as `make dev` runs it: a real process on a free port, answering before the test goes on."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devserver.local_sqs import free_port

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 90


@contextmanager
def running_devserver(database_url: str, log: Path, **environment: str) -> Iterator[str]:
    """The server on the shared test database; yields its base URL, stops it on the way out."""
    with devserver_process(database_url, log, **environment) as (url, _):
        yield url


@contextmanager
def devserver_process(database_url: str, log: Path, **environment: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """As `running_devserver`, yielding the process too."""
    port = free_port()
    variables = {**os.environ, "PORT": str(port), "DATABASE_URL": database_url, **environment}
    variables.pop("RATE_LIMIT_EVENTS_QUEUE_URL", None)  # the server starts its own local SQS
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "devserver"], cwd=REPO, env=variables, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{url}/", server, log)
        yield url, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def _wait_until_serving(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"devserver exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"devserver did not answer on {url} within {START_TIMEOUT_SECONDS}s:\n{log.read_text()}")
