"""`python -m devserver` as `make dev` runs it: a real process on a port, with the local SQS and the
consumer, so a user who keeps getting throttled is seen to be blocked, and the block to lift."""

import json
import time
import urllib.error
import urllib.request
import uuid
from http.cookiejar import CookieJar

import pytest

from tests.support.devserver_process import running_devserver


@pytest.fixture
def devserver(database_url, tmp_path):
    limits = {
        "RATE_LIMIT_WRITE_BURST": "2",
        "RATE_LIMIT_WRITE_PER_MINUTE": "60",
        "RATE_LIMIT_THROTTLES_TO_BLOCK": "3",
        "RATE_LIMIT_BLOCK_SECONDS": "4",
    }
    with running_devserver(database_url, tmp_path / "devserver.log", **limits) as url:
        yield url


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
