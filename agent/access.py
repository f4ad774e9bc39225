"""How a command reaches the data dir, decided in one place: a Hearth serving it, or opened here.

Three ways, one answer. With --connect URL (or remote.url) a command goes through the Hearth
served there; else through the `hearth serve` running for this data dir, if one does (its model
and embedder are loaded: seconds saved); else it opens the data dir itself, and a command that
writes borrows it from the chat or server holding it (memory/coordination/lending.py). A
command parses its arguments, calls `reach` (or `opened`, where it only ever works here), and
prints what it gets back: a `Client`, or `Here`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from agent.serving.client import Client, Remote
    from agent.startup import Home
    from memory.graph.store import MemoryStore
    from memory.settings import Paths, Settings

T = TypeVar("T")
BUSY_NOTE = "hearth serve is busy and did not answer in 2 s; read from the data dir here"
BUSY_NOTE = "hearth serve is busy and did not answer in 2 s; read from the data dir here"


@dataclass
class Here:
    """The data dir opened by this command: its own, or borrowed from the chat or server that
    holds it (`borrowed`). `store`: the memory store, where the command asked for it."""

    home: Home
    store: MemoryStore | None = None

    @property
    def borrowed(self) -> bool:
        """Held on loan from the open chat or server, which takes it back when this ends."""
        return self.home.lock is not None and self.home.lock.borrowed

    @property
    def memory(self) -> MemoryStore:
        """The memory store asked for (`store=True`)."""
        if self.store is None:
            raise RuntimeError("the memory store was not opened (store=True)")
        return self.store


def scratch_home(paths: Paths, settings: Settings) -> Home:
    """A data dir made for the occasion (a bench's temporary one) opened: private, no lock, its
    journal open, nothing loaded."""
    from agent.startup import Home
    from memory.datadir import ensure_data_dir
    from memory.journal.journal import Journal

    ensure_data_dir(paths.data_dir)
    return Home(paths=paths, settings=settings, journal=Journal(paths.journal))


def read_store(home: Home, *, verify_embedder: bool = True) -> MemoryStore:
    """The memory store of an opened data dir, read-only (beside a command that holds the lock
    for its journal: measuring, scoring); the caller closes it."""
    from memory.graph.store import MemoryStore

    return MemoryStore.open(home.paths, home.settings, write=False, verify_embedder=verify_embedder)


def model_overrides(model: Path | None) -> dict[str, Any]:
    """Settings overrides for a --model option: none when it is not given. A GGUF named on the
    command line is loaded here, whatever model.backend says."""
    return {"model": {"path": model, "backend": "llama-cpp"}} if model is not None else {}


def server(connect: str | None, *, here: bool = True) -> Remote | None:
    """The Hearth server a command goes through: --connect URL (or remote.url), else (with
    `here`) the one serving this data dir, if one runs; None: the command opens the data dir
    itself (borrowing it from a chat or server that holds it)."""
    from memory.coordination.serve_files import running
    from memory.settings import load_settings, resolve_paths

    paths = resolve_paths()
    settings = load_settings(paths)
    url = connect or settings.remote.url
    if not url and not (here and running(paths) is not None):
        # No server to ask: the client (and httpx under it, a tenth of a second) stays unloaded.
        return None
    from agent.serving.client import local, remote

    if url:
        return remote(url, settings.remote)
    return local(paths, settings.remote)


def remote_asked(connect: str | None) -> bool:
    """A Hearth elsewhere was asked for (--connect URL, or remote.url set)."""
    from memory.settings import load_settings, resolve_paths

    return bool(connect or load_settings(resolve_paths()).remote.url)


@contextlib.contextmanager
def opened(
    *,
    write: bool = False,
    store: bool = False,
    model: Path | None = None,
    borrow: bool = True,
    purge_off_record: bool = True,
    verify_embedder: bool = True,
) -> Iterator[Here]:
    """The data dir opened here: read-only, or (`write`) under its lock, borrowed from the chat
    or server holding it unless `borrow` is False (a long-running process never borrows).
    `store`: the memory store too (for writing when `write`); `model`: a GGUF to load instead
    of the configured one. Everything is closed when the block ends."""
    from agent.startup import open_home

    home = open_home(
        model_overrides(model),
        write_lock=write,
        borrow=write and borrow,
        purge_off_record=purge_off_record,
    )
    try:
        if not store:
            yield Here(home)
            return
        from memory.graph.store import MemoryStore

        memories = MemoryStore.open(
            home.paths,
            home.settings,
            write=write,
            lock=home.lock,
            verify_embedder=verify_embedder,
        )
        try:
            yield Here(home, memories)
        finally:
            memories.close()
    finally:
        home.close()


@contextlib.contextmanager
def reach(
    connect: str | None = None,
    *,
    write: bool = False,
    store: bool = False,
    model: Path | None = None,
    served_here: bool = True,
    borrow: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Client | Here]:
    """What a command works with: a `Client` of the Hearth serving this data dir (or the one at
    --connect URL, remote.url), else the data dir opened `Here` (see `opened`). With a --model
    the data dir is opened here (a server chats with its own model); `served_here` False skips
    this machine's server (for what only runs where the data dir is). `on_wait`: told when a
    busy server keeps a write waiting."""
    found = server(connect, here=served_here) if model is None else None
    if found is not None:
        from agent.serving.client import Client

        with Client(found, on_wait=on_wait) as client:
            yield client
        return
    with opened(write=write, store=store, model=model, borrow=borrow) as here:
        yield here


def read(
    connect: str | None,
    through: Callable[[Client], T],
    here: Callable[[Here], T],
    *,
    on_busy: Callable[[str], None] | None = None,
) -> T:
    """A read, through the Hearth a command goes through (`server`) or, with none, from the data
    dir opened here (read-only, its memory store open). This machine's server busy for more
    than 2 s: read here instead, and `on_busy` says so."""
    from agent.serving.client import Busy, Client

    found = server(connect)
    if found is not None:
        with Client(found, on_wait=on_busy) as client:
            try:
                return through(client)
            except Busy:
                if on_busy is not None:
                    on_busy(BUSY_NOTE)
    with opened(store=True) as opened_here:
        return here(opened_here)
