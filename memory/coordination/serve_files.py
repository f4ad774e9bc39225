"""The token and address of `hearth serve`, kept in the data dir where only its owner reads them."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from pydantic import BaseModel, ValidationError

from memory.errors import StorageError
from memory.settings import Paths

TOKEN_BYTES = 32
MIN_TOKEN_CHARS = 32
"""A token shorter than this (in serve.token) is not one Hearth made: a new one is."""


class ServeAddress(BaseModel):
    """Where a running `hearth serve` listens: written when it starts, removed when it stops."""

    url: str
    pid: int


def serve_token(paths: Paths) -> str:
    """The token every request to this data dir's server carries; made on first use (0600).
    An empty or short one (a file cut short) is made again."""
    path = paths.serve_token
    with contextlib.suppress(FileNotFoundError):
        path.chmod(0o600)  # copied in by hand, it may be readable by others
        token = read_token(path)
        if len(token) >= MIN_TOKEN_CHARS:
            return token
        path.unlink()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
        # Whole or not at all: a reader never sees an empty token. A second server starting
        # at the same moment cannot: it would wait for the data dir's lock.
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc
    return token


def read_token(path: Path) -> str:
    """A token file's first line ("" for an empty one); FileNotFoundError where there is none."""
    words = path.read_text(encoding="utf-8").split()
    return words[0] if words else ""


def publish(paths: Paths, url: str) -> None:
    """Say where this process serves (the local commands find it here)."""
    tmp = paths.serve_address.with_name(f"{paths.serve_address.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(ServeAddress(url=url, pid=os.getpid()).model_dump_json())
    tmp.replace(paths.serve_address)


def withdraw(paths: Paths) -> None:
    """This process no longer serves."""
    with contextlib.suppress(FileNotFoundError):
        found = running(paths)
        if found is None or found.pid == os.getpid():
            paths.serve_address.unlink()


def running(paths: Paths) -> ServeAddress | None:
    """The server running for this data dir, if its process still lives (a killed one leaves
    its file behind)."""
    try:
        found = ServeAddress.model_validate_json(paths.serve_address.read_bytes())
    except (OSError, ValidationError):
        return None
    try:
        os.kill(found.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, someone else's: the URL still says where to ask
    return found
