"""`python -m devserver` as `make dev` runs it: a real process on a port, with the local SQS and the
consumer, so a user who keeps getting throttled is seen to be blocked, and the block to lift."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def devserver(database_url, tmp_path):
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "RATE_LIMIT_WRITE_BURST": "2",
        "RATE_LIMIT_WRITE_PER_MINUTE": "60",
        "RATE_LIMIT_THROTTLES_TO_BLOCK": "3",
        "RATE_LIMIT_BLOCK_SECONDS": "4",
    }
    environment.pop("RATE_LIMIT_EVENTS_QUEUE_URL", None)
    log = (tmp_path / "devserver.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "devserver"], cwd=REPO, env=environment, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_make_dev_blocks_a_user_who_keeps_getting_throttled_and_lifts_it(devserver):
    client = Client(devserver)
    client.send("POST", "/api/dev/sign-in", {"email": f"{uuid.uuid4().hex[:8]}@example.com"})
    statuses = [client.put_new_project()[0] for _ in range(6)]
    assert statuses[:2] == [200, 200]
    assert statuses[2:] == [429] * 4

    deadline = time.monotonic() + 20
    while True:  # the consumer sees the throttles through the local SQS within a poll or two
        status, body, headers = client.put_new_project()
        if status == 429 and "blocked" in body["error"]["message"]:
            break
        assert time.monotonic() < deadline, f"never blocked: {status} {body}"
        time.sleep(0.5)
    time.sleep(int(headers["Retry-After"]) + 1)
    assert client.put_new_project()[0] == 200


class Client:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def send(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null"), response.headers
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null"), error.headers

    def put_new_project(self):
        return self.send("PUT", f"/api/projects/{uuid.uuid4()}", {"name": "n", "data": {}, "baseRevision": 0})


def _wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the devserver exited"
        try:
            urllib.request.urlopen(base + "/api/dev/session", timeout=1)
        except urllib.error.HTTPError:
            return  # 401: up and answering
        except OSError:
            time.sleep(0.2)
    pytest.fail("the devserver did not start")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
