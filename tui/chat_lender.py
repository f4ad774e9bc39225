"""The open chat lends its data dir to `hearth` commands beside it (coordination/lending.py)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from textual.message import Message
from textual.worker import Worker

from agent.holding import Borrower, Lender, OwnerClosing, socket_path

if TYPE_CHECKING:
    from agent.startup import Home
    from agent.turn import Agent

log = logging.getLogger(__name__)
_POLL_S = 0.1


class OnUI(Message):
    """Run `call` on the UI thread for the lender, which waits for it (tui/app.py handles it)."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__()
        self.call = call
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.call()
        except BaseException as exc:  # handed to the waiting thread
            self.error = exc
        finally:
            self.done.set()


class LendingChat(Protocol):
    """What the lender needs of the chat app (tui/app.py)."""

    @property
    def home(self) -> Home: ...

    @property
    def agent(self) -> Agent | None: ...

    warm: threading.Event

    def post_message(self, message: Message) -> bool: ...

    def lending_begins(self, borrower: Borrower) -> list[Worker[Any]]:
        """On the UI thread: nothing may wait for the agent from now on (it is about to pause)
        or read the memory store (it is about to close). The workers still reading it."""

    def store_closing(self) -> None:
        """On the UI thread, the agent paused: the store closes now."""

    def lending_ends(self, borrower: Borrower, error: str | None) -> None:
        """On the UI thread: the data dir is back, its memory store reopened (`home.store`)
        unless memory was off or the hand-over or the reopening failed with `error`."""


def start_lending(chat: LendingChat) -> Lender | None:
    """Serve the data dir's socket while the chat holds it; None where it cannot be served
    (the commands are then refused as before)."""
    if chat.home.lock is None:
        return None
    lender: Lender
    lender = Lender(socket_path(chat.home.paths.data_dir), lambda b: _lend(chat, lender, b))
    try:
        return lender.start()
    except OSError as exc:
        log.warning("cannot serve %s: %s", lender.path, exc)
        return None


def _on_ui(chat: LendingChat, lender: Lender, call: Callable[[], Any]) -> Any:
    """`call` run on the UI thread, waited for; OwnerClosing if the chat closes meanwhile (its
    event loop may never run it: waiting on would hang the exit)."""
    message = OnUI(call)
    chat.post_message(message)
    while not message.done.wait(_POLL_S):
        if lender.closing.is_set():
            raise OwnerClosing
    if message.error is not None:
        raise message.error
    return message.result


def _wait(lender: Lender, done: Callable[[], bool]) -> None:
    while not done():
        if lender.closing.is_set():
            raise OwnerClosing
        time.sleep(_POLL_S)


@contextlib.contextmanager
def _lend(chat: LendingChat, lender: Lender, borrower: Borrower) -> Iterator[int]:
    _wait(lender, chat.warm.is_set)  # the model and its memory store finish opening first
    readers: list[Worker[Any]] = _on_ui(chat, lender, lambda: chat.lending_begins(borrower))
    error: str | None = None
    try:
        agent = chat.agent
        # Paused: a turn that is running ends, and its memory write lands, before the hand-over.
        with agent.paused() if agent is not None else contextlib.nullcontext():
            _wait(lender, lambda: all(w.is_finished for w in readers))  # a search in flight
            _on_ui(chat, lender, chat.store_closing)
            yield chat.home.lend()
            try:
                chat.home.take_back()
            except Exception as exc:  # memory stays off; the chat goes on without it
                log.error("memory not reopened after lending: %r", exc)
                error = str(exc) or repr(exc)
    except OwnerClosing:
        return  # the chat is closing: nothing to take back, nobody to tell
    except Exception as exc:  # not handed over: the borrower is told why, the chat too
        error = str(exc) or repr(exc)
        raise
    finally:
        if not lender.closing.is_set():
            chat.post_message(LendingEnded(borrower, error))


class LendingEnded(Message):
    """The data dir is back (or could not be handed over): the chat's views catch up."""

    def __init__(self, borrower: Borrower, error: str | None) -> None:
        super().__init__()
        self.borrower = borrower
        self.error = error
