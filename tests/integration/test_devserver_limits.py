"""`python -m devserver` as a real process on a port: an upload without Content-Length is refused the
moment it passes MAX_BODY_BYTES, without the server holding it, and uvicorn's own answers are JSON."""

import json
import select
import socket
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.support.devserver_process import devserver_process

MIB = 1024 * 1024
UPLOAD = 64 * MIB
CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def devserver(database_url, tmp_path_factory):
    with devserver_process(database_url, tmp_path_factory.mktemp("devserver") / "devserver.log") as running:
        yield running


def signed_in_cookie(url: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/dev/sign-in",
        data=json.dumps({"email": f"{uuid.uuid4().hex[:8]}@example.com"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Set-Cookie"].split(";")[0]


def peak_memory_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


def chunked_upload(url: str, headers: dict[str, str], total: int) -> tuple[int, dict, int]:
    """PUT `total` bytes chunked, as long as the server lets it; returns (status, error body, bytes sent)."""
    address = urllib.parse.urlparse(url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        head = [f"PUT /api/projects/{uuid.uuid4()} HTTP/1.1", f"Host: {address.netloc}", "Transfer-Encoding: chunked"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        frame = f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
        sent = 0
        while sent < total and not select.select([connection], [], [], 0)[0]:
            try:
                connection.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += CHUNK
        if sent >= total:
            connection.sendall(b"0\r\n\r\n")
        status, body = read_response(connection)
    return status, body, sent


def read_response(connection: socket.socket) -> tuple[int, dict]:
    received = b""
    while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < content_length(received):
        try:
            more = connection.recv(65536)
        except ConnectionResetError:
            break
        if not more:
            break
        received += more
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def content_length(received: bytes) -> int:
    for line in received.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_a_chunked_upload_is_refused_once_past_the_limit_and_never_held(devserver):
    url, process = devserver
    cookie = signed_in_cookie(url)
    before = peak_memory_bytes(process.pid)
    status, body, sent = chunked_upload(url, {"Cookie": cookie, "Content-Type": "application/json"}, UPLOAD)
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    assert sent < UPLOAD / 2, f"the server took {sent / MIB:.0f} MiB before refusing"
    assert peak_memory_bytes(process.pid) - before < 24 * MIB


def test_without_a_session_the_upload_is_refused_before_any_of_it_is_read(devserver):
    url, _ = devserver
    status, body, sent = chunked_upload(url, {"Content-Type": "application/json"}, UPLOAD)
    assert status == 401
    assert body["error"]["code"] == "unauthenticated"
    assert sent < UPLOAD / 2


def test_an_answer_given_before_the_body_was_read_closes_the_connection(devserver):
    url, _ = devserver
    address = urllib.parse.urlparse(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        head = f"PUT /api/projects/{uuid.uuid4()} HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Length: 1000000\r\n\r\n"
        connection.sendall(head.encode() + b"x" * 1000)
        status, body = read_response(connection)
        assert (status, body["error"]["code"]) == (401, "unauthenticated")
        connection.settimeout(1)  # well before uvicorn's 5 s keep-alive timeout would close it
        assert connection.recv(1) == b"", "closed: uvicorn would otherwise read the refused upload to its end"


@pytest.mark.parametrize(
    "request_bytes",
    [b"NOT HTTP AT ALL\r\n\r\n", b"GET /api/projects HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"],
    ids=["garbage request line", "malformed header"],
)
def test_a_request_uvicorn_cannot_parse_is_answered_as_a_json_400(devserver, request_bytes):
    url, _ = devserver
    address = urllib.parse.urlparse(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(request_bytes)
        received = b""
        while more := connection.recv(65536):
            received += more
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["error"]["code"] == "invalid_request"
