"""Small questions over a screen: words in an input (enter gives them, escape gives None), and
yes or no (only the yes key says yes). Each use subclasses them to give its keys their ids."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from agent.display import inert

DIALOG_CSS = """
    {name} {{ align: center middle; }}
    {name} > Vertical {{
        width: 76; height: auto; padding: 1 2;
        border: round $primary; background: $surface;
    }}
    {name} Static {{ margin-bottom: 1; }}
"""


class TextDialog(ModalScreen[str | None]):
    """A question and an input holding `text` (drawn with control characters as symbols)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="TextDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, question: str, text: str = "") -> None:
        super().__init__()
        self.question = question
        self.shown = inert(text, line_breaks=False)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, markup=False)
            yield Input(value=self.shown)
        yield Footer()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(self._submitted_text(event.value))

    def _submitted_text(self, value: str) -> str | None:
        """What the input gives back (a subclass may refuse an unchanged text)."""
        return value

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A question (stored text in it is drawn inert) and what a yes does."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="dialog.yes"),
        Binding("n,escape", "answer(False)", "No", id="dialog.no"),
    ]

    def __init__(self, question: str, detail: str) -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(inert(self.question, line_breaks=False)))
            yield Static(self.detail, markup=False)
        yield Footer()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
