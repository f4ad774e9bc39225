"""The memory panel's two questions: a memory's new words, and whether to reject it."""

from __future__ import annotations

from textual.binding import Binding

from tui.widgets.dialogs import ConfirmDialog, TextDialog


class EditMemory(TextDialog):
    """A memory's words: enter saves them, escape keeps the old ones (None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="memory_edit.cancel")]

    def __init__(self, text: str) -> None:
        super().__init__("Correct the memory: enter saves, escape cancels.", text)

    def _submitted_text(self, value: str) -> str | None:
        text = value.strip()
        # Unchanged (or emptied) words are no edit: nothing is written.
        return text if text and text != self.shown else None


class ConfirmReject(ConfirmDialog):
    """Whether to reject a memory: y rejects, n or escape keeps it."""

    BINDINGS = [
        Binding("y", "answer(True)", "Reject", id="memory_reject.yes"),
        Binding("n,escape", "answer(False)", "Keep", id="memory_reject.no"),
    ]

    def __init__(self, what: str) -> None:
        super().__init__(
            what,
            "Reject it? It is forgotten, and the same words will not be learned again. "
            "y rejects, n keeps it.",
        )
