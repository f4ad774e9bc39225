"""The chat input: a multi-line TextArea where enter sends and a remappable key adds a newline."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class ChatInput(TextArea):
    """Enter submits; `chat.newline` (ctrl+j by default, remappable) inserts a newline."""

    BINDINGS = [Binding("ctrl+j", "newline", "Newline", id="chat.newline", show=False)]

    class Submitted(Message):
        """The user pressed enter on a non-empty input."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.post_message(self.Submitted(text))
                self.clear()
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        self.insert("\n")
