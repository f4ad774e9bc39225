"""Ending a streamed turn from another thread, at once, by shutting its connection."""

from __future__ import annotations

import contextlib
import socket
import threading

import httpx


class Hangup:
    """Ends a streamed turn from another thread, at once: its connection is shut, and the
    server stops the reply (keeping it as interrupted). Waiting for the next piece instead
    could take as long as the model takes to make it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.called = False

    def attach(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        found = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._sock = found if isinstance(found, socket.socket) else None
            if self.called:
                self._shut()

    def __call__(self) -> None:
        with self._lock:
            self.called = True
            self._shut()

    def _shut(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
