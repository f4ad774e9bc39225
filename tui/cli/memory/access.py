"""How a `hearth memory` command reaches memory: the data dir's store or a Hearth serving it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from tui.cli.options import server_for
from tui.cli.output import note

if TYPE_CHECKING:
    from agent.serving.client import Client
    from agent.startup import Home
    from memory.graph.store import MemoryStore


T = TypeVar("T")


@contextlib.contextmanager
def memory_store(
    *, write: bool, verify_embedder: bool = True
) -> Iterator[tuple[Home, MemoryStore]]:
    """The data dir and the memory store; write commands hold the data dir lock."""
    from agent.startup import open_home
    from memory.graph.store import MemoryStore

    home = open_home(write_lock=write, borrow=write)
    try:
        store = MemoryStore.open(
            home.paths,
            home.settings,
            write=write,
            lock=home.lock,
            verify_embedder=verify_embedder,
        )
        try:
            yield home, store
        finally:
            store.close()
    finally:
        home.close()


def remote(connect: str | None, *, served_here: bool = True) -> Client | None:
    """The Hearth a command goes through: the one elsewhere (--connect URL, remote.url), else
    the `hearth serve` running for this data dir (its embedder is loaded: seconds saved),
    unless `served_here` is False; None: the command opens the data dir itself (borrowing it
    from a chat or server holding it)."""
    from agent.serving.client import Client

    server = server_for(connect, here=served_here)
    return None if server is None else Client(server, on_wait=note)


def read_through(connect: str | None, read: Callable[[Client], T]) -> T | None:
    """A read through the Hearth a command goes through (`remote`); None: read here, with
    no server, or when this machine's server has not answered in 2 s (one note says so)."""
    from agent.serving.client import Busy

    if (client := remote(connect)) is None:
        return None
    with client:
        try:
            return read(client)
        except Busy:
            note("hearth serve is busy and did not answer in 2 s; read from the data dir here")
            return None
