"""Lending the data dir: the process that holds it (the chat) hands it to a short command.

One process writes the memory (Chroma takes one writer), and the chat holds the data dir for as
long as it is open. So that `hearth memory add` or `hearth say` still work beside it, the holder
listens on a socket in the data dir (0600: only the owner can connect). A command refused the
lock asks there; the holder finishes what it is doing, closes its memory store and answers with
its open lock file attached (SCM_RIGHTS): the command then holds the very same lock, never
released in between, so no third process can slip in. It runs exactly as it would alone (same
results, same exit codes) and keeps the connection open while it does: when it hangs up (done,
or dead: the kernel closes its socket) the holder reopens its store.

A socket left by a holder that died refuses connections, and is ignored. A long-running process
never borrows: a second chat is refused as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

SOCKET_NAME = "hearth.sock"
REPLY_PATIENCE_S = 600.0
"""How long a command waits for the holder to hand over (it first finishes a reply)."""
WAIT_NOTE_AFTER_S = 0.5
_POLL_S = 0.25
_MAX_LINE = 4096

log = logging.getLogger(__name__)
notice = logging.getLogger("hearth.notice")


class Borrower(BaseModel):
    """Who asked for the data dir: its pid (from the socket's credentials) and command."""

    pid: int | None
    command: str


class _Request(BaseModel):
    command: str


class _Reply(BaseModel):
    ok: bool
    why: str | None = None


class OwnerClosing(Exception):
    """The holder is closing while its data dir is lent: there is nothing to take back."""


@dataclass
class Lease:
    """What a borrower holds: the holder's lock file, shared, and the connection that says
    it is still in use (hanging up gives the data dir back)."""

    conn: socket.socket
    lock_fd: int


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


@contextlib.contextmanager
def _address(path: Path) -> Iterator[str]:
    """The path to bind or connect: a socket's path must fit in ~100 bytes, so a longer one is
    reached through its directory's descriptor (Linux's /proc/self/fd)."""
    if len(os.fsencode(path)) < 100 or not Path("/proc/self/fd").is_dir():
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def _peer(conn: socket.socket) -> tuple[int | None, int | None]:
    """The connecting process's pid and uid, where the system says (Linux)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None, None
    raw = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    pid, uid, _ = struct.unpack("3i", raw)
    return pid, uid


def _read_line(conn: socket.socket) -> bytes:
    """One newline-ended message; b"" if the other end hung up first."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(_MAX_LINE)
        if not chunk:
            return b""
        data += chunk
        if len(data) > _MAX_LINE:
            raise ValueError("message too long")
    return data


def _send(conn: socket.socket, message: BaseModel) -> None:
    conn.sendall(message.model_dump_json().encode() + b"\n")


class Lender:
    """Serves the data dir's socket for the process holding the lock, one borrower at a time.

    `lend(borrower)` is entered when a command asks: it yields the lock file's descriptor once
    the data dir may be used, and its exit (after the command hangs up) takes it back. Raising
    `OwnerClosing` inside it means the holder is going away."""

    def __init__(self, path: Path, lend: Callable[[Borrower], AbstractContextManager[int]]) -> None:
        self.path = path
        self._lend = lend
        self.closing = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Lender:
        # The caller holds the lock, so a socket already here is a dead holder's.
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Not os.umask: it is process-wide, and the model may be loading meanwhile. The data
        # dir is 0700, so nobody else reaches the socket before its chmod.
        try:
            with _address(self.path) as address:
                sock.bind(address)
            os.chmod(self.path, 0o600)
        except OSError:
            sock.close()
            raise
        sock.listen(8)
        sock.settimeout(_POLL_S)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="hearth-lender", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and remove the socket (a borrower being served keeps the data dir)."""
        self.closing.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self.closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                try:
                    self._handle(conn)
                except OwnerClosing:
                    return
                except Exception as exc:  # one bad borrower must not stop the serving
                    log.warning("a request for the data dir failed: %r", exc)

    def _handle(self, conn: socket.socket) -> None:
        pid, uid = _peer(conn)
        if uid is not None and uid != os.getuid():
            return  # the socket's mode already refuses them; this says why nothing happened
        conn.settimeout(5)
        try:
            request = _Request.model_validate_json(_read_line(conn))
        except (ValidationError, ValueError, OSError):
            return
        borrower = Borrower(pid=pid, command=request.command)
        log.info("lending the data dir to %s (pid %s)", borrower.command, borrower.pid)
        try:
            with self._lend(borrower) as lock_fd:
                try:
                    message = _Reply(ok=True).model_dump_json().encode() + b"\n"
                    socket.send_fds(conn, [message], [lock_fd])
                except OSError:
                    return  # it stopped waiting (its patience ran out): take the data dir back
                self._wait_for_hangup(conn)
        except OwnerClosing:
            raise
        except Exception as exc:
            with contextlib.suppress(OSError):
                _send(conn, _Reply(ok=False, why=str(exc)))
            raise
        if self.closing.is_set():
            log.info("closing while lent: pid %s keeps the data dir", borrower.pid)
        else:
            log.info("took the data dir back from pid %s", borrower.pid)

    def _wait_for_hangup(self, conn: socket.socket) -> None:
        conn.settimeout(_POLL_S)
        while True:
            try:
                if not conn.recv(64):
                    return
            except TimeoutError:
                if self.closing.is_set():
                    raise OwnerClosing from None
            except OSError:
                return


def borrow(path: Path, command: str) -> Lease | None:
    """Ask the holder for the data dir. Returns the lease to keep while using it, or None where
    no holder serves (no socket, a dead holder's, one that hung up or answered nonsense): the
    caller's usual refusal stands. Raises TimeoutError if the holder does not hand over in time,
    and RuntimeError with the holder's reason if it cannot."""
    if not path.exists():
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with _address(path) as address:
            conn.connect(address)
        _send(conn, _Request(command=command))
        conn.settimeout(WAIT_NOTE_AFTER_S)
        started = time.monotonic()
        try:
            data, fds, _, _ = socket.recv_fds(conn, _MAX_LINE, 1)
        except TimeoutError:
            notice.info("waiting for the open Hearth to finish what it is doing…")
            conn.settimeout(REPLY_PATIENCE_S - (time.monotonic() - started))
            data, fds, _, _ = socket.recv_fds(conn, _MAX_LINE, 1)
        if data and not data.endswith(b"\n"):
            data += _read_line(conn)
        reply = _Reply.model_validate_json(data) if data else None
    except TimeoutError:
        conn.close()
        raise
    except (OSError, ValidationError):
        # Refused (a dead holder's socket), reset (the holder quit while we queued), garbled.
        conn.close()
        return None
    except BaseException:
        conn.close()
        raise
    if reply is None or not reply.ok or not fds:
        for fd in fds:
            os.close(fd)
        conn.close()
        if reply is not None and not reply.ok:
            raise RuntimeError(reply.why or "no reason given")
        return None
    conn.settimeout(None)
    return Lease(conn=conn, lock_fd=fds[0])
