"""A local HTTP server on 127.0.0.1 that answers as the Hugging Face Hub's resolve endpoint does,
for `hearth models pull` tests (this machine cannot reach the Hub, and a test must not)."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<file>.+)$")


@dataclass
class HubFile:
    data: bytes
    status: int = 200
    """Anything else refuses the file with that status (401, 403, 404)."""
    claimed_sha256: str | None = None
    """What the Hub says the sha256 is (the real one by default)."""
    claimed_size: int | None = None
    """What the Hub says the size is, in its HEAD answer (the real one by default)."""

    @property
    def sha256(self) -> str:
        return self.claimed_sha256 or hashlib.sha256(self.data).hexdigest()


@dataclass
class FakeHub:
    """Files by (repo, path); what was asked (method, path, Range); a GET to cut part-way."""

    files: dict[tuple[str, str], HubFile] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    cut_first_get_after: int | None = None
    """The first GET sends this many bytes of the body, then the connection drops."""
    url: str = ""


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: pytest shows what the test asserts

        def _file(self) -> HubFile | None:
            match = _RESOLVE.match(self.path.split("?")[0])
            found = hub.files.get((match["repo"], match["file"])) if match else None
            if found is None or found.status != 200:
                status = found.status if found is not None else 404
                body = b'{"error": "refused"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Repo-Commit", COMMIT)
                self.end_headers()
                if self.command == "GET":
                    self.wfile.write(body)
                return None
            return found

        def _headers(self, found: HubFile, status: int, length: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            # As the Hub answers for a large (LFS) file: the commit, the LFS object's sha256 as
            # the linked ETag, and the file's size.
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{found.sha256}"')
            self.send_header("X-Linked-Etag", f'"{found.sha256}"')
            self.send_header("X-Linked-Size", str(found.claimed_size or len(found.data)))

        def do_HEAD(self) -> None:
            hub.requests.append(("HEAD", self.path, None))
            found = self._file()
            if found is not None:
                self._headers(found, 200, len(found.data))
                self.end_headers()

        def do_GET(self) -> None:
            asked = self.headers.get("Range")
            hub.requests.append(("GET", self.path, asked))
            found = self._file()
            if found is None:
                return
            start = int(m[1]) if asked and (m := re.match(r"bytes=(\d+)-", asked)) else 0
            body = found.data[start:]
            self._headers(found, 206 if start else 200, len(body))
            if start:
                self.send_header(
                    "Content-Range", f"bytes {start}-{len(found.data) - 1}/{len(found.data)}"
                )
            self.end_headers()
            gets = sum(1 for r in hub.requests if r[0] == "GET")
            if hub.cut_first_get_after is not None and gets == 1:
                self.wfile.write(body[: hub.cut_first_get_after])
                self.wfile.flush()
                self.close_connection = True  # the rest never comes: the connection drops
                return
            self.wfile.write(body)

    return Handler


@contextmanager
def fake_hub() -> Iterator[FakeHub]:
    """A FakeHub listening on 127.0.0.1 (a free port) while the block runs."""
    hub = FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
