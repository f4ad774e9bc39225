"""The chat's status line: the model, the context and speed of the last reply, the session."""

from __future__ import annotations

from textual.widgets import Static

OFF_RECORD_MARK = "off the record"


class StatusLine(Static):
    """One line under the input; its parts are set by the chat, then `show` draws them."""

    def __init__(self) -> None:
        super().__init__(id="status", markup=False)  # the model's name comes from its file
        self.where = ""
        """Where the chat runs when not here (a server's URL)."""
        self.model = "loading model…"
        self.ctx = ""
        self.speed = ""

    def show(self, *, memory_on: bool, session_id: int | None, lent_to: str | None) -> None:
        parts = [self.where, self.model, self.ctx, self.speed]
        if not memory_on:
            parts.append(OFF_RECORD_MARK)
        parts.append(f"session {session_id}" if session_id is not None else "new session")
        if lent_to is not None:
            parts.append(f"memory lent to {lent_to}")
        self.update(" · ".join(p for p in parts if p))
