"""A plain static web server for pages the tests serve from an origin of their own (not the API's):
`/` is the demo editor's page, `/client/...` the client's files, and any other mounted folder by its
prefix. It knows nothing of the API; the page reaches the API across origins."""

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from devserver.local_sqs import free_port

CLIENT = Path(__file__).resolve().parents[2] / "client"


class _Files(SimpleHTTPRequestHandler):
    def __init__(self, *args, mounts: dict[str, Path], **kwargs):
        self.mounts = mounts
        super().__init__(*args, directory=str(CLIENT), **kwargs)

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if path == "/":
            return str(CLIENT / "demo" / "index.html")
        for prefix, folder in self.mounts.items():
            if path.startswith(f"/{prefix}/"):
                return str(folder / path.removeprefix(f"/{prefix}/"))
        return super().translate_path(path)

    def log_message(self, format: str, *args) -> None:
        pass


@contextmanager
def static_origin(mounts: dict[str, Path] | None = None) -> Iterator[str]:
    """Serves on a free port; yields `http://localhost:<port>`, another site than the API's 127.0.0.1."""
    handler = functools.partial(_Files, mounts={"client": CLIENT, **(mounts or {})})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
