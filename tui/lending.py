"""The open chat lends its data dir to `hearth` commands run beside it (memory/lending.py)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from memory.errors import HearthError
from memory.lending import Borrower, Lender, OwnerClosing, socket_path

if TYPE_CHECKING:
    from collections.abc import Callable

    from agent.startup import Home
    from agent.turn import Agent
    from memory.graph.embedder import Embedder
    from memory.graph.store import MemoryStore

T = TypeVar("T")
log = logging.getLogger(__name__)


class LendingChat(Protocol):
    """What the lender needs of the chat app (tui/app.py)."""

    home: Home
    agent: Agent | None
    warm: threading.Event

    def call_from_thread(self, callback: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    def lending_begins(self, borrower: Borrower) -> None:
        """On the UI thread: nothing from now on may wait for the agent (it is about to
        pause), and nothing may read the memory store (it is about to close)."""

    def store_closing(self) -> None:
        """On the UI thread, the agent paused: the store closes now."""

    def lending_ends(
        self, borrower: Borrower, store: MemoryStore | None, error: str | None
    ) -> None:
        """On the UI thread, the agent still paused: the data dir is back (`store` reopened,
        unless memory was off or reopening failed with `error`)."""


def start_lending(chat: LendingChat) -> Lender | None:
    """Serve the data dir's socket while the chat holds it; None where it cannot be served
    (the commands are then refused as before)."""
    if chat.home.lock is None:
        return None
    lender = Lender(socket_path(chat.home.paths.data_dir), lambda b: _lend(chat, b))
    try:
        return lender.start()
    except OSError as exc:
        log.warning("cannot serve %s: %s", lender.path, exc)
        return None


@contextlib.contextmanager
def _lend(chat: LendingChat, borrower: Borrower) -> Iterator[None]:
    chat.warm.wait()  # the model and its memory store finish opening first
    chat.call_from_thread(chat.lending_begins, borrower)
    agent = chat.agent
    # Paused: a turn that is running ends, and its memory write lands, before the hand-over.
    with agent.paused() if agent is not None else contextlib.nullcontext():
        had_store = chat.home.store is not None
        embedder = chat.call_from_thread(_close, chat)
        try:
            yield
        except OwnerClosing:
            return  # the chat is closing: the borrower keeps the data dir
        store, error = None, None
        try:
            store = chat.home.take_back(had_store, embedder)
        except HearthError as exc:
            error = str(exc)
        chat.call_from_thread(chat.lending_ends, borrower, store, error)


def _close(chat: LendingChat) -> Embedder | None:
    chat.store_closing()
    return chat.home.lend()
