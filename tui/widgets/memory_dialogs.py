"""The memory panel's two questions: a memory's new words, and whether to reject it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from memory.controls import inert

DIALOG_CSS = """
    {name} {{ align: center middle; }}
    {name} > Vertical {{
        width: 70; height: auto; padding: 1 2;
        border: round $primary; background: $surface;
    }}
    {name} Static {{ margin-bottom: 1; }}
"""


class EditMemory(ModalScreen[str | None]):
    """A memory's words in an input: enter saves them, escape keeps the old ones (None)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="EditMemory")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="memory_edit.cancel")]

    def __init__(self, text: str) -> None:
        super().__init__()
        # Control characters as symbols: the input draws what it holds.
        self.shown = inert(text, line_breaks=False)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Correct the memory: enter saves, escape cancels.", markup=False)
            yield Input(value=self.shown, id="memory-edit-input")

    @on(Input.Submitted)
    def _save(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        # Unchanged (or emptied) words are no edit: nothing is written.
        self.dismiss(text if text and text != self.shown else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmReject(ModalScreen[bool]):
    """Whether to reject a memory: y rejects, n or escape keeps it."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmReject")
    BINDINGS = [
        Binding("y", "answer(True)", "Reject", id="memory_reject.yes"),
        Binding("n,escape", "answer(False)", "Keep", id="memory_reject.no"),
    ]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(inert(self.what, line_breaks=False)))
            yield Static(
                "Reject it? It is forgotten, and the same words will not be learned again. "
                "y rejects, n keeps it.",
                markup=False,
            )

    def action_answer(self, reject: bool) -> None:
        self.dismiss(reject)
