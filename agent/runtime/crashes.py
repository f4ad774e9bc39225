"""Noticing that an earlier run died, and saying in one line where and which setting to try."""

from __future__ import annotations

import contextlib
import faulthandler
import fcntl
import logging
import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import IO

from pydantic import BaseModel, ValidationError

from memory.clock import now
from memory.sqlite import full_disk

log = logging.getLogger(__name__)

# Kept open for the life of the process: faulthandler writes through this descriptor when a
# signal kills it, after which no Python code runs.
_fault_file: IO[str] | None = None

# What this process runs ("hearth logs list"), named by the command line: never its arguments.
_run_name = "hearth"

_FATAL = re.compile(r"^Fatal Python error: (.+?)\s*$", re.MULTILINE)
_FRAME = re.compile(r'^\s+File "(.+)", line (\d+) in (.+)$')


class RunMarker(BaseModel):
    """What a running process writes into the data dir's runs/ folder, deleted when it ends."""

    pid: int
    command: str
    started_at: datetime
    log_offset: int
    """hearth.log's size when the run began: a fault stack written later starts past it."""
    extra_buffers: bool
    """Whether llama.cpp's extra buffer types were allowed in this run."""


class Crash(BaseModel):
    """A run that ended without closing: killed by a signal, or the machine stopped."""

    pid: int
    command: str
    started_at: datetime
    fault: str | None
    """faulthandler's name for the signal ("Segmentation fault"), when it wrote one."""
    where: str | None
    """The innermost Python frame of the thread that died, and the first of Hearth's own."""
    log_file: str
    advice: str

    def line(self) -> str:
        when = f"{self.started_at.astimezone():%Y-%m-%d %H:%M}"
        if self.fault is None:
            return (
                f"the last run ({self.command}, pid {self.pid}, {when}) ended without closing "
                f"(killed, or the machine stopped); {self.advice}"
            )
        return (
            f"the last run ({self.command}, pid {self.pid}, {when}) died: {self.fault}"
            f"{f' in {self.where}' if self.where else ''} (stack in {self.log_file}); "
            f"{self.advice}"
        )


def name_runs(command: str) -> None:
    """Name the command this process runs, for its run markers (and so any crash report)."""
    global _run_name
    _run_name = command


def run_name() -> str:
    return _run_name


def enable_fault_log(log_file: Path) -> None:
    """Send faulthandler's stack dump on a fatal signal to `log_file`.

    Left alone when something else already set faulthandler up (pytest, PYTHONFAULTHANDLER):
    their output is where that person looks.
    """
    global _fault_file
    if faulthandler.is_enabled() and _fault_file is None:
        return
    if _fault_file is not None and _fault_file.name == str(log_file):
        return
    try:
        fh = open(log_file, "a", encoding="utf-8")  # noqa: SIM115 - must outlive this call
    except OSError:
        return  # a read-only log: the run goes on, its fatal stack unrecorded
    faulthandler.enable(file=fh, all_threads=True)
    if _fault_file is not None:
        _fault_file.close()
    _fault_file = fh


