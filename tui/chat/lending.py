"""The lending handshake as the chat takes part in it: a local chat lends its data dir to the
`hearth` commands run beside it (tui/chat_lender.py), and its views catch up when it is back."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.worker import Worker

from agent.holding import Borrower, Lender
from agent.local_conversation import LocalConversation
from tui.chat.host import ChatHost
from tui.chat_lender import LendingEnded, OnUI


def borrower_name(borrower: Borrower) -> str:
    return borrower.command + (f" (pid {borrower.pid})" if borrower.pid else "")


class LendingHost(ChatHost):
    """Lends the data dir while the chat holds it (a served chat holds none)."""

    lender: Lender | None
    lent_to: Borrower | None
    """The command the data dir is lent to, while it is."""
    _store_readers: tuple[type[Screen[Any]], ...] = ()
    """Screens that read the store directly: closed when the store is lent."""

    def lent(self) -> bool:
        """While the data dir is lent, what waits for the agent or reads memory waits: say so."""
        if self.lent_to is None:
            return False
        self.notify(f"Wait a moment: {borrower_name(self.lent_to)} is using the memory.")
        return True

    def lending_begins(self, borrower: Borrower) -> list[Worker[Any]]:
        self.lent_to = borrower
        self.lent_to_name = borrower_name(borrower)
        while any(isinstance(s, self._store_readers) for s in self.screen_stack):
            self.pop_screen()  # it reads the store, which closes
        self.refresh_status()
        # A search started on the memory screen runs on in its thread: the store waits for it.
        return [w for w in self.workers if w.group == "memory-search" and not w.is_finished]

    def store_closing(self) -> None:
        if isinstance(self.conversation, LocalConversation):
            self.conversation.store_lent()
        self.show_memory_for(self.log_view.last_reply_id())

    def lending_ends(self, borrower: Borrower, error: str | None) -> None:
        self.lent_to = None
        self.lent_to_name = None
        if isinstance(self.conversation, LocalConversation):
            self.conversation.store_back()
        if error is not None:
            self.notify(f"Memory is off until Hearth restarts: {error}", severity="error")
        # What the command said or changed, unless a turn is on its way (its views would go).
        if self.session_id is not None and not (self.generating or self.pending):
            self.show_path(self.view_head)
        self.refresh_status()
        self.refresh_welcome()
        self.show_memory_for(self.log_view.last_reply_id())

    def on_on_ui(self, message: OnUI) -> None:
        message.run()

    def on_lending_ended(self, message: LendingEnded) -> None:
        self.lending_ends(message.borrower, message.error)
