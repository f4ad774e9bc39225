"""A restore's swap of files in the data dir: recorded in a marker first, so a crash half-way is
rolled back at the next start and the data dir is left as it was before the restore."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path

from pydantic import BaseModel, ValidationError

from memory import faults

MARKER = "restore-swap.json"
log = logging.getLogger(__name__)


class Swap(BaseModel):
    """What a swap moves, by name: `moved` from the data dir into `aside`, then `placed` from
    `staged` into the data dir."""

    staged: str
    aside: str
    moved: list[str]
    placed: list[str]


def _sync_dir(path: Path) -> None:
    """A rename is durable once its folder is synced."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_marker(data_dir: Path, swap: Swap) -> None:
    marker = data_dir / MARKER
    partial = data_dir / f"{MARKER}.partial"
    with partial.open("w", encoding="utf-8") as fh:
        fh.write(swap.model_dump_json())
        fh.flush()
        os.fsync(fh.fileno())
    partial.chmod(0o600)
    os.replace(partial, marker)
    _sync_dir(data_dir)


def swap(data_dir: Path, staged: Path, aside: Path, moved: list[str], placed: list[str]) -> None:
    """Move `moved` into `aside` (a new folder), then `placed` from `staged` into the data dir.
    Any error rolls it back before it is raised; a crash is rolled back by `roll_back`."""
    plan = Swap(staged=staged.name, aside=aside.name, moved=moved, placed=placed)
    _write_marker(data_dir, plan)
    try:
        aside.mkdir(mode=0o700)
        for name in moved:
            (data_dir / name).rename(aside / name)
        for n, name in enumerate(placed):
            (staged / name).rename(data_dir / name)
            if n == 0:
                faults.reached("mid-restore-swap")
        _sync_dir(data_dir)
    except BaseException:
        roll_back(data_dir)
        raise
    (data_dir / MARKER).unlink()
    _sync_dir(data_dir)
    shutil.rmtree(staged, ignore_errors=True)


def roll_back(data_dir: Path) -> bool:
    """Undo a swap its marker says was not finished: the restored files go back to the staged
    folder (then removed), the moved ones back in place. True when there was one.

    Called under the data dir lock (no restore is running then)."""
    marker = data_dir / MARKER
    if not marker.exists():
        return False
    try:
        plan = Swap.model_validate_json(marker.read_bytes())
    except (OSError, ValidationError):
        log.error("the restore marker %s cannot be read; left for a person to look at", marker)
        return False
    staged, aside = data_dir / plan.staged, data_dir / plan.aside
    for name in plan.placed:
        here = data_dir / name
        # Placed only when the staged copy is gone; a file of the same name still in staged
        # means the current one was never replaced.
        if here.exists() and staged.exists() and not (staged / name).exists():
            here.rename(staged / name)
    for name in plan.moved:
        if (aside / name).exists() and not (data_dir / name).exists():
            (aside / name).rename(data_dir / name)
    _sync_dir(data_dir)
    marker.unlink()
    _sync_dir(data_dir)
    shutil.rmtree(staged, ignore_errors=True)
    with contextlib.suppress(OSError):
        aside.rmdir()  # only when empty: everything went back
    log.warning("rolled back a restore that stopped half-way (%s)", plan.staged)
    return True


def settle(data_dir: Path, lock_file: Path) -> bool:
    """At a start: roll back a restore that stopped half-way, unless another Hearth holds the
    data dir (it may be that very restore, still running). True when one was rolled back."""
    from memory.coordination.lock import DataDirLock
    from memory.errors import DataDirLockedError

    if not (data_dir / MARKER).exists():
        return False
    try:
        lock = DataDirLock(lock_file).acquire()
    except DataDirLockedError:
        return False
    try:
        return roll_back(data_dir)
    finally:
        lock.release()