class RunGuard:
    """This process's marker, flock'ed while it lives: the kernel drops the lock at death."""

    def __init__(self, path: Path, fh: IO[str] | None) -> None:
        self.path = path
        self._fh: IO[str] | None = fh

    @classmethod
    def begin(
        cls, runs_dir: Path, log_file: Path, command: str, *, extra_buffers: bool
    ) -> RunGuard:
        """Write and lock this run's marker. Where it cannot be written (a full disk, a
        read-only data dir) the run goes on unmarked: a reading command must still work."""
        path = runs_dir / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        marker = RunMarker(
            pid=os.getpid(),
            command=command,
            started_at=now(),
            log_offset=_size(log_file),
            extra_buffers=extra_buffers,
        )
        if full_disk(runs_dir) is not None:
            # The run's own error says the disk is full; a marker would take its last bytes.
            return cls(path, None)
        try:
            runs_dir.mkdir(mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            log.warning("no run marker (%s): a crash of this run will not be reported", exc)
            return cls(path, None)
        fh = os.fdopen(fd, "w", encoding="utf-8")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fh.write(marker.model_dump_json())
            fh.flush()
        except OSError as exc:
            log.warning("no run marker (%s): a crash of this run will not be reported", exc)
            # Closing flushes the same unwritten bytes again, and fails the same way.
            with contextlib.suppress(OSError):
                fh.close()
            with contextlib.suppress(OSError):
                path.unlink()
            return cls(path, None)
        return cls(path, fh)

    def end(self) -> None:
        """A clean end: the marker goes, so the next start says nothing."""
        if self._fh is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._fh.close()
        self._fh = None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def past_crashes(runs_dir: Path, log_file: Path) -> list[Crash]:
    """Markers whose process is gone, oldest first; each is reported once and removed."""
    if not runs_dir.is_dir():
        return []
    found: list[Crash] = []
    for path in sorted(runs_dir.glob("*.json")):
        try:
            fh = path.open("r", encoding="utf-8")
        except OSError:
            continue
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # alive: its owner holds the lock
            text = fh.read()
            try:
                path.unlink()
            except FileNotFoundError:
                continue  # another process reported it first
        try:
            marker = RunMarker.model_validate_json(text)
        except ValidationError:
            continue  # cut off while being written: the run had barely started
        found.append(_crash_of(marker, log_file))
    return sorted(found, key=lambda c: c.started_at)


def _crash_of(marker: RunMarker, log_file: Path) -> Crash:
    fault, where = read_fault(_log_since(log_file, marker.log_offset))
    return Crash(
        pid=marker.pid,
        command=marker.command,
        started_at=marker.started_at,
        fault=fault,
        where=where,
        log_file=str(log_file),
        advice=advice(fault, where, extra_buffers=marker.extra_buffers),
    )


def _log_since(log_file: Path, offset: int) -> str:
    try:
        with log_file.open("rb") as fh:
            fh.seek(offset)
            return fh.read(1 << 20).decode("utf-8", errors="replace")
    except OSError:
        return ""


def read_fault(log: str) -> tuple[str | None, str | None]:
    """The signal faulthandler named, and where the dying thread was, from a log's text."""
    match = _FATAL.search(log)
    if match is None:
        return None, None
    frames: list[tuple[str, str, str]] = []
    lines = log[match.end() :].splitlines()
    # "Current thread …" with all_threads=True, "Stack …" without.
    start = next(
        (i for i, line in enumerate(lines) if line.startswith(("Current thread", "Stack ("))),
        None,
    )
    for line in lines[start + 1 :] if start is not None else []:
        if not line.strip():
            break  # the end of the dying thread's stack
        frame = _FRAME.match(line)
        if frame is not None:  # other lines ("  Garbage-collecting") say what it was doing
            frames.append((frame.group(1), frame.group(2), frame.group(3)))
    if not frames:
        return match.group(1), None
    where = _frame(*frames[0])
    own = next((f for f in frames if _is_hearth(f[0])), None)
    if own is not None and own is not frames[0]:
        where += f", called from {_frame(*own)}"
    return match.group(1), where


# Top-level packages a frame is named from: "agent/runtime/backend.py", "llama_cpp/llama.py".
_HEARTH = ("agent", "benchmarks", "memory", "tui")
_PACKAGES = (*_HEARTH, "llama_cpp")


def _frame(file: str, line: str, func: str) -> str:
    parts = Path(file).parts
    start = max((i for i, part in enumerate(parts) if part in _PACKAGES), default=len(parts) - 2)
    return f"{'/'.join(parts[max(start, 0) :])}:{line} ({func})"


def _is_hearth(file: str) -> bool:
    # The innermost known package decides: ~/agent/.venv/…/llama_cpp/llama.py is llama.cpp's.
    packages = [part for part in Path(file).parts[:-1] if part in _PACKAGES]
    return bool(packages) and packages[-1] in _HEARTH


def advice(fault: str | None, where: str | None, *, extra_buffers: bool) -> str:
    """Which setting to try, judged by the signal and whether llama.cpp was running."""
    if fault is None:
        return "nothing to change unless it happens again (then see hearth.log)"
    if "Illegal instruction" in fault:
        return (
            "llama.cpp was built for another CPU: rebuild it with `rm -rf .venv && "
            "scripts/setup` (portable flags)"
        )
    in_model = where is not None and "llama_cpp" in where
    if in_model and extra_buffers:
        return (
            'try model.extra_buffer_types = "off" in config.toml '
            "(or HEARTH_MODEL__EXTRA_BUFFER_TYPES=off)"
        )
    if in_model:
        return (
            "try model.n_threads = 1, and include `hearth models info` with a report "
            "if it happens again"
        )
    return "see the stack in the log; include it with a report if it happens again"
