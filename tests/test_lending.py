"""The data dir's lock, lent over its socket (coordination/lending.py): real sockets, real flock."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from memory.coordination import lending
from memory.coordination.lending import Borrower, Lender, socket_path
from memory.coordination.lock import DataDirLock
from memory.datadir import ensure_data_dir
from memory.errors import DataDirLockedError


def _eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Holder:
    """A process's long-lived hold on a data dir, lending as the chat does (without the chat)."""

    def __init__(self, data_dir: Path, *, delay: float = 0, refuse: str | None = None) -> None:
        self.lock = DataDirLock(data_dir / "hearth.lock").acquire()
        self.events: list[str] = []
        self.borrowers: list[Borrower] = []
        self.delay = delay
        self.refuse = refuse
        self.lender = Lender(socket_path(data_dir), self._lend).start()

    @contextlib.contextmanager
    def _lend(self, borrower: Borrower) -> Iterator[int]:
        if self.refuse:
            raise RuntimeError(self.refuse)
        time.sleep(self.delay)  # a reply finishing first
        self.borrowers.append(borrower)
        self.events.append("lent")
        yield self.lock.fileno()
        self.events.append("back")

    def close(self) -> None:
        self.lender.close()
        self.lock.release()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return ensure_data_dir(tmp_path / "home")


@pytest.fixture
def holder(data_dir: Path) -> Iterator[Holder]:
    h = Holder(data_dir)
    yield h
    h.close()


def test_a_command_borrows_the_lock_and_the_holder_takes_it_back(
    data_dir: Path, holder: Holder
) -> None:
    with pytest.raises(DataDirLockedError):
        DataDirLock(data_dir / "hearth.lock").acquire()  # not asking: refused, as before

    lock = DataDirLock(data_dir / "hearth.lock").acquire(borrow="hearth memory add")
    assert lock.borrowed and holder.events == ["lent"]
    assert holder.borrowers[0].command == "hearth memory add"
    assert holder.borrowers[0].pid in (None, os.getpid())  # from the socket, where known
    # The lock was never released in between: a command starting now is refused, as it is
    # after the borrower is done (the holder has it again, with no gap).
    with pytest.raises(DataDirLockedError):
        DataDirLock(data_dir / "hearth.lock").acquire()
    lock.release()
    _eventually(lambda: holder.events == ["lent", "back"])
    with pytest.raises(DataDirLockedError):
        DataDirLock(data_dir / "hearth.lock").acquire()

    # Served again, one borrower after another.
    again = DataDirLock(data_dir / "hearth.lock").acquire(borrow="hearth say")
    again.release()
    _eventually(lambda: holder.events == ["lent", "back", "lent", "back"])


def test_the_socket_is_the_owners_only(data_dir: Path, holder: Holder) -> None:
    assert (socket_path(data_dir).stat().st_mode & 0o777) == 0o600


def test_a_borrower_that_dies_gives_the_data_dir_back(data_dir: Path, holder: Holder) -> None:
    # A command killed while it holds the loan: the kernel closes its lock and its socket.
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from memory.coordination.lock import DataDirLock; "
            "lock = DataDirLock(Path(sys.argv[1])).acquire(borrow='hearth say');"
            " print('in', flush=True);"
            " time.sleep(600)",
            str(data_dir / "hearth.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "in"
        assert holder.events == ["lent"]
        child.kill()
        _eventually(lambda: holder.events == ["lent", "back"])
    finally:
        child.kill()
        child.wait()


def test_a_dead_holders_socket_is_ignored(data_dir: Path) -> None:
    # A socket file nobody listens on (its process was killed), and a live holder that does not
    # lend (a `hearth say` running): the usual one-line refusal, at once.
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(socket_path(data_dir)))
    dead.close()
    with subprocess.Popen(
        [sys.executable, "-m", "tests.hold_lock", str(data_dir / "hearth.lock")],
        stdout=subprocess.PIPE,
        text=True,
    ) as other:
        try:
            assert other.stdout is not None and other.stdout.readline().strip() == "locked"
            started = time.monotonic()
            with pytest.raises(DataDirLockedError, match=r"another Hearth \(pid \d+\) is using"):
                DataDirLock(data_dir / "hearth.lock").acquire(borrow="hearth say")
            assert time.monotonic() - started < 2
        finally:
            other.kill()
    # Nobody holds it now: the lock is simply taken, the socket never asked.
    DataDirLock(data_dir / "hearth.lock").acquire(borrow="hearth say").release()


def test_a_new_holder_replaces_a_dead_holders_socket(data_dir: Path) -> None:
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(socket_path(data_dir)))
    dead.close()
    h = Holder(data_dir)
    try:
        DataDirLock(data_dir / "hearth.lock").acquire(borrow="hearth say").release()
        _eventually(lambda: h.events == ["lent", "back"])
    finally:
        h.close()
    assert not socket_path(data_dir).exists()  # closing removes it


def test_a_holder_that_cannot_lend_says_why(data_dir: Path) -> None:
    h = Holder(data_dir, refuse="its disk is full")
    try:
        with pytest.raises(DataDirLockedError, match=r"could not hand over .*its disk is full"):
            DataDirLock(data_dir / "hearth.lock").acquire(borrow="hearth say")
    finally:
        h.close()


def test_a_busy_holder_is_waited_for_and_the_command_says_so(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    h = Holder(data_dir, delay=1.0)
    try:
        with caplog.at_level(logging.INFO, logger="hearth.notice"):
            lock = DataDirLock(data_dir / "hearth.lock").acquire(borrow="hearth say")
        lock.release()
        assert any("waiting for the open Hearth" in r.message for r in caplog.records)
    finally:
        h.close()


def test_a_holder_that_hangs_up_without_answering_is_no_holder(data_dir: Path) -> None:
    # The chat quitting while commands wait in line resets their connections.
    lock = DataDirLock(data_dir / "hearth.lock").acquire()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(socket_path(data_dir)))
    server.listen(1)

    def hang_up() -> None:
        conn, _ = server.accept()
        conn.recv(100)
        conn.close()

    thread = threading.Thread(target=hang_up)
    thread.start()
    try:
        with pytest.raises(DataDirLockedError, match=r"another Hearth \(pid \d+\) is using"):
            DataDirLock(data_dir / "hearth.lock").acquire(borrow="hearth say")
    finally:
        thread.join()
        server.close()
        lock.release()


def test_a_holder_that_never_answers_ends_in_the_usual_refusal(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lending, "REPLY_PATIENCE_S", 1.0)
    h = Holder(data_dir, delay=1.5)
    try:
        with pytest.raises(DataDirLockedError, match="did not hand over"):
            DataDirLock(data_dir / "hearth.lock").acquire(borrow="hearth say")
    finally:
        h.close()  # once its late answer has found nobody


def test_a_data_dir_deeper_than_a_socket_path_allows(tmp_path: Path) -> None:
    deep = ensure_data_dir(tmp_path / ("d" * 60) / ("e" * 60) / "home")
    assert len(str(socket_path(deep))) > 108
    h = Holder(deep)
    try:
        DataDirLock(deep / "hearth.lock").acquire(borrow="hearth say").release()
        _eventually(lambda: h.events == ["lent", "back"])
    finally:
        h.close()
